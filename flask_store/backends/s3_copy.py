"""Copying an object inside a bucket: one CopyObject, never over a key."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..exceptions import UploadFailed
from .s3_client import BotoCoreError, ClientError, error_code
from .s3_conditional import TAKEN

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

#: The largest object one CopyObject copies (S3's limit).
MAX_COPY_SIZE = 5 * 1024**3

#: What a server answers a CopyObject whose ``If-None-Match`` it does not take.
CONDITION_REJECTED = frozenset(
    {"NotImplemented", "501", "InvalidArgument", "InvalidRequest"}
)


def copy_object(
    client: S3Client,
    source: dict[str, str],
    key: str,
    extra: dict[str, Any],
    conditional: bool,
) -> bool:
    """Copy ``source`` (``{"Bucket", "Key"}``) to ``key`` in the same bucket.

    ``extra`` are the new object's arguments (Content-Type, ACL...), set anew
    rather than copied. With ``conditional``, the copy carries
    ``If-None-Match: *``; False when the server found ``key`` taken, and a
    server that refuses the header gets the copy without it.

    :raises UploadFailed: when the copy failed otherwise.
    """
    arguments = dict(extra)
    if conditional:
        arguments["IfNoneMatch"] = "*"
    try:
        client.copy_object(
            Bucket=source["Bucket"],
            Key=key,
            CopySource=source,  # type: ignore[arg-type]
            MetadataDirective="REPLACE",
            **arguments,
        )
    except ClientError as exc:
        code = error_code(exc)
        if conditional and code in TAKEN:
            return False
        if conditional and code in CONDITION_REJECTED:
            return copy_object(client, source, key, extra, conditional=False)
        raise UploadFailed(f"Copying to {key!r} on S3 failed: {exc}") from exc
    except BotoCoreError as exc:
        raise UploadFailed(f"Copying to {key!r} on S3 failed: {exc}") from exc
    return True
