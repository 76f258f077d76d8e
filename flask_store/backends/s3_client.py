"""What the S3 backends share: the boto3 client, keys, errors, upload settings.

Importing this module imports boto3, with a clear error when it is missing.
"""

from __future__ import annotations

import io
import logging
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, cast

from ..exceptions import StorageError, StoredFileNotFound, UploadPending
from ..settings import Setting, count, optional_text, text
from .base import CHUNK_SIZE
from .s3_conditional import SETTING as CONDITIONAL_WRITES
from .s3_conditional import WriteConditions
from .s3_conditional import error_code as error_code
from .s3_headers import UPLOAD_TOKEN as UPLOAD_TOKEN
from .s3_locks import SETTING as LOCK_PATH
from .s3_sdk import BotoConfig, TransferConfig, boto3
from .s3_sdk import BotoCoreError as BotoCoreError
from .s3_sdk import ClientError as ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["UPLOAD_TOKEN", "BotoCoreError", "ClientError", "error_code"]

log = logging.getLogger("flask_store.providers.s3")

MiB = 1024 * 1024

#: Metadata of a placeholder that claims a key for a background upload; its
#: value is the claim's token. Readers refuse such an object as the file.
PENDING = "flask-store-pending"

#: Sorts after every other character: ``StartAfter`` past a whole folder.
LAST_CHAR = "\U0010ffff"

NOT_FOUND = frozenset({"404", "NoSuchKey", "NotFound"})


def pending(key: str) -> UploadPending:
    return UploadPending(
        f"{key!r} is still being uploaded in the background; it can be read "
        "once the upload has finished."
    )


def default_domain(bucket: str, region: str, endpoint_url: str | None = None) -> str:
    """Where a bucket's objects are reachable when ``STORE_DOMAIN`` is unset.

    Virtual-hosted AWS style; path style for a custom endpoint and for bucket
    names with dots (which would not match AWS's TLS certificate as a host).
    """
    if endpoint_url:
        return f"{endpoint_url.rstrip('/')}/{bucket}"
    if "." in bucket:
        return f"https://s3.{region}.amazonaws.com/{bucket}"
    return f"https://{bucket}.s3.{region}.amazonaws.com"


def retried(exc: ClientError) -> bool:
    return bool(exc.response.get("ResponseMetadata", {}).get("RetryAttempts"))


def translate(exc: Exception, key: str, action: str) -> StorageError:
    """A Flask-Store error for a boto3 one; only a 404 means "not stored"."""
    if isinstance(exc, ClientError) and error_code(exc) in NOT_FOUND:
        return StoredFileNotFound(f"{key!r} is not stored.")
    return StorageError(f"S3 could not {action} {key!r}: {exc}")


#: The S3 settings, checked by ``init_app``.
S3_SETTINGS: tuple[Setting, ...] = (
    text("STORE_S3_BUCKET"),
    text("STORE_S3_REGION"),
    optional_text("STORE_S3_ACCESS_KEY"),
    optional_text("STORE_S3_SECRET_KEY"),
    optional_text("STORE_S3_ACL"),
    optional_text("STORE_S3_ENDPOINT_URL"),
    optional_text(LOCK_PATH),
    Setting(
        "STORE_S3_MULTIPART_THRESHOLD",
        "at least 5 MiB (5242880), the smallest part S3 accepts",
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 5 * MiB,
    ),
    count("STORE_S3_MAX_ATTEMPTS", minimum=1),
    Setting(
        CONDITIONAL_WRITES,
        '"auto", True or False',
        lambda v: v is True or v is False or v == "auto",
    ),
)


def make_client(
    *,
    region: str,
    endpoint_url: str | None,
    access_key: str | None,
    secret_key: str | None,
    max_attempts: int,
    conditions: WriteConditions,
) -> S3Client:
    """A boto3 S3 client whose object writes carry ``conditions``."""
    # Sessions are not thread-safe, so each client gets its own; the client
    # itself is thread-safe and shared by every thread of the app.
    session = boto3.session.Session(
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=region,
    )
    client: S3Client = session.client(
        "s3",
        endpoint_url=endpoint_url,
        config=BotoConfig(
            retries={"mode": "standard", "total_max_attempts": max_attempts},
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            signature_version="s3v4",
        ),
    )
    # Every object this client writes is a conditional write: it never
    # replaces an object it did not mean to replace.
    conditions.install(client)
    return client


def transfer_config(part_size: int) -> TransferConfig:
    """Multipart above the threshold, in parts of that size, few in memory."""
    transfer = TransferConfig(
        multipart_threshold=part_size,
        multipart_chunksize=part_size,
        max_concurrency=4,
    )
    # At most this many parts wait in memory per upload, whatever its size.
    transfer.max_in_memory_upload_chunks = 4
    return transfer


@contextmanager
def seekable_copy(stream: IO[bytes]) -> Iterator[IO[bytes]]:
    """``stream`` itself when it can seek, else a temporary copy of it.

    A taken name means uploading the same bytes again under another name.
    """
    seekable = getattr(stream, "seekable", None)
    if seekable is not None and seekable():
        yield stream
        return
    with tempfile.SpooledTemporaryFile(max_size=8 * MiB) as copy:
        shutil.copyfileobj(stream, copy, CHUNK_SIZE)
        copy.seek(0)
        yield cast(IO[bytes], copy)


class KeepOpen(io.RawIOBase):
    """A view of a seekable stream that s3transfer may close, leaving it open.

    The managed transfer closes the file object it is given; the caller's
    stream must stay open (and may be uploaded again under another name).
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1, /) -> bytes:
        return self._stream.read(size)

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int:
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        return self._stream.tell()
