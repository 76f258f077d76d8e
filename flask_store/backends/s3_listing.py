"""Listing a bucket's keys as folders and files: the reads S3 listings need.

Plain functions over a boto3 client, so the backend's listing, file walk
and folder pruning share one reading of ``ListObjectsV2`` (folder markers
are keys ending in ``/``; a folder is a common prefix).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .. import names
from .listing import FolderPage, PageQuery, StoredFile, matches, select_page
from .s3_client import LAST_CHAR, BotoCoreError, ClientError, translate

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def page(
    client: S3Client, bucket: str, root: str, location: str, query: PageQuery
) -> FolderPage:
    """One page of ``location`` under the key prefix ``root``, sorted as asked.

    S3 lists keys in key order only: any other order reads the folder's
    entries first, at most ``query.scan_limit`` of them; past that, the
    first page in key order is given instead (its ``sort`` is ``"name"``).
    """
    if query.by_name:
        return key_order_page(client, bucket, root, location, query)
    scanned = _scan(client, bucket, root, location, query)
    if scanned is None:
        by_name = PageQuery(limit=query.limit, contains=query.contains)
        return key_order_page(client, bucket, root, location, by_name)
    entries, seen = scanned
    result = select_page(entries, query)
    result.missing = not seen
    return result


def _scan(
    client: S3Client, bucket: str, root: str, location: str, query: PageQuery
) -> tuple[list[StoredFile], bool] | None:
    """Every entry of ``location`` and whether any key is under it, or ``None``
    when it has more than ``query.scan_limit`` entries."""
    folder = names.join_key(root, location)
    prefix = folder + "/" if folder else ""
    bound = query.scan_limit
    found: list[StoredFile] = []
    seen = not folder
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, Delimiter="/"
    )
    try:
        for listed in pages:
            common = [p["Prefix"] for p in listed.get("CommonPrefixes", [])]
            objects = listed.get("Contents", [])
            seen = seen or bool(common or objects)
            for key in common:
                name = key[len(prefix) :].rstrip("/")
                if not _hidden(name) and matches(name, query.contains):
                    found.append(
                        StoredFile(names.join_key(location, name), is_folder=True)
                    )
            for obj in objects:
                name = obj["Key"][len(prefix) :]
                if name and not _hidden(name) and matches(name, query.contains):
                    found.append(
                        StoredFile(
                            names.join_key(location, name),
                            size=obj["Size"],
                            modified=obj["LastModified"],
                            version=obj.get("ETag"),
                        )
                    )
            if bound is not None and len(found) > bound:
                return None
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, prefix, "list") from exc
    return found, seen


def key_order_page(
    client: S3Client, bucket: str, root: str, location: str, query: PageQuery
) -> FolderPage:
    """One page of ``location`` under the key prefix ``root``, in key order.

    A folder sorts as its name plus ``/`` and its ``next_after`` ends with
    ``/``; pass ``next_after`` back unchanged. Without ``contains`` one
    request of about ``limit`` keys is made; S3 cannot filter by substring,
    so with ``contains`` the folder is scanned 1000 keys per request until
    the page is full: slow for folders with many keys.
    """
    folder = names.join_key(root, location)
    prefix = folder + "/" if folder else ""
    request: dict[str, Any] = {
        "Bucket": bucket,
        "Prefix": prefix,
        "Delimiter": "/",
        # +2: room for the folder's own marker and one entry to tell
        # whether a next page exists.
        "MaxKeys": 1000 if query.contains else min(query.limit + 2, 1000),
    }
    if query.after:
        after = query.after
        start = after + LAST_CHAR if after.endswith("/") else after
        request["StartAfter"] = prefix + start
    found: list[tuple[str, StoredFile]] = []
    seen = not folder
    while len(found) <= query.limit:
        try:
            response = client.list_objects_v2(**request)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, prefix, "list") from exc
        keyed: list[tuple[str, StoredFile | None]] = [
            (p["Prefix"], None) for p in response.get("CommonPrefixes", [])
        ]
        seen = seen or bool(keyed or response.get("Contents"))
        for obj in response.get("Contents", []):
            keyed.append(
                (
                    obj["Key"],
                    StoredFile(
                        names.join_key(location, obj["Key"][len(prefix) :]),
                        size=obj["Size"],
                        modified=obj["LastModified"],
                        version=obj.get("ETag"),
                    ),
                )
            )
        for key, entry in sorted(keyed, key=lambda item: item[0]):
            name = key[len(prefix) :].rstrip("/")
            if not name or _hidden(name) or not matches(name, query.contains):
                continue  # the folder's marker, hidden, or filtered out
            if entry is None:
                entry = StoredFile(names.join_key(location, name), is_folder=True)
            found.append((name + "/" if entry.is_folder else name, entry))
        if not response.get("IsTruncated"):
            break
        request["ContinuationToken"] = response["NextContinuationToken"]
    more = len(found) > query.limit
    return FolderPage(
        [entry for _, entry in found[: query.limit]],
        found[query.limit - 1][0] if more else None,
        # Past the first page, the folder's marker may sort before the
        # cursor: a folder that was listed once is not reported missing.
        missing=not seen and not query.after,
    )


def objects(client: S3Client, bucket: str, prefix: str) -> Iterator[Any]:
    """Every object under ``prefix``, page by page; errors translated."""
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix
    )
    try:
        for listed in pages:
            yield from listed.get("Contents", [])
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, prefix, "list") from exc


def files(
    client: S3Client, bucket: str, root: str, location: str
) -> Iterator[StoredFile]:
    """Every file under ``location`` (all depths), relative to ``root``.

    Hidden paths (a segment starting with a dot, such as the staging area of
    direct uploads) are left out, as on local disk.
    """
    folder = names.join_key(root, location)
    skip = len(root) + 1 if root else 0
    for obj in objects(client, bucket, folder + "/" if folder else ""):
        path = obj["Key"][skip:]
        if not obj["Key"].endswith("/") and not _hidden(path):
            yield StoredFile(
                path,
                size=obj["Size"],
                modified=obj["LastModified"],
                version=obj.get("ETag"),
            )


def _hidden(path: str) -> bool:
    """Whether ``path`` is in a hidden folder or names a hidden file.

    ``.`` and ``..`` segments, in keys another tool wrote, are spellings of
    a path, not hidden names: such keys are listed and walked, so the admin
    and ``flask store orphans`` show them as needing attention.
    """
    return any(
        names.is_hidden_name(part) and part not in (".", "..")
        for part in path.split("/")
    )
