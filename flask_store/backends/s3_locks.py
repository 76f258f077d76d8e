"""Keys a save is writing, kept from this host's other saves.

On a server that ignores conditional writes, a save checks its name with a
HEAD before writing it; between the two, no other save of this process or of
this host's other processes may take the same name. Within the process that
is a set; across processes an exclusive, non-blocking ``flock`` on the
name's slot file in a lock folder of the user's own
(``STORE_S3_LOCK_PATH``, by default ``flask-store-locks-<uid>`` in the
system temporary folder). When that folder cannot be used (it belongs to
another user, others may write in it), the save is refused: without the lock
two processes could write one name.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import tempfile
import threading

from ..exceptions import UploadFailed

if sys.platform != "win32":  # Windows: reservations within the process only
    import fcntl

#: Lock files, one per slot that names hash to: a bounded number of files
#: whatever the number of names. Two names rarely share a slot; when they do,
#: a save of one skips its first choice for a suffixed name while the other
#: is saved, which is harmless.
LOCK_SLOTS = 4096

#: The setting naming the lock folder.
SETTING = "STORE_S3_LOCK_PATH"


def default_folder() -> str:
    """``flask-store-locks-<uid>`` in the system temporary folder.

    One per user: a folder another user made first in the shared temporary
    folder can never take this user's locks away.
    """
    uid = os.geteuid() if sys.platform != "win32" else 0
    return os.path.join(tempfile.gettempdir(), f"flask-store-locks-{uid}")


class Reservations:
    """Keys that a save is writing: no other save of this host takes them.

    A taken name is skipped, never waited for.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reserved: dict[tuple[str, str], int | None] = {}

    def reserve(self, bucket: str, key: str, *, locks: str | None = None) -> bool:
        """Claim ``key`` for one save; False if another save has it.

        With ``locks``, a lock folder, the processes of this host are kept
        off it too, until :meth:`release` or :meth:`unlock_host`.

        :raises UploadFailed: when the lock folder cannot be used.
        """
        with self._lock:
            if (bucket, key) in self._reserved:
                return False
            self._reserved[(bucket, key)] = None
        if locks is None:
            return True
        try:
            taken, fd = _lock_slot(locks, bucket, key)
        except BaseException:
            self.release(bucket, key)
            raise
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


def _lock_slot(folder: str, bucket: str, key: str) -> tuple[bool, int | None]:
    """(taken, fd): whether another process holds the slot, else its lock's fd.

    The fd is None on Windows, which has no ``flock`` (the process's own
    reservations only).

    :raises UploadFailed: naming ``folder`` when its locks cannot be had.
    """
    if sys.platform == "win32":
        return False, None
    digest = hashlib.sha256(f"{bucket}\0{key}".encode()).digest()
    slot = int.from_bytes(digest[:4], "big") % LOCK_SLOTS
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        # Use the lock folder only if it is ours and nobody else may write in
        # it (another user could remove or swap the lock files), and never
        # follow a symlink.
        st = os.lstat(folder)
        if (
            not stat.S_ISDIR(st.st_mode)
            or st.st_uid != os.geteuid()
            or (st.st_mode & 0o022)
        ):
            raise PermissionError(
                "it is not a folder of this user that only this user may write in"
            )
        fd = os.open(
            os.path.join(folder, f"{slot:04d}.lock"),
            os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
            0o600,
        )
    except OSError as exc:
        raise _unusable(folder, exc) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return True, None
    except OSError as exc:
        os.close(fd)
        raise _unusable(folder, exc) from exc
    return False, fd


def _unusable(folder: str, exc: OSError) -> UploadFailed:
    return UploadFailed(
        f"Nothing was written: the S3 server ignores conditional writes, so "
        f"each name is locked in {folder!r} to keep this machine's processes "
        f"apart, and that lock folder cannot be used ({exc}). Set {SETTING} to "
        "a folder of this user's own that others cannot write in."
    )


#: The process's reserved keys, shared by every app and both S3 providers.
reservations = Reservations()
