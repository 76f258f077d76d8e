"""Writing a new object on S3 without ever replacing one.

Every new object goes through :func:`first_free` (files, copies; a file is
written by :func:`upload`) or :func:`write_marker` (folder markers): where the server honours
``If-None-Match``, the write's condition decides; where it does not, the key
is reserved for this host's writes (:mod:`.s3_locks`) and looked up before
it is written. Either way a key another save of this process is still
writing (a background upload's placeholder) is skipped.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, cast

from ..exceptions import StoredFileNotFound, UploadFailed
from .base import first_free as first_candidate
from .s3_client import (
    UPLOAD_TOKEN,
    BotoCoreError,
    ClientError,
    KeepOpen,
    error_code,
    retried,
    translate,
)
from .s3_conditional import TAKEN
from .s3_locks import reservations

if TYPE_CHECKING:
    from boto3.s3.transfer import TransferConfig

    from ..metadata import FileMetadata
    from .s3 import S3Backend


def first_free(
    backend: S3Backend, candidates: Sequence[str], attempt: Callable[[str], bool]
) -> str:
    """The first candidate that ``attempt(key)`` wrote without replacing a file.

    ``attempt`` must write with the write condition (it returns False when
    S3 answers that the name is taken).
    """
    honoured = backend._honoured(candidates)
    locks = None if honoured else backend.lock_path

    def take(candidate: str) -> bool:
        key = backend.key(candidate)
        if not reservations.reserve(backend.bucket, key, locks=locks):
            return False  # another write of this process (or host) is on it
        try:
            return (honoured or not backend._taken(candidate)) and attempt(key)
        finally:
            reservations.release(backend.bucket, key)

    return first_candidate(candidates, take)


def upload(
    backend: S3Backend,
    source: IO[bytes],
    key: str,
    token: str | None = None,
    *,
    metadata: FileMetadata | None = None,
    transfer: TransferConfig | None = None,
) -> bool:
    """Upload ``source`` to ``key`` unless taken; False when it is taken.

    One managed call (``transfer``, by default the app's): a PutObject, or a
    multipart upload that s3transfer aborts when any part of it fails. Other
    failures raise UploadFailed. Pass the same ``token`` to every attempt at
    one upload, so an earlier attempt that landed unbeknown is recognised as
    this upload.
    """
    resumed = token is not None
    token = token or secrets.token_hex(16)
    transfer = transfer or backend.transfer
    extra = backend.upload_args(key, metadata, transfer)
    extra["Metadata"] = {**extra.get("Metadata", {}), UPLOAD_TOKEN: token}
    try:
        backend.client.upload_fileobj(
            cast(IO[bytes], KeepOpen(source)),
            backend.bucket,
            key,
            ExtraArgs=extra,
            Config=transfer,
        )
    except ClientError as exc:
        if error_code(exc) in TAKEN:
            # A retried write may have landed before its reply was lost:
            # then the object holding the name is this upload.
            return (resumed or retried(exc)) and upload_token(backend, key) == token
        failure: Exception = exc
    except BotoCoreError as exc:
        failure = exc
    else:
        return True
    # Even a failed request may have stored the object, its reply lost on
    # the way back: then it is complete and ours, not an orphan.
    if upload_token(backend, key) == token:
        return True
    raise UploadFailed(f"Uploading {key!r} to S3 failed: {failure}") from failure


def upload_token(backend: S3Backend, key: str) -> str | None:
    """The upload token of the object at ``key``; None if none or unreadable."""
    try:
        head = backend.client.head_object(Bucket=backend.bucket, Key=key)
    except (ClientError, BotoCoreError):
        return None
    token = head.get("Metadata", {}).get(UPLOAD_TOKEN)
    return token if isinstance(token, str) else None


def write_marker(backend: S3Backend, location: str, key: str) -> None:
    """Write the empty folder marker ``key``, unless an object holds it already.

    An object there, a marker or another tool's, means the folder exists: it
    is never replaced.
    """
    honoured = backend._honoured([location])
    if honoured:
        _put_marker(backend, key)
        return
    if not reservations.reserve(backend.bucket, key, locks=backend.lock_path):
        return  # another write of this host is making it
    try:
        if not _exists(backend, key):
            _put_marker(backend, key)
    finally:
        reservations.release(backend.bucket, key)


def _put_marker(backend: S3Backend, key: str) -> None:
    try:
        backend.client.put_object(Bucket=backend.bucket, Key=key, Body=b"")
    except ClientError as exc:
        if error_code(exc) not in TAKEN:  # taken: the folder exists
            raise translate(exc, key, "create") from exc
    except BotoCoreError as exc:
        raise translate(exc, key, "create") from exc


def _exists(backend: S3Backend, key: str) -> bool:
    try:
        backend.client.head_object(Bucket=backend.bucket, Key=key)
    except (ClientError, BotoCoreError) as exc:
        error = translate(exc, key, "read")
        if isinstance(error, StoredFileNotFound):
            return False
        raise error from exc
    return True
