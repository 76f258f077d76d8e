"""Amazon S3 (and S3-compatible) storage on boto3.

Each file is written with one managed upload call (multipart above
``STORE_S3_MULTIPART_THRESHOLD``) carrying the ACL, Content-Type and, for
types a browser could run, ``Content-Disposition: attachment``. Names are
never overwritten: every object write is an S3 conditional write
(``If-None-Match: *``), so a taken name answers ``412 Precondition Failed``
and the next candidate name is tried. Some S3-compatible servers ignore the
condition; :mod:`.s3_conditional` finds that out once per app and process and
then checks names before writing (see ``STORE_S3_CONDITIONAL_WRITES``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any, cast

from .. import names, spelling
from ..content import guess_type
from ..exceptions import (
    NotConfiguredError,
    StorageError,
    StoredFileNotFound,
    UploadFailed,
)
from ..metadata import FileMetadata, Measured
from . import (
    s3_conditional,
    s3_copy,
    s3_headers,
    s3_listing,
    s3_locks,
    s3_staging,
    s3_writes,
)
from .base import (
    Backend,
    CheckResult,
    FolderPage,
    Leftover,
    PageQuery,
    StoredFile,
    targets,
)
from .s3_client import (
    PENDING,
    S3_SETTINGS,
    BotoCoreError,
    ClientError,
    default_domain,
    make_client,
    pending,
    seekable_copy,
    transfer_config,
    translate,
)
from .s3_conditional import WriteConditions

if TYPE_CHECKING:
    from boto3.s3.transfer import TransferConfig
    from flask import Flask
    from mypy_boto3_s3 import S3Client


class S3Backend(Backend):
    """Objects in the bucket ``STORE_S3_BUCKET``, under the key prefix ``STORE_PATH``.

    The boto3 client is made on first use and shared by the app's threads.
    """

    settings = S3_SETTINGS
    direct_uploads = "s3"
    records_on_write = True

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        config = app.config
        self.bucket = str(config["STORE_S3_BUCKET"])
        self.region = str(config["STORE_S3_REGION"])
        self.endpoint_url: str | None = config.get("STORE_S3_ENDPOINT_URL")
        self._access_key: str | None = config.get("STORE_S3_ACCESS_KEY")
        self._secret_key: str | None = config.get("STORE_S3_SECRET_KEY")
        if bool(self._access_key) != bool(self._secret_key):
            raise NotConfiguredError(
                "Set both STORE_S3_ACCESS_KEY and STORE_S3_SECRET_KEY, or neither "
                "to use boto3's default credential chain."
            )
        try:
            #: ``STORE_PATH`` as a key prefix, without leading or trailing slash.
            self.prefix = names.clean_location(
                str(config.get("STORE_PATH") or "").strip("/")
            )
        except ValueError as exc:
            raise NotConfiguredError(
                f"STORE_PATH is not a usable key prefix: {exc}"
            ) from exc
        self.acl: str | None = config.get("STORE_S3_ACL") or None
        self.max_attempts = int(config["STORE_S3_MAX_ATTEMPTS"])
        self.transfer = transfer_config(int(config["STORE_S3_MULTIPART_THRESHOLD"]))
        #: The conditions every object write carries, and what the server does.
        self.conditions = WriteConditions(config.get(s3_conditional.SETTING, "auto"))
        self.url_prefix = self.prefix
        #: The folder of this host's name locks (``STORE_S3_LOCK_PATH``).
        self.lock_path = str(config.get(s3_locks.SETTING) or s3_locks.default_folder())
        self._client_lock = threading.Lock()

    @cached_property
    def client(self) -> S3Client:
        """The app's boto3 S3 client: made on first use, then shared.

        Its PutObject and CompleteMultipartUpload calls are conditional
        writes: they never replace an existing object.
        """
        with self._client_lock:
            if "client" not in self.__dict__:  # another thread made it meanwhile
                return make_client(
                    region=self.region,
                    endpoint_url=self.endpoint_url,
                    access_key=self._access_key,
                    secret_key=self._secret_key,
                    max_attempts=self.max_attempts,
                    conditions=self.conditions,
                )
            return cast("S3Client", self.__dict__["client"])

    def url(self, relative_url: str) -> str:
        """``STORE_DOMAIN``, or the bucket's own URL, joined with ``relative_url``."""
        domain = self.domain or default_domain(
            self.bucket, self.region, self.endpoint_url
        )
        return names.join_url(domain, relative_url)

    def key(self, path: str) -> str:
        """The object key of a path relative to ``STORE_PATH``.

        :raises ValueError: for a path spelt otherwise than canonically
            (``a//b.txt``, ``a/./b.txt``, NFD): its key would be another
            object's, so nothing is done under it.
        """
        if not spelling.is_one_spelling(path):
            raise ValueError(
                f"{path!r} is not a canonical stored path; it is not read, moved "
                "or deleted under another spelling."
            )
        return names.join_key(self.prefix, path)

    def absolute_path(self, path: str) -> str:
        return self.key(path)

    def upload_args(
        self,
        key: str,
        metadata: FileMetadata | None = None,
        transfer: TransferConfig | None = None,
    ) -> dict[str, Any]:
        """What S3 is told about the object ``key`` (``s3_headers.object_args``)."""
        return s3_headers.object_args(
            key,
            acl=self.acl,
            metadata=metadata,
            multipart_threshold=(transfer or self.transfer).multipart_threshold,
        )

    def presigned_url(self, path: str, expires_in: int = 3600) -> str:
        """A URL that lets anyone GET ``path`` (private) for ``expires_in`` s.

        S3 answers it with the type the name stands for (whatever type the
        object was written with, by Flask-Store or another tool) and, for a
        type a browser could run, as an attachment.
        """
        if not isinstance(expires_in, int) or not 1 <= expires_in <= 604800:
            raise ValueError("expires_in must be whole seconds from 1 to 604800.")
        params = s3_headers.read_params(self.bucket, self.key(path), path)
        return self.client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=expires_in
        )

    # -- writing --------------------------------------------------------

    def _honoured(self, candidates: Sequence[str]) -> bool:
        """Whether this bucket's server honours conditional writes (found once)."""
        try:
            return s3_conditional.honoured(
                self.conditions, self.client, self.bucket, self.prefix
            )
        except StorageError as exc:
            raise UploadFailed(
                f"Not saving {self.key(candidates[0])!r}: {exc}"
            ) from exc

    def write(self, stream: IO[bytes], candidates: Sequence[str]) -> str:
        if isinstance(stream, Measured):
            # The checksum goes with the upload: measure it all first.
            with stream.completed() as source:
                return self._write(source, candidates, stream.metadata())
        return self._write(stream, candidates, None)

    def _write(
        self,
        stream: IO[bytes],
        candidates: Sequence[str],
        metadata: FileMetadata | None,
    ) -> str:
        with seekable_copy(stream) as source:
            start = source.tell()

            def upload(key: str) -> bool:
                source.seek(start)
                return s3_writes.upload(self, source, key, metadata=metadata)

            return self._first_free(candidates, upload)

    def _first_free(
        self, candidates: Sequence[str], attempt: Callable[[str], bool]
    ) -> str:
        """The first candidate ``attempt(key)`` wrote (``s3_writes.first_free``)."""
        return s3_writes.first_free(self, candidates, attempt)

    def copy(self, path: str, location: str, *, name: str | None = None) -> str:
        """Copy ``path`` into ``location`` on S3 itself (nothing through the app).

        A name taken there gets a unique suffix (given a ``name``, that one is
        refused); servers that cannot copy parts, and empty files, are copied
        through the app. The copy keeps the original's Content-Type and metadata;
        attachment comes from that type and the new name.
        """
        head = self._head(path)
        if PENDING in head.get("Metadata", {}):
            raise pending(self.key(path))  # its bytes are not there yet
        if not head.get("ContentLength"):
            return super().copy(path, location, name=name)
        source = self.key(path)
        candidates = targets(path, location, name)
        try:
            return self._first_free(
                candidates, lambda key: s3_copy.copy_object(self, source, key, head)
            )
        except s3_copy.CopyUnsupported:
            return super().copy(path, location, name=name)

    def _taken(self, path: str) -> bool:
        """Whether ``path`` is stored; a failure to tell is an UploadFailed."""
        try:
            return self.exists(path)
        except StorageError as exc:
            raise UploadFailed(str(exc)) from exc

    # -- reading --------------------------------------------------------

    def _head(self, path: str) -> dict[str, Any]:
        key = self.key(path)
        try:
            return cast(
                "dict[str, Any]", self.client.head_object(Bucket=self.bucket, Key=key)
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, key, "read") from exc

    def exists(self, path: str) -> bool:
        try:
            self._head(path)
        except StoredFileNotFound:
            return False
        return True

    def open(self, path: str) -> IO[bytes]:
        key = self.key(path)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, key, "open") from exc
        if PENDING in response.get("Metadata", {}):
            response["Body"].close()
            raise pending(key)
        # botocore's StreamingBody reads from the socket as it is read.
        return cast(IO[bytes], response["Body"])

    def delete_file(self, path: str) -> None:
        key = self.key(path)
        self._head(path)  # S3 deletes missing keys silently; report them.
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, key, "delete") from exc

    def stat(self, path: str) -> StoredFile:
        head = self._head(path)
        if PENDING in head.get("Metadata", {}):
            raise pending(self.key(path))
        return StoredFile(
            path=path,
            size=head["ContentLength"],
            modified=head["LastModified"],
            version=head.get("ETag"),
        )

    def metadata(self, path: str) -> FileMetadata | None:
        """The object's metadata, from one HEAD."""
        head = self._head(path)
        if PENDING in head.get("Metadata", {}):
            raise pending(self.key(path))
        return FileMetadata.from_s3_head(head)

    def content_type(self, path: str) -> str:
        """The Content-Type S3 serves the object with (from its name if missing)."""
        try:
            return str(self._head(path)["ContentType"])
        except (StoredFileNotFound, KeyError):
            return guess_type(path)

    # -- maintenance ----------------------------------------------------

    def leftovers(self, *, older_than: timedelta) -> Iterator[Leftover]:
        """Direct uploads never confirmed, multipart uploads never completed,
        variants of deleted originals."""
        yield from s3_staging.leftovers(self, older_than)
        yield from super().leftovers(older_than=older_than)

    def clean_leftover(self, leftover: Leftover) -> str:
        if leftover.kind in s3_staging.KINDS:
            return s3_staging.clean(self, leftover)
        return super().clean_leftover(leftover)

    def checks(self) -> Iterator[CheckResult]:
        """A real conditional write: whether the server refuses to overwrite."""
        yield s3_conditional.check(
            self.conditions, self.client, self.bucket, self.prefix
        )

    # -- listing --------------------------------------------------------

    def list_page(self, location: str, query: PageQuery) -> FolderPage:
        """One page of ``location``, in S3's key order (``s3_listing.page``)."""
        return s3_listing.page(self.client, self.bucket, self.prefix, location, query)

    def iter_files(self, location: str = "") -> Iterator[StoredFile]:
        return s3_listing.files(
            self.client, self.bucket, self.prefix, names.clean_location(location)
        )

    def prune_folders(self, location: str) -> None:
        """Delete the folder markers under ``location`` (and its own) that no
        file is under: never a file, nor the marker of a folder holding one."""
        folder = self.key(location) + "/"
        markers: list[str] = []
        occupied: set[str] = set()  # every folder a file is under
        for obj in s3_listing.objects(self.client, self.bucket, folder):
            key = obj["Key"]
            if key.endswith("/"):
                markers.append(key)
                continue
            for end, char in enumerate(key):
                if char == "/":
                    occupied.add(key[: end + 1])
        for marker in markers:
            if marker in occupied:
                continue
            try:
                self.client.delete_object(Bucket=self.bucket, Key=marker)
            except (ClientError, BotoCoreError) as exc:
                raise translate(exc, marker, "delete") from exc

    def create_folder(self, location: str) -> str:
        """Write the zero-byte marker ``location/`` so an empty folder shows.

        An object already at that key (a marker, or another tool's) means the
        folder exists, and is never replaced (``s3_writes.write_marker``).
        """
        location = names.clean_location(location)
        if not location:
            return location
        key = names.join_key(self.prefix, location) + "/"
        s3_writes.write_marker(self, location, key)
        return location
