"""Amazon S3 (and S3-compatible) storage on boto3, in the foreground or via gevent.

``S3Provider`` writes each file with one managed upload call (multipart above
``STORE_S3_MULTIPART_THRESHOLD``) carrying the ACL, Content-Type and, for
types a browser could run, ``Content-Disposition: attachment``. Names are
never overwritten: every object write is an S3 conditional write
(``If-None-Match: *``), so a taken name answers ``412 Precondition Failed``
and the next candidate name is tried. Some S3-compatible servers ignore the
condition; :mod:`.s3_conditional` finds that out once per app and process and
then checks names before writing (see ``STORE_S3_CONDITIONAL_WRITES``).

``S3GeventProvider`` spools the upload to a temporary file, claims its key on
S3 with a placeholder and returns at once; a greenlet replaces the
placeholder with the file. See its docstring, and :func:`wait_for_uploads`
for shutdown.
"""

from __future__ import annotations

import io
import json
import logging
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import IO, TYPE_CHECKING, Any, cast

from .. import names
from ..exceptions import (
    NotConfiguredError,
    StorageError,
    StoredFileNotFound,
    UploadFailed,
    UploadPending,
)
from ..serving import is_inline_safe
from ..signals import upload_failed
from . import s3_conditional
from .base import (
    CHUNK_SIZE,
    CheckResult,
    FolderPage,
    Leftover,
    Provider,
    StoredFile,
    app_or_current,
    guess_type,
    matches,
    store_state,
)
from .s3_background import (
    SPOOL_PREFIX,
    SPOOL_SUFFIX,
    TICKET_SUFFIX,
    load_gevent,
    read_ticket,
    remove_spool,
    spool_folder,
    uploads,
    wait_for_uploads,
)
from .s3_conditional import TAKEN as _TAKEN
from .s3_conditional import WriteConditions, reservations
from .s3_conditional import error_code as _error_code

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

#: Metadata of a placeholder that claims a key for a background upload; its
#: value is the claim's token. Readers refuse such an object as the file.
PENDING = "flask-store-pending"

#: Sorts after every other character: ``StartAfter`` past a whole folder.
_LAST_CHAR = "\U0010ffff"

_NOT_FOUND = frozenset({"404", "NoSuchKey", "NotFound"})


def _pending(key: str) -> UploadPending:
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


def _retried(exc: ClientError) -> bool:
    return bool(exc.response.get("ResponseMetadata", {}).get("RetryAttempts"))


def _translate(exc: Exception, key: str, action: str) -> StorageError:
    """A Flask-Store error for a boto3 one; only a 404 means "not stored"."""
    if isinstance(exc, ClientError) and _error_code(exc) in _NOT_FOUND:
        return StoredFileNotFound(f"{key!r} is not stored.")
    return StorageError(f"S3 could not {action} {key!r}: {exc}")


def _make_client(config: Config, conditions: WriteConditions) -> S3Client:
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
    # Every object this client writes is a conditional write: it never
    # replaces an object it did not mean to replace.
    conditions.install(client)
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
            conditions = state.cache["s3.conditions"] = WriteConditions(
                enabled=s3_conditional.setting(app.config) is not False
            )
            client = state.cache["s3.client"] = _make_client(app.config, conditions)
    return client


def write_conditions(app: Flask) -> WriteConditions:
    """The conditions ``app``'s client adds to its object writes."""
    s3_client(app)
    conditions: WriteConditions = store_state(app).cache["s3.conditions"]
    return conditions


def upload_args(config: Config, key: str) -> dict[str, Any]:
    """Content-Type, ACL and, for what a browser could run, an attachment.

    The local serving route's policy: a type that is not safe inline (HTML,
    SVG, XML, scripts, anything unknown) is stored with
    ``Content-Disposition: attachment``, so the bucket (or a CDN in front of
    it) makes browsers download it instead of running it.
    """
    content_type = guess_type(key)
    extra: dict[str, Any] = {"ContentType": content_type}
    if not is_inline_safe(content_type):
        extra["ContentDisposition"] = "attachment"
    if config.get("STORE_S3_ACL"):
        extra["ACL"] = config["STORE_S3_ACL"]
    return extra


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
        config.setdefault(s3_conditional.SETTING, "auto")
        s3_conditional.setting(config)
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
        """A URL that lets anyone GET this (private) object for ``expires_in`` s.

        S3 answers it with the type the name stands for (whatever type the
        object was written with, by Flask-Store or another tool) and, for a
        type a browser could run, as an attachment.
        """
        if not isinstance(expires_in, int) or not 1 <= expires_in <= 604800:
            raise ValueError("expires_in must be whole seconds from 1 to 604800.")
        content_type = guess_type(self.filename)
        params = {
            "Bucket": self.bucket,
            "Key": self.absolute_path,
            "ResponseContentType": content_type,
        }
        if not is_inline_safe(content_type):
            params["ResponseContentDisposition"] = "attachment"
        return self.client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=expires_in
        )

    # -- writing --------------------------------------------------------

    def _honoured(self, candidates: list[str]) -> bool:
        """Whether this bucket's server honours conditional writes (found once)."""
        try:
            return s3_conditional.honoured(
                self.app, self.client, self.bucket, key_prefix(self.config)
            )
        except StorageError as exc:
            raise UploadFailed(
                f"Not saving {self.key(candidates[0])!r}: {exc}"
            ) from exc

    def _write(self, stream: IO[bytes], candidates: list[str]) -> str:
        honoured = self._honoured(candidates)
        with _seekable(stream) as source:
            start = source.tell()
            for candidate in candidates:
                key = self.key(candidate)
                source.seek(start)
                if honoured:
                    if self._upload(source, key):
                        return candidate
                    continue
                # The server would overwrite: look first, and keep this
                # host's other saves off the name until it is written.
                if not reservations.reserve(self.bucket, key, host=True):
                    continue
                try:
                    if not self._taken(candidate) and self._upload(source, key):
                        return candidate
                finally:
                    reservations.release(self.bucket, key)
        raise UploadFailed(
            f"Could not find a free name for {candidates[0]!r} after "
            f"{len(candidates)} attempts."
        )

    def _taken(self, path: str) -> bool:
        """Whether ``path`` is stored; a failure to tell is an UploadFailed."""
        try:
            return self._exists(path)
        except StorageError as exc:
            raise UploadFailed(str(exc)) from exc

    def _upload(self, source: IO[bytes], key: str, token: str | None = None) -> bool:
        """Upload ``source`` to ``key`` unless taken; False when it is taken.

        One managed call: a PutObject, or a multipart upload that s3transfer
        aborts when any part of it fails. Other failures raise UploadFailed.
        Pass the same ``token`` to every attempt at one upload, so an earlier
        attempt that landed unbeknown is recognised as this upload.
        """
        resumed = token is not None
        token = token or secrets.token_hex(16)
        extra = upload_args(self.config, key)
        extra["Metadata"] = {UPLOAD_TOKEN: token}
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
        if PENDING in response.get("Metadata", {}):
            response["Body"].close()
            raise _pending(key)
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
        if PENDING in head.get("Metadata", {}):
            raise _pending(self.key(path))
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

    # -- maintenance ----------------------------------------------------

    @classmethod
    def backend_checks(cls, *, app: Flask | None = None) -> Iterator[CheckResult]:
        """A real conditional write: whether the server refuses to overwrite."""
        app = app_or_current(app)
        wanted = s3_conditional.setting(app.config)
        try:
            verdict = s3_conditional.probe(
                s3_client(app), app.config["STORE_S3_BUCKET"], key_prefix(app.config)
            )
        except StorageError as exc:
            # With False, saves send no condition: a server that rejects the
            # header outright is what that setting is for.
            yield CheckResult(
                "conditional writes",
                wanted is False,
                f"{exc}"
                + (
                    f"; {s3_conditional.SETTING} is False, so saves send no "
                    "condition and check names before writing"
                    if wanted is False
                    else ""
                ),
            )
            return
        s3_conditional.remember(app, verdict)
        setting = f"{s3_conditional.SETTING} = {wanted!r}"
        if verdict:
            detail = (
                "the server honours them: a second write of the probe with "
                "If-None-Match: * was refused (412), so a taken name is never "
                "overwritten"
            )
            if wanted is False:
                detail += f"; {setting}, so saves check names before writing instead"
            yield CheckResult("conditional writes", True, detail)
            return
        detail = (
            "the server IGNORES them: a second write of the probe with "
            "If-None-Match: * overwrote the first"
        )
        if wanted is True:
            yield CheckResult(
                "conditional writes",
                False,
                f"{detail}; {setting}, so saves are refused",
            )
            return
        yield CheckResult(
            "conditional writes",
            True,
            f"{detail}; {setting}: saves check each name before writing and keep "
            "the saves of this machine's processes apart, but saves from several "
            "machines can race for one name on this server",
        )

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


@dataclass(frozen=True)
class _Claim:
    """A key claimed on S3 by a placeholder, for one background upload."""

    path: str  # relative to STORE_PATH, as save() reports it
    key: str
    token: str  # the upload's token, in the final object's metadata
    claim: str  # the placeholder's token, in its metadata
    etag: str  # the placeholder's ETag, which the upload must replace


class S3GeventProvider(S3Provider):
    """Like :class:`S3Provider`, but ``save()`` returns before the upload ends.

    ``save()`` copies the stream to a file in ``STORE_S3_SPOOL_PATH`` (the
    system temporary folder by default) and claims the first free candidate
    name on S3 with a conditional write of a small placeholder (marked as
    pending in its metadata), then returns with that final name while a
    greenlet uploads the file over the placeholder with ``If-Match`` on its
    ETag. The claim is made by S3 itself, so no two saves, in any number of
    processes, get the same name. A Flask-Store reader refuses a placeholder
    (:class:`~flask_store.exceptions.UploadPending`); it is private whatever
    ``STORE_S3_ACL`` says.

    On a server that ignores conditional writes, names are checked before the
    placeholder is written and the placeholder is read back; before the upload
    it is checked again, so an upload whose name another process took is
    never written over it: it fails as below.

    A failed upload is retried ``STORE_S3_BACKGROUND_ATTEMPTS`` times, then
    logged with the key and the spooled file's path and sent as
    :data:`~flask_store.signals.upload_failed` (``provider``, ``exception``,
    ``spooled_path``); the spooled file is kept, and ``flask store cleanup``
    finishes it later. It is removed once uploaded. A file deleted before its
    upload finished stays deleted.

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
        load_gevent()  # fail before spooling when gevent is missing
        honoured = self._honoured(candidates)
        spooled = self._spool(stream)
        try:
            claim = self._claim(candidates, honoured)
            try:
                self._write_ticket(spooled, claim)
                uploads.start(partial(self._upload_spooled, spooled, claim, honoured))
            except BaseException:
                reservations.release(self.bucket, claim.key)
                self._drop_placeholder(claim)
                raise
        except BaseException:
            remove_spool(spooled)
            raise
        return claim.path

    def _spool(self, stream: IO[bytes]) -> str:
        folder = self.config.get("STORE_S3_SPOOL_PATH") or None
        if folder:
            os.makedirs(folder, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=folder, prefix=SPOOL_PREFIX, suffix=SPOOL_SUFFIX, delete=False
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

    def _write_ticket(self, spooled: str, claim: _Claim) -> None:
        ticket = {
            "bucket": self.bucket,
            "key": claim.key,
            "path": claim.path,
            "token": claim.token,
            "claim": claim.claim,
        }
        with open(spooled + TICKET_SUFFIX, "x", encoding="utf-8") as file:
            json.dump(ticket, file)
            if self.config.get("STORE_FSYNC", True):
                file.flush()
                os.fsync(file.fileno())

    # -- claiming a name ------------------------------------------------

    def _claim(self, candidates: list[str], honoured: bool) -> _Claim:
        token = secrets.token_hex(16)
        for candidate in candidates:
            key = self.key(candidate)
            # Where S3 would not decide, this host's processes take turns.
            if not reservations.reserve(self.bucket, key, host=not honoured):
                continue  # another save is on it
            try:
                claim = self._claim_key(candidate, key, token, honoured)
            except BaseException:
                reservations.release(self.bucket, key)
                raise
            if claim is not None:
                # The placeholder holds the name now; this process keeps it
                # until the upload ends.
                reservations.unlock_host(self.bucket, key)
                return claim
            reservations.release(self.bucket, key)
        raise UploadFailed(
            f"Could not find a free name for {candidates[0]!r} after "
            f"{len(candidates)} attempts."
        )

    def _claim_key(
        self, path: str, key: str, token: str, honoured: bool
    ) -> _Claim | None:
        """Write the placeholder that claims ``key``; None when it is taken."""
        if not honoured and self._taken(path):
            return None
        claim = secrets.token_hex(16)
        try:
            response = self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                # A body of its own, so its ETag is this placeholder's alone.
                Body=claim.encode(),
                ContentType=guess_type(key),
                Metadata={PENDING: claim},
            )
            etag: str | None = response["ETag"]
        except ClientError as exc:
            taken = _error_code(exc) in _TAKEN
            if taken and not _retried(exc):
                return None
            # A retried write may have landed before its reply was lost.
            etag = self._placeholder_etag(key, claim)
            if etag is None:
                if taken:
                    return None
                raise UploadFailed(f"Claiming {key!r} on S3 failed: {exc}") from exc
        except BotoCoreError as exc:
            etag = self._placeholder_etag(key, claim)
            if etag is None:
                raise UploadFailed(f"Claiming {key!r} on S3 failed: {exc}") from exc
        if etag is None or (
            not honoured and self._placeholder_etag(key, claim) != etag
        ):
            return None  # another process's placeholder replaced ours
        return _Claim(path, key, token, claim, etag)

    def _placeholder_etag(self, key: str, claim: str) -> str | None:
        """The ETag of ``key`` if it is the placeholder of ``claim``."""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError):
            return None
        if head.get("Metadata", {}).get(PENDING) != claim:
            return None
        return str(head["ETag"])

    def _drop_placeholder(self, claim: _Claim) -> None:
        """Remove a placeholder whose upload never started (best effort)."""
        if self._placeholder_etag(claim.key, claim.claim) is None:
            return
        try:
            self.client.delete_object(Bucket=self.bucket, Key=claim.key)
        except (ClientError, BotoCoreError) as exc:
            log.warning("Could not remove the placeholder %r: %s", claim.key, exc)

    def _where(self, key: str, token: str, claim: str) -> str:
        """What holds ``key`` now: "uploaded", "pending", "gone" or "taken"."""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            error = _translate(exc, key, "read")
            if isinstance(error, StoredFileNotFound):
                return "gone"
            raise error from exc
        metadata = head.get("Metadata", {})
        if metadata.get(UPLOAD_TOKEN) == token:
            return "uploaded"
        if metadata.get(PENDING) == claim:
            return "pending"
        return "taken"

    # -- the background upload --------------------------------------------

    def _upload_spooled(self, spooled: str, claim: _Claim, honoured: bool) -> None:
        """Upload the spooled file, retrying; runs in a greenlet, never raises."""
        try:
            error = self._upload_with_retries(spooled, claim, honoured)
        except Exception as exc:  # a bug or a lost spool file: still report it
            error = exc
        finally:
            reservations.release(self.bucket, claim.key)
        if error is _DELETED:
            log.warning(
                "%r was deleted before its background upload finished; "
                "the upload is dropped.",
                claim.key,
            )
        elif error is not None:
            self._give_up(claim.key, spooled, error)
            return
        try:
            remove_spool(spooled)
        except OSError as exc:  # uploaded all the same
            log.warning("Could not remove the spooled upload %s: %s", spooled, exc)

    def _upload_with_retries(
        self, spooled: str, claim: _Claim, honoured: bool
    ) -> Exception | None:
        """None once uploaded, else the error that ended the attempts."""
        gevent = load_gevent()
        error: Exception | None = None
        conditions = write_conditions(self.app)
        for attempt in range(int(self.config["STORE_S3_BACKGROUND_ATTEMPTS"])):
            if attempt:
                gevent.sleep(min(2 ** (attempt - 1), 30))
            try:
                if not honoured:
                    # The server would not check the ETag: look first.
                    where = self._where(claim.key, claim.token, claim.claim)
                    if where == "uploaded":
                        return None
                    if where == "gone":
                        return _DELETED
                    if where == "taken":
                        break
                with (
                    conditions.replacing(self.bucket, claim.key, claim.etag),
                    open(spooled, "rb") as source,
                ):
                    if self._upload(source, claim.key, claim.token):
                        return None
            except UploadFailed as exc:
                if _is_missing(exc):
                    return _DELETED
                error = exc
                continue
            except StorageError as exc:
                error = exc
                continue
            break
        else:
            return error
        return UploadFailed(
            f"{claim.key!r} was taken by another writer before the background "
            "upload reached S3; nothing was overwritten."
        )

    def _give_up(self, key: str, spooled: str, exc: Exception) -> None:
        log.error(
            "Background upload of %r to bucket %r failed; the file is kept at %s",
            key,
            self.bucket,
            spooled,
            exc_info=exc,
        )
        upload_failed.send(self.app, provider=self, exception=exc, spooled_path=spooled)

    # -- leftovers ------------------------------------------------------

    @classmethod
    def leftovers(
        cls, *, older_than: timedelta, app: Flask | None = None
    ) -> Iterator[Leftover]:
        """Spooled uploads of this bucket and prefix, last written ``older_than`` ago.

        Each ticket says where its upload was going; the object's metadata
        tells whether it got there. A spooled file without a ticket (its
        ``save()`` never returned) is listed only from a ``STORE_S3_SPOOL_PATH``
        of the app's own, never from the shared temporary folder.
        """
        app = app_or_current(app)
        folder = spool_folder(app.config)
        own_folder = bool(app.config.get("STORE_S3_SPOOL_PATH"))
        cutoff = datetime.now(timezone.utc) - older_than
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except FileNotFoundError:
            return
        for entry in entries:
            if not (
                entry.name.startswith(SPOOL_PREFIX)
                and entry.name.endswith(SPOOL_SUFFIX)
            ):
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            modified = datetime.fromtimestamp(info.st_mtime, timezone.utc)
            if not entry.is_file(follow_symlinks=False) or modified > cutoff:
                continue
            ticket = read_ticket(entry.path)
            if ticket is None:
                if own_folder:
                    yield Leftover(
                        entry.path,
                        "spooled upload",
                        info.st_size,
                        modified,
                        "remove: its save() never finished",
                    )
                continue
            if ticket["bucket"] != app.config["STORE_S3_BUCKET"] or not _under(
                ticket["key"], key_prefix(app.config)
            ):
                continue  # another app's
            where = cls(ticket["path"], app=app)._where(
                ticket["key"], ticket["token"], ticket["claim"]
            )
            yield Leftover(
                entry.path,
                "spooled upload",
                info.st_size,
                modified,
                _LEFTOVER_ACTIONS[where].format(path=ticket["path"]),
            )

    @classmethod
    def clean_leftover(cls, leftover: Leftover, *, app: Flask | None = None) -> str:
        """Upload a spooled file that never reached S3; remove one that did."""
        app = app_or_current(app)
        spooled = leftover.path
        if not os.path.exists(spooled):
            return "already gone"
        ticket = read_ticket(spooled)
        if ticket is None:
            remove_spool(spooled)
            return "removed"
        path = ticket["path"]
        provider = cls(path, app=app)
        where = provider._where(ticket["key"], ticket["token"], ticket["claim"])
        if where in ("uploaded", "gone"):
            remove_spool(spooled)
            return f"removed ({path} {'is on S3' if where == 'uploaded' else 'was deleted'})"
        if where == "pending":
            etag = provider._placeholder_etag(ticket["key"], ticket["claim"])
            if etag is not None:
                with (
                    write_conditions(app).replacing(
                        provider.bucket, ticket["key"], etag
                    ),
                    open(spooled, "rb") as source,
                ):
                    if provider._upload(source, ticket["key"], ticket["token"]):
                        remove_spool(spooled)
                        return f"re-uploaded to {path}"
        # Someone else's file holds the name: keep both, under a new name.
        with open(spooled, "rb") as source:
            saved = S3Provider(
                source, provider.location, filename=provider.filename, app=app
            ).save()
        remove_spool(spooled)
        return f"re-uploaded as {saved.relative_path} ({path} holds another file)"


_LEFTOVER_ACTIONS = {
    "uploaded": "remove: {path} is on S3",
    "gone": "remove: {path} was deleted",
    "pending": "re-upload to {path}",
    "taken": "re-upload under a new name: {path} holds another file",
}

#: What an upload ends with when its placeholder was deleted meanwhile.
_DELETED = UploadFailed("deleted before the background upload finished")


def _under(key: str, prefix: str) -> bool:
    return not prefix or key.startswith(prefix + "/")


def _is_missing(exc: UploadFailed) -> bool:
    """Whether an upload failed because its key no longer exists (If-Match)."""
    cause = exc.__cause__
    return isinstance(cause, ClientError) and _error_code(cause) in _NOT_FOUND


__all__ = [
    "S3GeventProvider",
    "S3Provider",
    "default_domain",
    "s3_client",
    "wait_for_uploads",
]
