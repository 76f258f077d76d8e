"""The bytes of a resumable upload while it is under way, in the store's spool.

Each upload is one file, ``.flask-store-tus-<id>.upload``, in the hidden
spool folder inside ``STORE_PATH``; what it is for (its length, name and
folder) travels in the signed upload URL, so nothing else is kept. Chunks
are written at their offset under an exclusive lock. The finished file is
published like any save, with a hard link (nothing is copied), and a small
receipt file, ``.flask-store-tus-<id>.done``, remembers where it went, for a
client whose last response was lost. ``flask store cleanup`` removes both
once they are older than its grace period, like every spooled upload.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from .. import fsops
from ..backends.publish import TEMP_PREFIX
from ..backends.spooled import SPOOL_FOLDER, SpooledUpload

if TYPE_CHECKING:
    from ..backends.local import LocalBackend

#: Bytes read from the request and written per system call.
CHUNK = 1024 * 1024


class OffsetMismatch(Exception):
    """The chunk does not start where the upload's bytes end."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


class Busy(Exception):
    """Another request is writing this upload."""


class Gone(Exception):
    """The upload's file is not in the spool (terminated, swept, or published)."""


class TooLong(Exception):
    """The request carries more bytes than the upload has left."""


class SpooledTusUpload:
    """The spool files of the upload ``upload_id`` in ``backend``'s store."""

    def __init__(self, backend: LocalBackend, upload_id: str) -> None:
        self.backend = backend
        self.data = f"{TEMP_PREFIX}tus-{upload_id}.upload"
        self.done = f"{TEMP_PREFIX}tus-{upload_id}.done"

    @contextlib.contextmanager
    def _folder(self) -> Iterator[int]:
        fd = self.backend.spool_folder()
        try:
            yield fd
        finally:
            os.close(fd)

    def create(self) -> None:
        """Create the empty data file; it must not exist yet."""
        with self._folder() as folder:
            os.close(
                os.open(
                    self.data, fsops.CREATE_FLAGS | os.O_WRONLY, 0o600, dir_fd=folder
                )
            )

    def offset(self) -> int | None:
        """How many bytes are spooled; ``None`` when there is no data file."""
        with self._folder() as folder:
            try:
                st = os.stat(self.data, dir_fd=folder, follow_symlinks=False)
            except FileNotFoundError:
                return None
        return st.st_size if stat.S_ISREG(st.st_mode) else None

    def receipt(self) -> dict[str, Any] | None:
        """Where the finished upload was stored (``path``, ``size``), if it was."""
        with self._folder() as folder:
            try:
                fd = os.open(self.done, fsops.FILE_FLAGS, dir_fd=folder)
            except FileNotFoundError:
                return None
        with os.fdopen(fd, "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                return None
            try:
                value: dict[str, Any] = json.loads(file.read(4096))
            except ValueError:
                return None
        return value

    @contextlib.contextmanager
    def locked(self) -> Iterator[tuple[int, int]]:
        """The spool folder and the data file, opened and locked exclusively.

        :class:`Busy` when another request holds the lock; :class:`Gone` when
        the file is missing, or no longer the one under the name once locked
        (published or replaced meanwhile): its bytes are never written then.
        """
        with self._folder() as folder:
            try:
                fd = os.open(
                    self.data,
                    os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK,
                    dir_fd=folder,
                )
            except OSError as exc:
                if exc.errno in (errno.ENOENT, errno.ELOOP):
                    raise Gone from None
                raise
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise Busy from None
                try:
                    named = os.stat(self.data, dir_fd=folder, follow_symlinks=False)
                except FileNotFoundError:
                    raise Gone from None
                own = os.fstat(fd)
                if (
                    not stat.S_ISREG(own.st_mode)
                    # A second name (a hard link from elsewhere) would have
                    # us write outside the store: only our own file will do.
                    or own.st_nlink != 1
                    or (named.st_dev, named.st_ino) != (own.st_dev, own.st_ino)
                ):
                    raise Gone
                yield folder, fd
            finally:
                os.close(fd)

    def append(self, stream: IO[bytes], offset: int, length: int, fd: int) -> int:
        """Write ``stream``'s bytes at ``offset`` of the locked file ``fd``.

        The upload must have exactly ``offset`` bytes (:class:`OffsetMismatch`
        otherwise), and the request at most the ``length - offset`` bytes it
        lacks (:class:`TooLong`: then nothing of this request is kept). Bytes
        received before a client disconnects are kept, so it can resume.
        Returns the new offset.
        """
        size = os.fstat(fd).st_size
        if size != offset:
            raise OffsetMismatch(size)
        position = offset
        while True:
            # One byte more than is left, to tell a request that is too long.
            chunk = stream.read(min(CHUNK, length - position + 1))
            if not chunk:
                return position
            if position + len(chunk) > length:
                os.ftruncate(fd, offset)
                raise TooLong
            written = 0
            while written < len(chunk):
                written += os.pwrite(
                    fd, memoryview(chunk)[written:], position + written
                )
            position += len(chunk)

    def publish(self, folder: int, fd: int, save: Any) -> tuple[str, int]:
        """Store the finished file with ``save(upload)`` and leave a receipt.

        ``save`` gets a :class:`SpooledUpload` of the data file, which the
        local backend publishes with a hard link; closing it removes the
        spool name. Returns the stored path and the size.
        """
        size = os.fstat(fd).st_size
        upload = SpooledUpload(
            os.path.join(self.backend.root, SPOOL_FOLDER, self.data),
            os.dup(fd),
            dir_fd=os.dup(folder),
            name=self.data,
        )
        with upload:
            path: str = save(upload)
        receipt = json.dumps({"path": path, "size": size}).encode()
        done = os.open(
            self.done, fsops.CREATE_FLAGS | os.O_WRONLY, 0o600, dir_fd=folder
        )
        with os.fdopen(done, "wb") as file:
            file.write(receipt)
        return path, size

    def remove(self) -> bool:
        """Delete the data file (termination); whether there was one."""
        with self._folder() as folder:
            try:
                os.unlink(self.data, dir_fd=folder)
            except FileNotFoundError:
                return False
        return True
