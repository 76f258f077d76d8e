"""Paths in the local store, walked from an open descriptor of ``STORE_PATH``.

Every folder on the way to a stored file is opened relative to the one before
it with ``O_NOFOLLOW | O_DIRECTORY``, and the file itself relative to its
folder with ``O_NOFOLLOW``. A symlink, wherever it is and whenever it was
swapped in, fails the open instead of being followed, so nothing outside
``STORE_PATH`` is ever reached through the store. No path under the root is
ever resolved by name from the top again between a check and its use.

Everything here is plain ``os`` calls on descriptors: no Flask, no names
policy. The local provider, the serving route and the spool use it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
import weakref
from collections.abc import Iterator, Sequence

#: A folder on the way: never a symlink, always a folder.
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

#: A stored file to read. ``O_NONBLOCK`` so that a FIFO planted in the store
#: cannot hang the opener (it is refused once ``fstat`` shows what it is);
#: it changes nothing for a regular file.
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC

#: A new file, created exclusively: never an existing file, never a symlink.
CREATE_FLAGS = os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC

#: What opening a symlink with ``O_NOFOLLOW`` (or a file as a folder) fails with.
_NOT_FOLLOWED = frozenset({errno.ELOOP, errno.ENOTDIR, errno.ENXIO, errno.EMLINK})


class Refused(Exception):
    """A part of the path is a symlink or not a folder; it was not followed."""

    def __init__(self, parts: Sequence[str], reason: str) -> None:
        super().__init__(f"{'/'.join(parts)!r}: {reason}")
        self.parts = tuple(parts)
        self.reason = reason


def _check_part(parts: Sequence[str], part: str) -> None:
    # The caller validated the names; this keeps the walk one level per part
    # whatever it is given.
    if not part or part in (".", "..") or "/" in part or "\0" in part:
        raise Refused(parts, "not a single path component")


def _open_dir(name: str, dir_fd: int, parts: Sequence[str]) -> int:
    try:
        return os.open(name, DIR_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in _NOT_FOLLOWED:
            raise Refused(parts, "a symlink or not a folder") from None
        raise


def open_folder(dir_fd: int, parts: Sequence[str]) -> int:
    """A new descriptor of the folder ``parts`` under ``dir_fd``; close it.

    With no parts, a new descriptor of ``dir_fd``'s own folder (not a
    duplicate: listing it never moves anyone else's position).
    """
    fd = _open_dir(".", dir_fd, parts) if not parts else -1
    try:
        for part in parts:
            _check_part(parts, part)
            new = _open_dir(part, dir_fd if fd == -1 else fd, parts)
            if fd != -1:
                os.close(fd)
            fd = new
    except BaseException:
        if fd != -1:
            os.close(fd)
        raise
    return fd


def open_file(dir_fd: int, parts: Sequence[str]) -> tuple[int, os.stat_result]:
    """Open the regular file ``parts`` under ``dir_fd`` for reading.

    Returns the descriptor (the caller closes it) and its ``fstat``. A
    symlink or anything but a regular file is :class:`Refused`.
    """
    *folders, name = parts
    _check_part(parts, name)
    folder = open_folder(dir_fd, folders) if folders else dir_fd
    try:
        fd = os.open(name, FILE_FLAGS, dir_fd=folder)
    except OSError as exc:
        if exc.errno in _NOT_FOLLOWED:
            raise Refused(parts, "a symlink or not a file") from None
        raise
    finally:
        if folder != dir_fd:
            os.close(folder)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Refused(parts, "not a regular file")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def stat_file(dir_fd: int, parts: Sequence[str]) -> os.stat_result:
    """The ``lstat`` of the regular file ``parts`` under ``dir_fd``."""
    *folders, name = parts
    _check_part(parts, name)
    folder = open_folder(dir_fd, folders) if folders else dir_fd
    try:
        st = os.stat(name, dir_fd=folder, follow_symlinks=False)
    finally:
        if folder != dir_fd:
            os.close(folder)
    if not stat.S_ISREG(st.st_mode):
        raise Refused(parts, "a symlink or not a regular file")
    return st


def unlink_file(dir_fd: int, parts: Sequence[str]) -> None:
    """Remove the regular file ``parts`` under ``dir_fd``; never a symlink's target.

    Whatever was swapped in meanwhile, ``unlinkat`` removes a name in the
    folder that was opened, never anything a symlink points to.
    """
    *folders, name = parts
    _check_part(parts, name)
    folder = open_folder(dir_fd, folders) if folders else dir_fd
    try:
        st = os.stat(name, dir_fd=folder, follow_symlinks=False)
        if not stat.S_ISREG(st.st_mode):
            raise Refused(parts, "a symlink or not a regular file")
        os.unlink(name, dir_fd=folder)
    finally:
        if folder != dir_fd:
            os.close(folder)


class Folders:
    """The folders ``parts`` under ``dir_fd``, created where missing and opened.

    ``fd`` is the deepest one. :meth:`close` with ``remove=True`` removes the
    folders this call created, when they are still empty: a failed save
    leaves no folders behind.
    """

    def __init__(self, dir_fd: int, parts: Sequence[str], mode: int = 0o777) -> None:
        self.parts = tuple(parts)
        self.mode = mode
        self._open_all(dir_fd)

    def _open_all(self, dir_fd: int) -> None:
        #: ``fds[i]`` is the folder ``parts[i]`` is in; ``fds[0]`` is not ours.
        self.fds = [dir_fd]
        #: Index of the first folder this call created.
        self.created = len(self.parts)
        try:
            for i, part in enumerate(self.parts):
                _check_part(self.parts, part)
                self.fds.append(self._open_or_make(i, part, self.mode))
        except BaseException:
            self.close(remove=True)
            raise

    def make_again(self, dir_fd: int) -> None:
        """Open the folders again from ``dir_fd``, made where missing: one of
        them was removed since they were opened."""
        self.close()
        self._open_all(dir_fd)

    def _open_or_make(self, i: int, part: str, mode: int) -> int:
        # Most saves go to a folder that exists: open it first, make it only
        # when missing (or removed by a failed save meanwhile).
        for _ in range(3):
            try:
                return _open_dir(part, self.fds[-1], self.parts)
            except FileNotFoundError:
                pass
            try:
                os.mkdir(part, mode, dir_fd=self.fds[-1])
            except FileExistsError:
                pass
            else:
                self.created = min(self.created, i)
        return _open_dir(part, self.fds[-1], self.parts)

    @property
    def fd(self) -> int:
        return self.fds[-1]

    def close(self, *, remove: bool = False) -> None:
        """Close the descriptors; with ``remove``, remove the created folders."""
        if remove:
            for i in range(len(self.fds) - 2, self.created - 1, -1):
                try:
                    os.rmdir(self.parts[i], dir_fd=self.fds[i])
                except OSError:  # not empty: another save uses it now
                    break
        for fd in self.fds[1:]:
            os.close(fd)
        del self.fds[1:]


def walk(
    dir_fd: int, parts: Sequence[str] = ()
) -> Iterator[tuple[str, int, list[os.DirEntry[str]]]]:
    """Each folder from ``parts`` under ``dir_fd`` down, top-down, names sorted.

    Yields ``(relative path, descriptor, entries)``. The sub-folders among
    ``entries`` (folders, never symlinks) are walked after their parent, in
    the order left in ``entries``: remove one from the list to skip it. Each
    is opened with ``O_NOFOLLOW``; the descriptor is valid until the next step.
    """
    fd = open_folder(dir_fd, parts)
    try:
        yield from _walk(fd, "/".join(parts))
    finally:
        os.close(fd)


def _walk(fd: int, relative: str) -> Iterator[tuple[str, int, list[os.DirEntry[str]]]]:
    with os.scandir(fd) as it:
        entries = sorted(it, key=lambda e: e.name)
    yield relative, fd, entries
    for entry in entries:
        try:
            if not entry.is_dir(follow_symlinks=False):
                continue
            sub = _open_dir(entry.name, fd, (entry.name,))
        except (OSError, Refused):  # gone, or swapped for a symlink meanwhile
            continue
        try:
            yield from _walk(
                sub, f"{relative}/{entry.name}" if relative else entry.name
            )
        finally:
            os.close(sub)


def _close_all(fds: list[tuple[int, int]]) -> None:
    pid = os.getpid()
    for owner, fd in fds:
        # A forked child inherits the numbers but closes only what it opened.
        if owner == pid:
            with contextlib.suppress(OSError):
                os.close(fd)
    fds.clear()


class StoreDir:
    """An open descriptor of a store's root folder, opened once per process.

    ``STORE_PATH`` itself is configuration, trusted and resolved by name;
    everything under it is reached from this descriptor. When the folder at
    ``STORE_PATH`` is replaced (removed and made again, renamed), or in a
    forked child (gunicorn workers), it is opened again. Descriptors are
    closed with this object, never while another thread may use them.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        #: (pid, st_dev, st_ino, fd) of the current descriptor.
        self._current = (0, 0, 0, -1)
        self._opened: list[tuple[int, int]] = []
        weakref.finalize(self, _close_all, self._opened)

    def __repr__(self) -> str:
        return f"<StoreDir {self.path!r}>"

    def fd(self, *, create: bool = False) -> int:
        """The root descriptor; with ``create``, the folder is made when missing.

        :raises FileNotFoundError: the folder is missing (and not ``create``).
        """
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            if not create:
                raise
            os.makedirs(self.path, exist_ok=True)
            st = os.stat(self.path)
        pid, dev, ino, fd = self._current
        if (pid, dev, ino) == (os.getpid(), st.st_dev, st.st_ino):
            return fd
        with self._lock:
            pid, dev, ino, fd = self._current
            if (pid, dev, ino) == (os.getpid(), st.st_dev, st.st_ino):
                return fd
            fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            opened = os.fstat(fd)
            self._opened.append((os.getpid(), fd))
            self._current = (os.getpid(), opened.st_dev, opened.st_ino, fd)
            return fd
