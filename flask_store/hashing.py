"""A save's SHA-256, computed beside the copy instead of before it.

``hashlib`` lets other threads run while it hashes more than a few KiB, so a
large file is hashed in a worker thread while the thread that saves it goes
on copying: the hash costs the save little more than the copy itself. Small
reads are hashed where they are, with no thread at all.
"""

from __future__ import annotations

import hashlib
import os
import queue
import stat
import threading

#: Reads at least this large are hashed by the worker.
BACKGROUND_MIN = 256 * 1024

#: Chunks waiting for the worker at most: what a copy may run ahead, in memory.
MAX_PENDING = 2

#: How much of a file the worker reads at a time.
_READ = 1024 * 1024

#: What tells the worker that nothing more comes.
_DONE = None


class Digest:
    """SHA-256 of the bytes given to :meth:`update`, in order, then of the
    rest of a file given to :meth:`update_from_file`."""

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self._pending: queue.Queue[bytes | tuple[int, int] | None] | None = None
        self._worker: threading.Thread | None = None
        self._error: BaseException | None = None
        #: Bytes the worker read from a file (:meth:`update_from_file`).
        self.file_bytes = 0

    def _start(self) -> queue.Queue[bytes | tuple[int, int] | None]:
        if self._pending is None:
            self._pending = queue.Queue(MAX_PENDING)
            self._worker = threading.Thread(
                target=self._work,
                args=(self._pending,),
                name="flask-store-sha256",
                daemon=True,
            )
            self._worker.start()
        return self._pending

    def _work(self, pending: queue.Queue[bytes | tuple[int, int] | None]) -> None:
        while (item := pending.get()) is not _DONE:
            try:
                if isinstance(item, bytes):
                    if self._error is None:
                        self._sha.update(item)
                else:
                    self._hash_file(*item)
            except BaseException as exc:
                self._error = exc

    def _hash_file(self, fd: int, offset: int) -> None:
        try:
            while self._error is None and (chunk := os.pread(fd, _READ, offset)):
                self._sha.update(chunk)
                offset += len(chunk)
                self.file_bytes += len(chunk)
        finally:
            os.close(fd)

    @property
    def in_background(self) -> bool:
        """Whether a worker thread hashes (a large read or file was given)."""
        return self._worker is not None

    def update(self, data: bytes) -> None:
        """Hash ``data`` after everything given before."""
        if self._pending is None and len(data) < BACKGROUND_MIN:
            self._sha.update(data)
        else:
            self._start().put(bytes(data))

    def update_from_file(self, fileno: int, offset: int) -> bool:
        """Hash the regular file ``fileno`` from ``offset`` to its end, in the
        worker, which reads it with its own descriptor: the file's position
        is left alone, so it can be copied meanwhile. ``False`` (nothing
        done) for anything but a regular file."""
        status = os.fstat(fileno)
        if not stat.S_ISREG(status.st_mode):
            return False
        if self._pending is None and status.st_size - offset < BACKGROUND_MIN:
            while chunk := os.pread(fileno, _READ, offset):
                self._sha.update(chunk)
                offset += len(chunk)
                self.file_bytes += len(chunk)
            return True
        self._start().put((os.dup(fileno), offset))
        return True

    def hexdigest(self) -> str:
        """The hash of everything given, once the worker is done with it."""
        self.close()
        if self._error is not None:
            raise self._error
        return self._sha.hexdigest()

    def close(self) -> None:
        """Let the worker finish what it was given, and stop it."""
        worker = self._worker
        if self._pending is not None and worker is not None and worker.is_alive():
            self._pending.put(_DONE)
            worker.join()
