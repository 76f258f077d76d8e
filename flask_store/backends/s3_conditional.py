"""Conditional writes on S3: what the server does with them, and what to do.

Every object Flask-Store creates is written with ``If-None-Match: *`` (a taken
key answers ``412``), and a background upload replaces its own placeholder
with ``If-Match`` on the placeholder's ETag. Some S3-compatible servers accept
these headers and ignore them: the write overwrites. Whether the bucket's
server honours them is found out once per app and process by a real probe
(:func:`probe`), and ``STORE_S3_CONDITIONAL_WRITES`` says what to do about it.
On a server that ignores them, saves check names with a HEAD and reserve them
(:data:`reservations`): within the process, and on this host with a lock file
per name slot, which keeps apart every same-name save of the processes of one
machine (gunicorn workers); saves from several machines can still race there.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .. import names
from ..exceptions import NotConfiguredError, StorageError
from .base import CheckResult

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError as exc:  # pragma: no cover - s3.py gives the helpful error
    raise ImportError(
        "Could not load boto3, which the S3 providers need. Install it with "
        "pip install 'Flask-Store[s3]'."
    ) from exc

if TYPE_CHECKING:
    from flask.config import Config
    from mypy_boto3_s3 import S3Client

log = logging.getLogger("flask_store.providers.s3")

SETTING = "STORE_S3_CONDITIONAL_WRITES"

#: Name of the probe object, under ``STORE_PATH``; a random suffix follows.
PROBE_PREFIX = ".flask-store-probe-"

#: 412: the name is taken; 409: another conditional write to it is in flight.
TAKEN = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict"})

#: What a server answers that does not take the header at all.
_REJECTED = frozenset({"NotImplemented", "501", "InvalidArgument", "InvalidRequest"})


def setting(config: Config) -> bool | str:
    """``STORE_S3_CONDITIONAL_WRITES`` validated: ``"auto"``, True or False."""
    value = config.get(SETTING, "auto")
    if value is True or value is False or value == "auto":
        return value  # type: ignore[no-any-return]
    raise NotConfiguredError(f'{SETTING} must be "auto", True or False, not {value!r}.')


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class WriteConditions:
    """Adds the condition to every object write of one client.

    ``If-None-Match: *`` by default; ``If-Match`` with the expected ETag for a
    key registered with :meth:`replacing` (a placeholder this process owns).
    The managed transfer takes neither as an argument, and runs multipart
    requests in its own threads, so the condition is looked up by key.
    """

    def __init__(self, wanted: bool | str) -> None:
        #: ``STORE_S3_CONDITIONAL_WRITES``: ``"auto"``, True or False.
        self.wanted = wanted
        self.enabled = wanted is not False
        #: Whether the server honours them, once a probe has found out.
        self.verdict: bool | None = None
        self.warned = False
        self._lock = threading.Lock()
        self._expected: dict[tuple[str, str], str] = {}

    def install(self, client: S3Client) -> None:
        for operation in ("PutObject", "CompleteMultipartUpload"):
            client.meta.events.register(
                f"before-parameter-build.s3.{operation}", self._add_condition
            )

    @contextmanager
    def replacing(self, bucket: str, key: str, etag: str) -> Iterator[None]:
        """Within the block, writes to ``key`` require its ETag to be ``etag``."""
        with self._lock:
            self._expected[(bucket, key)] = etag
        try:
            yield
        finally:
            with self._lock:
                self._expected.pop((bucket, key), None)

    def _add_condition(self, params: dict[str, Any], **_: Any) -> None:
        if not self.enabled or "IfMatch" in params or "IfNoneMatch" in params:
            return
        with self._lock:
            etag = self._expected.get((params.get("Bucket", ""), params.get("Key", "")))
        if etag is not None:
            params["IfMatch"] = etag
        else:
            params["IfNoneMatch"] = "*"


if sys.platform != "win32":  # Windows: reservations within the process only
    import fcntl

#: Lock files, one per slot that names hash to: a bounded number of files
#: whatever the number of names. Two names rarely share a slot; when they do,
#: a save of one skips its first choice for a suffixed name while the other
#: is saved, which is harmless.
LOCK_SLOTS = 4096
LOCK_FOLDER = "flask-store-locks"


class Reservations:
    """Keys that a save is writing: no other save of this host takes them.

    Within the process a set; across the processes of the host an exclusive,
    non-blocking ``flock`` on the name's slot file in the temporary folder
    (where it cannot be made, for example another user's folder, only the
    process's own saves are kept apart). A taken name is skipped, never
    waited for.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reserved: dict[tuple[str, str], int | None] = {}

    def reserve(self, bucket: str, key: str, *, host: bool = False) -> bool:
        """Claim ``key`` for one save; False if another save has it.

        With ``host``, the processes of this host are kept off it too, until
        :meth:`release` or :meth:`unlock_host`.
        """
        with self._lock:
            if (bucket, key) in self._reserved:
                return False
            self._reserved[(bucket, key)] = None
        if not host:
            return True
        taken, fd = _lock_slot(bucket, key)
        if taken:
            self.release(bucket, key)
            return False
        with self._lock:
            self._reserved[(bucket, key)] = fd
        return True

    def release(self, bucket: str, key: str) -> None:
        with self._lock:
            fd = self._reserved.pop((bucket, key), None)
        if fd is not None:
            os.close(fd)  # and with it the lock

    def unlock_host(self, bucket: str, key: str) -> None:
        """Let other processes at ``key`` again; this process keeps it."""
        with self._lock:
            fd = self._reserved.get((bucket, key))
            if fd is not None:
                self._reserved[(bucket, key)] = None
        if fd is not None:
            os.close(fd)


def _lock_slot(bucket: str, key: str) -> tuple[bool, int | None]:
    """(taken, fd): whether another process holds the slot, else its lock's fd.

    The fd is None when host locks are unavailable here (the caller relies
    on the process's own reservations).
    """
    if sys.platform == "win32":
        return False, None
    folder = os.path.join(tempfile.gettempdir(), LOCK_FOLDER)
    digest = hashlib.sha256(f"{bucket}\0{key}".encode()).digest()
    slot = int.from_bytes(digest[:4], "big") % LOCK_SLOTS
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        # The temporary folder is shared: use the lock folder only if it is
        # ours and nobody else may write in it, and never follow a symlink.
        st = os.lstat(folder)
        if (
            not stat.S_ISDIR(st.st_mode)
            or st.st_uid != os.geteuid()
            or (st.st_mode & 0o022)
        ):
            raise PermissionError(f"{folder} is not a private folder of this user")
        fd = os.open(
            os.path.join(folder, f"{slot:04d}.lock"),
            os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
            0o600,
        )
    except OSError as exc:
        log.debug("No host-wide name locks in %s: %s", folder, exc)
        return False, None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return True, None
    except OSError as exc:
        os.close(fd)
        log.debug("No host-wide name locks in %s: %s", folder, exc)
        return False, None
    return False, fd


#: The process's reserved keys, shared by every app and both S3 providers.
reservations = Reservations()


def probe(client: S3Client, bucket: str, prefix: str) -> bool:
    """Whether the server honours ``If-None-Match: *``, by trying it.

    Writes a small object under ``prefix`` twice with the condition, then
    deletes it: a server that honours it refuses the second write. Raises
    :class:`StorageError` when the server cannot be asked (or rejects the
    header itself).
    """
    key = names.join_key(prefix, PROBE_PREFIX + secrets.token_hex(8))
    try:
        try:
            client.put_object(Bucket=bucket, Key=key, Body=b"1", IfNoneMatch="*")
        except ClientError as exc:
            # A retried first write whose reply was lost: the key is random,
            # so the object in the way is the probe's own.
            if error_code(exc) not in TAKEN:
                raise
        try:
            client.put_object(Bucket=bucket, Key=key, Body=b"2", IfNoneMatch="*")
        except ClientError as exc:
            if error_code(exc) in TAKEN:
                return True
            raise
        return False
    except (ClientError, BotoCoreError) as exc:
        hint = ""
        if isinstance(exc, ClientError) and error_code(exc) in _REJECTED:
            hint = (
                f"; for a server that refuses the If-None-Match header, set "
                f"{SETTING} = False"
            )
        raise StorageError(
            f"S3 could not be asked whether it honours conditional writes "
            f"(writing {key!r}): {exc}{hint}"
        ) from exc
    finally:
        try:
            client.delete_object(Bucket=bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            log.warning("Could not delete the probe object %r: %s", key, exc)


def honoured(
    conditions: WriteConditions, client: S3Client, bucket: str, prefix: str
) -> bool:
    """Whether saves may rely on conditional writes in ``bucket``.

    ``False`` when ``STORE_S3_CONDITIONAL_WRITES`` is False; else the probe's
    verdict, found once and kept in ``conditions``. Raises
    :class:`~flask_store.exceptions.StorageError` when the setting is True and
    the server ignores them. A probe that fails is not kept: that save takes
    the careful path and the next one asks again.
    """
    wanted = conditions.wanted
    if wanted is False:
        return False
    verdict = conditions.verdict
    if verdict is None:
        try:
            verdict = probe(client, bucket, prefix)
        except StorageError as exc:
            if wanted is True:
                raise
            log.warning("%s; checking names before writing meanwhile.", exc)
            return False
        conditions.verdict = verdict
    if verdict:
        return True
    if wanted is True:
        raise StorageError(
            f"The S3 server of bucket {bucket!r} ignores conditional writes "
            f"(If-None-Match), so a save could overwrite a file; {SETTING} is "
            'True, so nothing is saved. Set it to "auto" to check names '
            "before writing instead, or use a server that honours them."
        )
    with conditions._lock:
        warned, conditions.warned = conditions.warned, True
    if not warned:
        log.warning(
            "The S3 server of bucket %r ignores conditional writes "
            "(If-None-Match): Flask-Store checks each name before writing and "
            "keeps the saves of this machine apart, but saves from several "
            "machines can race for one name on that server.",
            bucket,
        )
    return False


def check(
    conditions: WriteConditions, client: S3Client, bucket: str, prefix: str
) -> CheckResult:
    """``flask store check``'s step: a real probe, and what the setting makes of it."""
    wanted = conditions.wanted
    try:
        verdict = probe(client, bucket, prefix)
    except StorageError as exc:
        # With False, saves send no condition: a server that rejects the
        # header outright is what that setting is for.
        return CheckResult(
            "conditional writes",
            wanted is False,
            f"{exc}"
            + (
                f"; {SETTING} is False, so saves send no "
                "condition and check names before writing"
                if wanted is False
                else ""
            ),
        )
    conditions.verdict = verdict
    setting = f"{SETTING} = {wanted!r}"
    if verdict:
        detail = (
            "the server honours them: a second write of the probe with "
            "If-None-Match: * was refused (412), so a taken name is never "
            "overwritten"
        )
        if wanted is False:
            detail += f"; {setting}, so saves check names before writing instead"
        return CheckResult("conditional writes", True, detail)
    detail = (
        "the server IGNORES them: a second write of the probe with "
        "If-None-Match: * overwrote the first"
    )
    if wanted is True:
        return CheckResult(
            "conditional writes",
            False,
            f"{detail}; {setting}, so saves are refused",
        )
    return CheckResult(
        "conditional writes",
        True,
        f"{detail}; {setting}: saves check each name before writing and keep "
        "the saves of this machine's processes apart, but saves from several "
        "machines can race for one name on this server",
    )
