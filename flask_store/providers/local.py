"""Local disk storage, the default provider.

Files are written to a temporary file in their destination folder, flushed to
disk, then published under their final name with a hard link, which fails
rather than replace a file that is already there. So a name is never
overwritten, even by another process, and a file is either complete under its
final name or absent.
"""

from __future__ import annotations

import contextlib
import errno
import heapq
import io
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import IO, TYPE_CHECKING

from .. import names
from ..exceptions import FolderConflict, StoredFileNotFound, UploadFailed
from ..spool import SpooledUpload
from .base import CHUNK_SIZE, FolderPage, Provider, StoredFile, app_or_current, matches

if TYPE_CHECKING:
    from flask import Flask

#: Prefix of the temporary files written before a file is published. Names
#: starting with a dot are never produced by ``secure_name``, listed or served.
TEMP_PREFIX = ".flask-store-"

_umask_lock = threading.Lock()
_umask: int | None = None


def _file_mode() -> int:
    """``0o666`` less the process umask, read once (``mkstemp`` uses ``0o600``)."""
    global _umask
    with _umask_lock:
        if _umask is None:
            _umask = os.umask(0o022)
            os.umask(_umask)
        return 0o666 & ~_umask


def store_root(app: Flask) -> str:
    """The real, absolute path of the app's ``STORE_PATH``.

    Resolved once per app and ``STORE_PATH`` value: every save, read and
    served file needs it.
    """
    path = str(app.config["STORE_PATH"])
    state = app.extensions.get("store")
    if state is None:
        return os.path.realpath(path)
    key = f"local.root:{path}"
    root: str | None = state.cache.get(key)
    if root is None:
        root = state.cache[key] = os.path.realpath(path)
    return root


def confined(root: str, relative: str) -> str:
    """The absolute path of ``relative`` under ``root``, symlinks resolved.

    Raises :class:`StoredFileNotFound` when it resolves outside ``root`` (a
    symlink pointing out), so nothing outside the store is ever touched.
    """
    path = os.path.join(root, *relative.split("/")) if relative else root
    real = os.path.realpath(path)
    if real != root and os.path.commonpath([root, real]) != root:
        raise StoredFileNotFound(f"{relative!r} resolves outside STORE_PATH.")
    return real


def make_folder(root: str, location: str) -> str:
    """Create ``location`` under ``root`` one level at a time; return its path.

    Each level is checked before the next is made in it, so a symlink planted
    in the store can never make us create folders outside it.
    """
    os.makedirs(root, exist_ok=True)
    path = root
    for part in location.split("/") if location else ():
        path = os.path.join(path, part)
        with contextlib.suppress(FileExistsError):
            os.mkdir(path)
        real = os.path.realpath(path)
        if os.path.commonpath([root, real]) != root or not os.path.isdir(real):
            raise FolderConflict(f"{location!r} is not a folder inside STORE_PATH.")
    return os.path.realpath(path)


def _fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


#: Errors from os.link that mean "no hard links here", not a failure.
_NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV})


class _NoHardLinks(Exception):
    """The filesystem cannot hard-link the file."""


def _publish(source: str, final: str, *, may_move: bool) -> bool:
    """Give ``source`` the name ``final`` unless it is taken; False when taken.

    A hard link fails rather than replace a file. Without hard links, a file
    that ``may_move`` reserves the name exclusively and moves over the (empty)
    reservation; any other raises :class:`_NoHardLinks`.
    """
    try:
        os.link(source, final)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        if not may_move:
            raise _NoHardLinks() from exc
        try:
            os.close(os.open(final, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            return False
        os.replace(source, final)
    return True


def _publish_first(
    source: str, folder: str, candidates: list[str], *, fsync: bool, may_move: bool
) -> str:
    """Publish ``source`` in ``folder`` under the first free candidate name."""
    for candidate in candidates:
        final = os.path.join(folder, candidate.rpartition("/")[2])
        if _publish(source, final, may_move=may_move):
            if fsync:
                _fsync_dir(folder)
            return candidate
    raise UploadFailed(
        f"Could not find a free name for {candidates[0]!r} after "
        f"{len(candidates)} attempts."
    )


#: Errors that mean "no kernel copy between these two files", not a failure.
_NO_KERNEL_COPY = frozenset(
    {
        errno.EXDEV,
        errno.ENOSYS,
        errno.EINVAL,
        errno.EOPNOTSUPP,
        errno.ENOTSUP,
        errno.EBADF,
    }
)


def _regular_file(stream: IO[bytes]) -> IO[bytes] | None:
    """The open regular file under ``stream``, or ``None`` for anything else."""
    if isinstance(stream, tempfile.SpooledTemporaryFile):
        # Werkzeug's default upload container. Asking an in-memory one for its
        # fileno() would write it to disk first, so only a rolled-over one is used.
        if not getattr(stream, "_rolled", False):
            return None
        stream = getattr(stream, "_file", stream)
    # Only plain files: a wrapper such as gzip.GzipFile has a fileno() too,
    # but its data is not what that file descriptor holds.
    if not isinstance(stream, (io.BufferedReader, io.BufferedRandom, io.FileIO)):
        return None
    try:
        fd = stream.fileno()
        stream.flush()
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation too
        return None
    return stream


def _copy(stream: IO[bytes], out: IO[bytes]) -> None:
    """Copy the rest of ``stream`` to the start of the new file ``out``.

    Between two regular files the kernel copies (``copy_file_range``): no
    round trip through Python buffers, and a reflink where the filesystem can.
    Anything else is copied in chunks.
    """
    source = _regular_file(stream)
    copy_file_range = getattr(os, "copy_file_range", None)
    if source is not None and copy_file_range is not None:
        start = offset = source.tell()
        try:
            while copied := copy_file_range(
                source.fileno(), out.fileno(), CHUNK_SIZE * 64, offset
            ):
                offset += copied
        except OSError as exc:
            if offset != start or exc.errno not in _NO_KERNEL_COPY:
                raise
        # Nothing copied may also mean a file whose size the kernel does not
        # know (procfs and the like): read it the ordinary way then.
        if offset != start:
            source.seek(offset)
            return
    shutil.copyfileobj(stream, out, CHUNK_SIZE)


def _link_spooled(
    upload: SpooledUpload, folder: str, candidates: list[str], fsync: bool
) -> str | None:
    """Publish an upload spooled inside the store by hard-linking its file.

    Nothing is copied. Returns the path used, or ``None`` when the file cannot
    be linked (another filesystem, no hard links, already moved), so the
    caller copies it instead.
    """
    if upload.closed or upload.tell() != 0:
        return None
    upload.flush()
    fd = upload.fileno()
    try:
        if os.stat(upload.path).st_ino != os.fstat(fd).st_ino:
            return None
    except FileNotFoundError:
        return None
    os.fchmod(fd, _file_mode())
    if fsync:
        os.fsync(fd)
    try:
        return _publish_first(
            upload.path, folder, candidates, fsync=fsync, may_move=False
        )
    except _NoHardLinks:
        return None


def _entry(path: str, st: os.stat_result, is_folder: bool = False) -> StoredFile:
    return StoredFile(
        path=path,
        is_folder=is_folder,
        size=None if is_folder else st.st_size,
        modified=datetime.fromtimestamp(st.st_mtime, tz=timezone.utc),
    )


class LocalProvider(Provider):
    """Stores files in ``STORE_PATH`` on the local disk and serves them.

    ``STORE_PATH`` defaults to ``<instance_path>/uploads``; files are served
    under ``STORE_URL_PREFIX`` (default ``/uploads``).
    """

    register_route = True

    @staticmethod
    def app_defaults(app: Flask) -> None:
        app.config.setdefault("STORE_PATH", os.path.join(app.instance_path, "uploads"))
        app.config.setdefault("STORE_URL_PREFIX", "/uploads")
        path = app.config["STORE_PATH"]
        if path and not os.path.isabs(path):
            # Relative to the app, like Flask's own folders; never the cwd.
            app.config["STORE_PATH"] = os.path.join(app.root_path, path)

    @property
    def root(self) -> str:
        return store_root(self.app)

    @property
    def absolute_path(self) -> str:
        return os.path.join(self.config["STORE_PATH"], *self.relative_path.split("/"))

    def join(self, *parts: str) -> str:
        return os.path.join(*parts) if parts else ""

    def _write(self, stream: IO[bytes], candidates: list[str]) -> str:
        location = candidates[0].rpartition("/")[0]
        folder = make_folder(self.root, location)
        fsync = self.config.get("STORE_FSYNC", True)
        if isinstance(stream, SpooledUpload):
            linked = _link_spooled(stream, folder, candidates, fsync)
            if linked is not None:
                return linked
        fd, temp = tempfile.mkstemp(dir=folder, prefix=TEMP_PREFIX, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                os.fchmod(out.fileno(), _file_mode())
                _copy(stream, out)
                if fsync:
                    out.flush()
                    os.fsync(out.fileno())
            return _publish_first(temp, folder, candidates, fsync=fsync, may_move=True)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)

    def _file(self, path: str) -> str:
        """The absolute path of a stored regular file, or StoredFileNotFound."""
        real = confined(self.root, path)
        try:
            st = os.stat(real)
        except FileNotFoundError:
            raise StoredFileNotFound(f"{path!r} is not stored.") from None
        if not stat.S_ISREG(st.st_mode):
            raise StoredFileNotFound(f"{path!r} is not a file.")
        return real

    def _exists(self, path: str) -> bool:
        try:
            self._file(path)
        except StoredFileNotFound:
            return False
        return True

    def _open(self, path: str) -> IO[bytes]:
        return open(self._file(path), "rb")

    def _delete(self, path: str) -> None:
        os.unlink(self._file(path))

    def _stat(self, path: str) -> StoredFile:
        return _entry(path, os.stat(self._file(path)))

    # -- listing ----------------------------------------------------------

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
        location = names.clean_location(location)
        root = store_root(app_or_current(app))
        try:
            folder = confined(root, location)
            # Bare names and a heap, not scandir entries and a full sort: the
            # first page of a folder of 100,000 files stays a fraction of a second.
            candidates = [
                name
                for name in os.listdir(folder)
                if not name.startswith(".")
                and (after is None or name > after)
                and (not contains or matches(name, contains))
            ]
        except (FileNotFoundError, NotADirectoryError):
            return FolderPage()
        heapq.heapify(candidates)
        page = FolderPage()
        while candidates:
            name = heapq.heappop(candidates)
            if len(page.entries) == limit:
                page.next_after = page.entries[-1].name
                break
            try:
                st = os.lstat(os.path.join(folder, name))
            except FileNotFoundError:  # deleted while listing
                continue
            is_folder = stat.S_ISDIR(st.st_mode)
            if not (is_folder or stat.S_ISREG(st.st_mode)):
                continue
            page.entries.append(_entry(names.join_key(location, name), st, is_folder))
        return page

    @classmethod
    def create_folder(cls, location: str, *, app: Flask | None = None) -> str:
        location = names.clean_location(location)
        make_folder(store_root(app_or_current(app)), location)
        return location

    @classmethod
    def iter_files(
        cls, location: str = "", *, app: Flask | None = None
    ) -> Iterator[StoredFile]:
        location = names.clean_location(location)
        root = store_root(app_or_current(app))
        try:
            start = confined(root, location)
        except StoredFileNotFound:
            return
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            relative = os.path.relpath(dirpath, root).replace(os.sep, "/")
            relative = "" if relative == "." else relative
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                full = os.path.join(dirpath, name)
                try:
                    st = os.lstat(full)
                except FileNotFoundError:
                    continue
                if stat.S_ISREG(st.st_mode):
                    yield _entry(names.join_key(relative, name), st)
