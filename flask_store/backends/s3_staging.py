"""What direct uploads from browsers leave behind, and how it is swept.

A presigned POST (:mod:`flask_store.direct.s3`) goes to a key under
``STORE_PATH/.flask-store-uploads/`` first and is moved to its final name
once the app has checked it; one nobody confirmed stays there. A multipart
upload goes to its final name, held meanwhile by a pending placeholder
marked as a direct upload's; one nobody completed keeps its parts on S3 and
its name. ``flask store cleanup`` deletes the first and aborts the second,
giving its name back, once they are older than its grace period.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from .. import names
from .base import Leftover
from .s3_client import PENDING, BotoCoreError, ClientError, error_code, translate
from .s3_listing import objects

if TYPE_CHECKING:
    from .s3 import S3Backend

#: The hidden folder, under ``STORE_PATH``, that browsers upload to.
STAGING = ".flask-store-uploads"

#: In a placeholder's metadata: the name is held for a browser's upload.
DIRECT_MARK = "flask-store-direct"

UNCONFIRMED = "unconfirmed direct upload"
UNFINISHED = "unfinished multipart upload"
KINDS = frozenset({UNCONFIRMED, UNFINISHED})


def staging_prefix(backend: S3Backend) -> str:
    return names.join_key(backend.prefix, STAGING) + "/"


def leftovers(backend: S3Backend, older_than: timedelta) -> Iterator[Leftover]:
    """Direct uploads never confirmed and multipart uploads never completed."""
    cutoff = datetime.now(timezone.utc) - older_than
    prefix = staging_prefix(backend)
    for obj in objects(backend.client, backend.bucket, prefix):
        if obj["LastModified"] <= cutoff:
            yield Leftover(
                obj["Key"], UNCONFIRMED, obj["Size"], obj["LastModified"], "delete"
            )
    pages = backend.client.get_paginator("list_multipart_uploads").paginate(
        Bucket=backend.bucket, Prefix=backend.prefix + "/" if backend.prefix else ""
    )
    try:
        for page in pages:
            for upload in page.get("Uploads", []):
                if upload["Initiated"] <= cutoff and _direct(backend, upload["Key"]):
                    yield Leftover(
                        f"{upload['Key']}?uploadId={upload['UploadId']}",
                        UNFINISHED,
                        0,
                        upload["Initiated"],
                        "abort, and give its name back",
                    )
    except ClientError as exc:
        if error_code(exc) == "NotImplemented":
            return  # a server without multipart listings has none to show
        raise translate(exc, prefix, "list") from exc
    except BotoCoreError as exc:
        raise translate(exc, prefix, "list") from exc


def _direct(backend: S3Backend, key: str) -> bool:
    """Whether ``key`` is held by a direct upload's placeholder."""
    try:
        head = backend.client.head_object(Bucket=backend.bucket, Key=key)
    except (ClientError, BotoCoreError):
        return False
    metadata = head.get("Metadata", {})
    return PENDING in metadata and DIRECT_MARK in metadata


def clean(backend: S3Backend, leftover: Leftover) -> str:
    """Abort an unfinished multipart upload, or delete an unconfirmed object
    unless it was written again since it was found."""
    key, _, upload_id = leftover.path.partition("?uploadId=")
    unfinished = leftover.kind == UNFINISHED
    if not (
        _direct(backend, key) if unfinished else key.startswith(staging_prefix(backend))
    ):
        raise ValueError(f"{leftover.path} is not a direct upload of this store.")
    client, bucket = backend.client, backend.bucket
    try:
        if unfinished:
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            if _direct(backend, key):  # still the placeholder: free the name
                client.delete_object(Bucket=bucket, Key=key)
            return "aborted"
        head = client.head_object(Bucket=bucket, Key=key)
        if head["LastModified"] > leftover.modified:
            return "kept (written since)"
        client.delete_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if error_code(exc) in ("404", "NoSuchKey", "NoSuchUpload", "NotFound"):
            return "already gone"
        raise translate(exc, key, "delete") from exc
    except BotoCoreError as exc:
        raise translate(exc, key, "delete") from exc
    return "deleted"
