"""Amazon S3 (and S3-compatible) storage on boto3, in the foreground or via gevent.

``S3Provider`` writes each file with one managed upload call (multipart above
``STORE_S3_MULTIPART_THRESHOLD``) carrying the ACL and Content-Type. Names are
never overwritten, even by concurrent writers: every object write made through
Flask-Store's client is an S3 conditional write (``If-None-Match: *``), so a
taken name answers ``412 Precondition Failed`` and the next candidate name is
tried. Servers without conditional writes would ignore the header; use one
that supports them (AWS S3, current MinIO, moto).

``S3GeventProvider`` spools the upload to a temporary file, decides its key
and returns at once; a greenlet uploads it. See its docstring for what happens
when the key is taken meanwhile, and :func:`wait_for_uploads` for shutdown.
"""

from __future__ import annotations

import io
import logging
import os
import queue
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import IO, TYPE_CHECKING, Any, cast

from .. import names
from ..exceptions import (
    NotConfiguredError,
    StorageError,
    StoredFileNotFound,
    UploadFailed,
)
from ..signals import upload_failed
from .base import (
    CHUNK_SIZE,
    FolderPage,
    Provider,
    StoredFile,
    app_or_current,
    guess_type,
    matches,
    store_state,
)

try:
    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config as BotoConfig
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "Could not load boto3, which the S3 providers need. Install it with "
        "pip install 'Flask-Store[s3]'."
    ) from exc

if TYPE_CHECKING:
    from flask import Flask
    from flask.config import Config
    from mypy_boto3_s3 import S3Client

log = logging.getLogger(__name__)

MiB = 1024 * 1024

#: Object metadata holding a random token per upload, so a retried write that
#: did reach S3 (its reply was lost) is recognised as ours, not as a clash.
UPLOAD_TOKEN = "flask-store-upload"  # noqa: S105 - a metadata name

#: Sorts after every other character: ``StartAfter`` past a whole folder.
_LAST_CHAR = "\U0010ffff"

_NOT_FOUND = frozenset({"404", "NoSuchKey", "NotFound"})
#: 412: the name is taken; 409: another conditional write to it is in flight.
_TAKEN = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict"})


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


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _retried(exc: ClientError) -> bool:
    return bool(exc.response.get("ResponseMetadata", {}).get("RetryAttempts"))


def _translate(exc: Exception, key: str, action: str) -> StorageError:
    """A Flask-Store error for a boto3 one; only a 404 means "not stored"."""
    if isinstance(exc, ClientError) and _error_code(exc) in _NOT_FOUND:
        return StoredFileNotFound(f"{key!r} is not stored.")
    return StorageError(f"S3 could not {action} {key!r}: {exc}")


def _if_none_match(params: dict[str, Any], **_: Any) -> None:
    params.setdefault("IfNoneMatch", "*")


def _make_client(config: Config) -> S3Client:
    # Sessions are not thread-safe, so each client gets its own; the client
    # itself is thread-safe and shared by every thread of the app.
    session = boto3.session.Session(
        aws_access_key_id=config.get("STORE_S3_ACCESS_KEY"),
        aws_secret_access_key=config.get("STORE_S3_SECRET_KEY"),
        region_name=config["STORE_S3_REGION"],
    )
    endpoint = config.get("STORE_S3_ENDPOINT_URL")
    client: S3Client = session.client(
        "s3",
        endpoint_url=endpoint,
        config=BotoConfig(
            retries={
                "mode": "standard",
                "total_max_attempts": int(config["STORE_S3_MAX_ATTEMPTS"]),
            },
            s3={"addressing_style": "path" if endpoint else "auto"},
            signature_version="s3v4",
        ),
    )
    # Every object this client creates is a conditional write: it never
    # replaces an existing object. The managed transfer does not accept
    # IfNoneMatch as an argument, so it is added to the two requests that
    # create objects (PutObject, CompleteMultipartUpload) here.
    for operation in ("PutObject", "CompleteMultipartUpload"):
        client.meta.events.register(
            f"before-parameter-build.s3.{operation}", _if_none_match
        )
    return client


def s3_client(app: Flask) -> S3Client:
    """The app's boto3 S3 client: created on first use, then reused.

    Shared by the app's threads. Its PutObject and CompleteMultipartUpload
    calls are conditional writes: they never replace an existing object.
    """
    state = store_state(app)
    with state.lock:
        client: S3Client | None = state.cache.get("s3.client")
        if client is None:
            client = state.cache["s3.client"] = _make_client(app.config)
    return client


def transfer_config(config: Config) -> TransferConfig:
    """Multipart above the threshold, in parts of that size, few in memory."""
    part_size = int(config["STORE_S3_MULTIPART_THRESHOLD"])
    transfer = TransferConfig(
        multipart_threshold=part_size,
        multipart_chunksize=part_size,
        max_concurrency=4,
    )
    # At most this many parts wait in memory per upload, whatever its size.
    transfer.max_in_memory_upload_chunks = 4
    return transfer


def key_prefix(config: Config) -> str:
    """``STORE_PATH`` as a key prefix, without leading or trailing slash."""
    return names.join_key(str(config.get("STORE_PATH") or ""))


@contextmanager
def _seekable(stream: IO[bytes]) -> Iterator[IO[bytes]]:
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


class _KeepOpen(io.RawIOBase):
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


class S3Provider(Provider):
    """Stores files as objects in the bucket ``STORE_S3_BUCKET``.

    The key is ``STORE_PATH/location/filename``; ``absolute_path`` is that
    key and ``absolute_url`` is ``STORE_DOMAIN`` (by default the bucket's own
    URL) joined with it.
    """

    REQUIRED_CONFIGURATION = ("STORE_S3_BUCKET", "STORE_S3_REGION")

    @staticmethod
    def app_defaults(app: Flask) -> None:
        config = app.config
        config.setdefault("STORE_PATH", "")
        config.setdefault("STORE_S3_ACCESS_KEY", None)
        config.setdefault("STORE_S3_SECRET_KEY", None)
        config.setdefault("STORE_S3_ACL", "private")
        config.setdefault("STORE_S3_ENDPOINT_URL", None)
        config.setdefault("STORE_S3_MULTIPART_THRESHOLD", 8 * MiB)
        config.setdefault("STORE_S3_MAX_ATTEMPTS", 5)
        if bool(config["STORE_S3_ACCESS_KEY"]) != bool(config["STORE_S3_SECRET_KEY"]):
            raise NotConfiguredError(
                "Set both STORE_S3_ACCESS_KEY and STORE_S3_SECRET_KEY, or neither "
                "to use boto3's default credential chain."
            )
        if int(config["STORE_S3_MULTIPART_THRESHOLD"]) < 5 * MiB:
            raise NotConfiguredError(
                "STORE_S3_MULTIPART_THRESHOLD must be at least 5 MiB (5242880), "
                "the smallest part S3 accepts."
            )
        if int(config["STORE_S3_MAX_ATTEMPTS"]) < 1:
            raise NotConfiguredError("STORE_S3_MAX_ATTEMPTS must be at least 1.")
        try:
            names.clean_location(str(config["STORE_PATH"] or "").strip("/"))
        except ValueError as exc:
            raise NotConfiguredError(
                f"STORE_PATH is not a usable key prefix: {exc}"
            ) from exc

    # -- names and URLs -------------------------------------------------

    @property
    def client(self) -> S3Client:
        return s3_client(self.app)

    @property
    def bucket(self) -> str:
        return str(self.config["STORE_S3_BUCKET"])

    def key(self, path: str) -> str:
        """The object key of a path relative to ``STORE_PATH``."""
        return names.join_key(key_prefix(self.config), path)

    @property
    def absolute_path(self) -> str:
        """The object key."""
        return self.key(self.relative_path)

    def url_base(self) -> str:
        return key_prefix(self.config)

    @property
    def absolute_url(self) -> str:
        """``STORE_DOMAIN``, or the bucket's URL, joined with ``relative_url``."""
        domain = self.config.get("STORE_DOMAIN") or default_domain(
            self.bucket,
            self.config["STORE_S3_REGION"],
            self.config.get("STORE_S3_ENDPOINT_URL"),
        )
        return names.join_url(domain, self.relative_url)

    def presigned_url(self, expires_in: int = 3600) -> str:
        """A URL that lets anyone GET this (private) object for ``expires_in`` s."""
        if not isinstance(expires_in, int) or not 1 <= expires_in <= 604800:
            raise ValueError("expires_in must be whole seconds from 1 to 604800.")
        return self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self.absolute_path},
            ExpiresIn=expires_in,
        )

    # -- writing --------------------------------------------------------

    def _write(self, stream: IO[bytes], candidates: list[str]) -> str:
        with _seekable(stream) as source:
            start = source.tell()
            for candidate in candidates:
                source.seek(start)
                if self._upload(source, self.key(candidate)):
                    return candidate
        raise UploadFailed(
            f"Could not find a free name for {candidates[0]!r} after "
            f"{len(candidates)} attempts."
        )

    def _upload(self, source: IO[bytes], key: str, token: str | None = None) -> bool:
        """Upload ``source`` to ``key`` unless taken; False when it is taken.

        One managed call: a PutObject, or a multipart upload that s3transfer
        aborts when any part of it fails. Other failures raise UploadFailed.
        Pass the same ``token`` to every attempt at one upload, so an earlier
        attempt that landed unbeknown is recognised as this upload.
        """
        resumed = token is not None
        token = token or secrets.token_hex(16)
        extra: dict[str, Any] = {
            "ContentType": guess_type(key),
            "Metadata": {UPLOAD_TOKEN: token},
        }
        if self.config.get("STORE_S3_ACL"):
            extra["ACL"] = self.config["STORE_S3_ACL"]
        try:
            self.client.upload_fileobj(
                cast(IO[bytes], _KeepOpen(source)),
                self.bucket,
                key,
                ExtraArgs=extra,
                Config=transfer_config(self.config),
            )
        except ClientError as exc:
            if _error_code(exc) in _TAKEN:
                # A retried write may have landed before its reply was lost:
                # then the object holding the name is this upload.
                return (resumed or _retried(exc)) and self._token(key) == token
            failure: Exception = exc
        except BotoCoreError as exc:
            failure = exc
        else:
            return True
        # Even a failed request may have stored the object, its reply lost on
        # the way back: then it is complete and ours, not an orphan.
        if self._token(key) == token:
            return True
        raise UploadFailed(f"Uploading {key!r} to S3 failed: {failure}") from failure

    def _token(self, key: str) -> str | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError):
            return None
        return head.get("Metadata", {}).get(UPLOAD_TOKEN)

    # -- reading --------------------------------------------------------

    def _head(self, path: str) -> dict[str, Any]:
        key = self.key(path)
        try:
            return cast(
                "dict[str, Any]", self.client.head_object(Bucket=self.bucket, Key=key)
            )
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc, key, "read") from exc

    def _exists(self, path: str) -> bool:
        try:
            self._head(path)
        except StoredFileNotFound:
            return False
        return True

    def _open(self, path: str) -> IO[bytes]:
        key = self.key(path)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc, key, "open") from exc
        # botocore's StreamingBody reads from the socket as it is read.
        return cast(IO[bytes], response["Body"])

    def _delete(self, path: str) -> None:
        key = self.key(path)
        self._head(path)  # S3 deletes missing keys silently; report them.
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc, key, "delete") from exc

    def _stat(self, path: str) -> StoredFile:
        head = self._head(path)
        return StoredFile(
            path=path, size=head["ContentLength"], modified=head["LastModified"]
        )

    @property
    def content_type(self) -> str:
        """The Content-Type S3 serves the object with (from its name if missing)."""
        try:
            return str(self._head(self.relative_path)["ContentType"])
        except (StoredFileNotFound, KeyError):
            return guess_type(self.filename)

    # -- listing --------------------------------------------------------

    @classmethod
    def list_folder(
        cls,
        location: str = "",
        *,
        after: str | None = None,
        limit: int = 100,
        contains: str | None = None,
        app: Flask | None = None,
    ) -> FolderPage:
        """One page of ``location``, in S3's key order.

        A folder sorts as its name plus ``/`` and its ``next_after`` ends with
        ``/``; pass ``next_after`` back unchanged. Without ``contains`` one
        request of about ``limit`` keys is made; S3 cannot filter by
        substring, so with ``contains`` the folder is scanned 1000 keys per
        request until the page is full: slow for folders with many keys.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1.")
        app = app_or_current(app)
        location = names.clean_location(location)
        folder = names.join_key(key_prefix(app.config), location)
        prefix = folder + "/" if folder else ""
        request: dict[str, Any] = {
            "Bucket": app.config["STORE_S3_BUCKET"],
            "Prefix": prefix,
            "Delimiter": "/",
            # +2: room for the folder's own marker and one entry to tell
            # whether a next page exists.
            "MaxKeys": 1000 if contains else min(limit + 2, 1000),
        }
        if after:
            start = after + _LAST_CHAR if after.endswith("/") else after
            request["StartAfter"] = prefix + start
        client = s3_client(app)
        found: list[tuple[str, StoredFile]] = []
        while len(found) <= limit:
            try:
                response = client.list_objects_v2(**request)
            except (ClientError, BotoCoreError) as exc:
                raise _translate(exc, prefix, "list") from exc
            keyed: list[tuple[str, StoredFile | None]] = [
                (p["Prefix"], None) for p in response.get("CommonPrefixes", [])
            ]
            for obj in response.get("Contents", []):
                keyed.append(
                    (
                        obj["Key"],
                        StoredFile(
                            names.join_key(location, obj["Key"][len(prefix) :]),
                            size=obj["Size"],
                            modified=obj["LastModified"],
                        ),
                    )
                )
            for key, entry in sorted(keyed, key=lambda item: item[0]):
                name = key[len(prefix) :].rstrip("/")
                if not name or not matches(name, contains):
                    continue  # the folder's marker, or filtered out
                if entry is None:
                    entry = StoredFile(names.join_key(location, name), is_folder=True)
                found.append((name + "/" if entry.is_folder else name, entry))
            if not response.get("IsTruncated"):
                break
            request["ContinuationToken"] = response["NextContinuationToken"]
        more = len(found) > limit
        return FolderPage(
            [entry for _, entry in found[:limit]],
            found[limit - 1][0] if more else None,
        )

    @classmethod
    def iter_files(
        cls, location: str = "", *, app: Flask | None = None
    ) -> Iterator[StoredFile]:
        app = app_or_current(app)
        root = key_prefix(app.config)
        folder = names.join_key(root, names.clean_location(location))
        paginator = s3_client(app).get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=app.config["STORE_S3_BUCKET"], Prefix=folder + "/" if folder else ""
        )
        skip = len(root) + 1 if root else 0
        try:
            for page in pages:
                for obj in page.get("Contents", []):
                    if obj["Key"].endswith("/"):
                        continue  # a folder marker
                    yield StoredFile(
                        obj["Key"][skip:],
                        size=obj["Size"],
                        modified=obj["LastModified"],
                    )
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc, folder, "list") from exc

    @classmethod
    def create_folder(cls, location: str, *, app: Flask | None = None) -> str:
        """Write the zero-byte marker ``location/`` so an empty folder shows."""
        app = app_or_current(app)
        location = names.clean_location(location)
        if not location:
            return location
        key = names.join_key(key_prefix(app.config), location) + "/"
        try:
            s3_client(app).put_object(
                Bucket=app.config["STORE_S3_BUCKET"], Key=key, Body=b""
            )
        except ClientError as exc:
            if _error_code(exc) not in _TAKEN:  # taken: the folder exists
                raise _translate(exc, key, "create") from exc
        except BotoCoreError as exc:
            raise _translate(exc, key, "create") from exc
        return location


# -- background uploads ---------------------------------------------------


def _gevent() -> Any:
    try:
        import gevent
    except ImportError as exc:
        raise ImportError(
            "S3GeventProvider needs gevent: pip install 'Flask-Store[gevent]'."
        ) from exc
    return gevent


def _monkey_patched() -> bool:
    """Whether the app ran ``gevent.monkey.patch_all()`` (sockets and threads)."""
    from gevent import monkey

    return bool(
        monkey.is_module_patched("socket") and monkey.is_module_patched("threading")
    )


def _serve_uploads(ready: queue.SimpleQueue[Any]) -> None:
    """Run a gevent hub in this thread for upload greenlets, forever."""
    gevent = _gevent()
    ready.put(gevent.get_hub().loop)
    while True:  # the timer keeps the loop alive between uploads
        gevent.sleep(3600)


class _Uploads:
    """The background uploads of this process: reserved keys and a counter.

    With ``monkey.patch_all()`` the greenlets run in the caller's hub and
    cooperate with everything else. Without it they run in the hub of one
    daemon thread, so they still make progress while the app's threads block.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reserved: set[tuple[str, str]] = set()
        self._running = 0
        self._condition: threading.Condition | None = None
        self._loop: Any = None

    @property
    def condition(self) -> threading.Condition:
        # Made on first use, after the app had its chance to monkey-patch.
        with self._lock:
            if self._condition is None:
                self._condition = threading.Condition()
            return self._condition

    def reserve(self, bucket: str, key: str) -> bool:
        """Claim ``key`` for one upload of this process; False if claimed."""
        with self._lock:
            if (bucket, key) in self._reserved:
                return False
            self._reserved.add((bucket, key))
            return True

    def release(self, bucket: str, key: str) -> None:
        with self._lock:
            self._reserved.discard((bucket, key))

    def start(self, job: Callable[[], None]) -> None:
        gevent = _gevent()
        with self.condition:
            self._running += 1
        try:
            if _monkey_patched():
                gevent.spawn(self._run, job)
            else:
                self._background_loop().run_callback_threadsafe(
                    gevent.spawn, self._run, job
                )
        except BaseException:
            self._finished()
            raise

    def _background_loop(self) -> Any:
        with self._lock:
            if self._loop is None:
                ready: queue.SimpleQueue[Any] = queue.SimpleQueue()
                threading.Thread(
                    target=_serve_uploads,
                    args=(ready,),
                    name="flask-store-uploads",
                    daemon=True,
                ).start()
                self._loop = ready.get()
            return self._loop

    def _run(self, job: Callable[[], None]) -> None:
        try:
            job()
        finally:
            self._finished()

    def _finished(self) -> None:
        with self.condition:
            self._running -= 1
            self.condition.notify_all()

    def wait(self, timeout: float | None) -> bool:
        with self.condition:
            return self.condition.wait_for(lambda: self._running == 0, timeout)


_uploads = _Uploads()


def wait_for_uploads(timeout: float | None = None) -> bool:
    """Wait until every background upload of this process has finished.

    Call it at shutdown (and in tests) so no upload is cut off. Finished means
    uploaded, or given up on (logged, ``upload_failed`` sent, spooled copy
    kept). Returns False if ``timeout`` seconds passed first.
    """
    return _uploads.wait(timeout)


class S3GeventProvider(S3Provider):
    """Like :class:`S3Provider`, but ``save()`` returns before the upload ends.

    ``save()`` copies the stream to a file in ``STORE_S3_SPOOL_PATH`` (the
    system temporary folder by default), picks the first candidate name that
    S3 does not have and no other upload of this process has claimed, and
    returns with that final name while a greenlet uploads the file. The upload
    is a conditional write, so it never replaces an object: if another process
    takes the same key between the check and the upload (a narrow race), the
    upload is not retried under another name (the name is already reported);
    it fails like any other failed upload.

    A failed upload is retried ``STORE_S3_BACKGROUND_ATTEMPTS`` times, then
    logged with the key and the spooled file's path and sent as
    :data:`~flask_store.signals.upload_failed` (``provider``, ``exception``,
    ``spooled_path``); the spooled file is kept. It is removed once uploaded.

    Nothing is monkey-patched here: an app enables gevent by calling
    ``gevent.monkey.patch_all()`` first thing in its entry point. Without it
    the uploads run in a background thread's gevent hub.
    """

    @staticmethod
    def app_defaults(app: Flask) -> None:
        S3Provider.app_defaults(app)
        app.config.setdefault("STORE_S3_SPOOL_PATH", None)
        app.config.setdefault("STORE_S3_BACKGROUND_ATTEMPTS", 3)
        if int(app.config["STORE_S3_BACKGROUND_ATTEMPTS"]) < 1:
            raise NotConfiguredError("STORE_S3_BACKGROUND_ATTEMPTS must be at least 1.")

    def _write(self, stream: IO[bytes], candidates: list[str]) -> str:
        _gevent()  # fail before spooling when gevent is missing
        spooled = self._spool(stream)
        try:
            candidate = self._claim(candidates)
            try:
                _uploads.start(partial(self._upload_spooled, spooled, candidate))
            except BaseException:
                _uploads.release(self.bucket, self.key(candidate))
                raise
        except BaseException:
            os.unlink(spooled)
            raise
        return candidate

    def _spool(self, stream: IO[bytes]) -> str:
        folder = self.config.get("STORE_S3_SPOOL_PATH") or None
        if folder:
            os.makedirs(folder, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=folder, prefix="flask-store-", suffix=".upload", delete=False
        ) as spool:
            try:
                shutil.copyfileobj(stream, spool, CHUNK_SIZE)
                if self.config.get("STORE_FSYNC", True):
                    # Until uploaded, this copy is the only one.
                    spool.flush()
                    os.fsync(spool.fileno())
            except BaseException:
                spool.close()
                os.unlink(spool.name)
                raise
        return spool.name

    def _claim(self, candidates: list[str]) -> str:
        for candidate in candidates:
            key = self.key(candidate)
            if not _uploads.reserve(self.bucket, key):
                continue
            try:
                if not self._exists(candidate):
                    return candidate
            except BaseException:
                _uploads.release(self.bucket, key)
                raise
            _uploads.release(self.bucket, key)
        raise UploadFailed(
            f"Could not find a free name for {candidates[0]!r} after "
            f"{len(candidates)} attempts."
        )

    def _upload_spooled(self, spooled: str, candidate: str) -> None:
        """Upload the spooled file, retrying; runs in a greenlet, never raises."""
        key = self.key(candidate)
        try:
            error = self._upload_with_retries(spooled, key)
        except Exception as exc:  # a bug or a lost spool file: still report it
            error = exc
        finally:
            _uploads.release(self.bucket, key)
        if error is not None:
            self._give_up(key, spooled, error)
            return
        try:
            os.unlink(spooled)
        except OSError as exc:  # uploaded all the same
            log.warning("Could not remove the spooled upload %s: %s", spooled, exc)

    def _upload_with_retries(self, spooled: str, key: str) -> Exception | None:
        """None once uploaded, else the error that ended the attempts."""
        gevent = _gevent()
        token = secrets.token_hex(16)  # one upload, however many attempts
        error: Exception | None = None
        for attempt in range(int(self.config["STORE_S3_BACKGROUND_ATTEMPTS"])):
            if attempt:
                gevent.sleep(min(2 ** (attempt - 1), 30))
            try:
                with open(spooled, "rb") as source:
                    if self._upload(source, key, token):
                        return None
            except UploadFailed as exc:
                error = exc
                continue
            return UploadFailed(
                f"{key!r} was taken by another writer before the background "
                "upload reached S3; nothing was overwritten."
            )
        return error

    def _give_up(self, key: str, spooled: str, exc: Exception) -> None:
        log.error(
            "Background upload of %r to bucket %r failed; the file is kept at %s",
            key,
            self.bucket,
            spooled,
            exc_info=exc,
        )
        upload_failed.send(self.app, provider=self, exception=exc, spooled_path=spooled)


__all__ = [
    "S3GeventProvider",
    "S3Provider",
    "default_domain",
    "s3_client",
    "wait_for_uploads",
]
