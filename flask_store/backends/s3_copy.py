"""Copying an object on S3 itself, never over another.

The copy is a multipart upload whose parts S3 copies from the source
(``UploadPartCopy``), so no byte passes through the app, completed with the
write condition every Flask-Store write carries (``If-None-Match: *`` on
``CompleteMultipartUpload``): a taken name answers 412 and nothing is
replaced. Each part names the source's ETag (``CopySourceIfMatch``), so a
source rewritten during the copy fails it instead of mixing two versions.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..metadata import FileMetadata
from .s3_client import UPLOAD_TOKEN, BotoCoreError, ClientError, error_code, translate
from .s3_conditional import TAKEN

if TYPE_CHECKING:
    from .s3 import S3Backend

log = logging.getLogger("flask_store.providers.s3")

#: The largest part S3 copies in one request (5 GiB).
MAX_PART = 5 * 1024**3

#: What a server without part copies answers.
UNSUPPORTED = frozenset({"NotImplemented", "501"})


class CopyUnsupported(Exception):
    """The server cannot copy parts; copy through the app instead."""


def copy_object(
    backend: S3Backend, source: str, key: str, head: dict[str, Any]
) -> bool:
    """Copy the object ``source`` (as ``head`` described it) to ``key``.

    False when ``key`` is taken (nothing written); :class:`CopyUnsupported`
    when the server cannot copy parts.
    """
    client, bucket = backend.client, backend.bucket
    # The same bytes: the source's type by content and its recorded metadata
    # (SHA-256, uploaded name, image size) hold for the copy. S3 checks no
    # whole-object checksum of a part copy, so none is sent.
    known = FileMetadata.from_s3_head(head)
    renamed = known.renamed(key.rpartition("/")[2])
    extra = backend.upload_args(key, replace(renamed, sha256=None))
    extra["Metadata"] = {
        **head.get("Metadata", {}),
        UPLOAD_TOKEN: secrets.token_hex(16),
    }
    try:
        upload_id = client.create_multipart_upload(Bucket=bucket, Key=key, **extra)[
            "UploadId"
        ]
    except ClientError as exc:
        if error_code(exc) in UNSUPPORTED:
            raise CopyUnsupported from exc
        raise translate(exc, key, "copy") from exc
    except BotoCoreError as exc:
        raise translate(exc, key, "copy") from exc
    completed = False
    try:
        parts: list[Any] = []
        size = int(head["ContentLength"])
        for number, start in enumerate(range(0, size, MAX_PART), start=1):
            end = min(start + MAX_PART, size) - 1
            copied = client.upload_part_copy(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                CopySource={"Bucket": bucket, "Key": source},
                CopySourceIfMatch=head["ETag"],
                CopySourceRange=f"bytes={start}-{end}",
            )
            parts.append(
                {"PartNumber": number, "ETag": copied["CopyPartResult"]["ETag"]}
            )
        try:
            client.complete_multipart_upload(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except ClientError as exc:
            if error_code(exc) in TAKEN:
                return False
            raise
        completed = True
        written = client.head_object(Bucket=bucket, Key=key)
        if written["ContentLength"] != size:
            # A server that answers part copies without making them (s3rver
            # copies a stale version): drop ours, copy through the app.
            client.delete_object(Bucket=bucket, Key=key)
            raise CopyUnsupported
        return True
    except ClientError as exc:
        if error_code(exc) in UNSUPPORTED:
            raise CopyUnsupported from exc
        raise translate(exc, source, "copy") from exc
    except BotoCoreError as exc:
        raise translate(exc, source, "copy") from exc
    finally:
        if not completed:
            _abort(backend, key, upload_id)


def _abort(backend: S3Backend, key: str, upload_id: str) -> None:
    """Abort the copy's multipart upload, so S3 drops its parts."""
    try:
        backend.client.abort_multipart_upload(
            Bucket=backend.bucket, Key=key, UploadId=upload_id
        )
    except (ClientError, BotoCoreError) as exc:
        log.warning(
            "Could not abort the multipart copy to %r (upload %s): %s; its parts "
            "stay on S3 until a lifecycle rule aborts it.",
            key,
            upload_id,
            exc,
        )
