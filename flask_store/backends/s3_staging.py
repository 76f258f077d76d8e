"""The hidden prefix browsers upload to directly, and what they leave there.

A direct upload (:mod:`flask_store.direct.s3`) goes to a key under
``STORE_PATH/.flask-store-uploads/`` first and is moved to its final name
once the app has checked it. An upload nobody confirmed stays there, and a
multipart upload nobody completed keeps its parts on S3: ``flask store
cleanup`` deletes and aborts them once they are older than its grace period.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from .. import names
from .base import Leftover
from .s3_client import BotoCoreError, ClientError, error_code, translate
from .s3_listing import objects

if TYPE_CHECKING:
    from .s3 import S3Backend

#: The hidden folder, under ``STORE_PATH``, that browsers upload to.
STAGING = ".flask-store-uploads"

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
        Bucket=backend.bucket, Prefix=prefix
    )
    try:
        for page in pages:
            for upload in page.get("Uploads", []):
                if upload["Initiated"] <= cutoff:
                    yield Leftover(
                        f"{upload['Key']}?uploadId={upload['UploadId']}",
                        UNFINISHED,
                        0,
                        upload["Initiated"],
                        "abort",
                    )
    except ClientError as exc:
        if error_code(exc) == "NotImplemented":
            return  # a server without multipart listings has none to show
        raise translate(exc, prefix, "list") from exc
    except BotoCoreError as exc:
        raise translate(exc, prefix, "list") from exc


def clean(backend: S3Backend, leftover: Leftover) -> str:
    """Abort an unfinished multipart upload, or delete an unconfirmed object
    unless it was written again since it was found."""
    key, _, upload_id = leftover.path.partition("?uploadId=")
    if not key.startswith(staging_prefix(backend)):
        raise ValueError(f"{leftover.path} is not a direct upload of this store.")
    client, bucket = backend.client, backend.bucket
    try:
        if leftover.kind == UNFINISHED:
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
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
