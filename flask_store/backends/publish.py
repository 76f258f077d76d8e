"""Publishing a file in the local store: complete under its final name, or absent.

A file is written to a new file in its destination folder, flushed to disk,
then given its final name with a hard link, which fails rather than replace
a file already there. So a name is never overwritten, even by another
process. Where the system can (Linux: ``O_TMPFILE``), the new file has no
name at all until it is published, so a save that fails, or a process
killed in the middle of one, leaves nothing behind; elsewhere it has a
hidden temporary name, removed when the save ends (``flask store cleanup``
removes those a killed process left). An upload already spooled inside the
store is linked, not copied.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import secrets
import threading
from collections.abc import Sequence
from typing import IO

from .. import fsops
from ..exceptions import InsufficientStorage, NameTooLong
from ..metadata import Measured
from . import copying, local_metadata
from .base import first_free
from .spooled import SpooledUpload

#: Prefix of the temporary files written before a file is published. Names
#: starting with a dot are never produced by ``secure_name``, listed or served.
TEMP_PREFIX = ".flask-store-"

_umask_lock = threading.Lock()
_umask: int | None = None


def file_mode() -> int:
    """``0o666`` less the process umask, read once (spooled files are ``0o600``)."""
    global _umask
    with _umask_lock:
        if _umask is None:
            _umask = os.umask(0o022)
            os.umask(_umask)
        return 0o666 & ~_umask


#: Errors of a full disk or an exhausted quota.
_NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})


def storage_error(exc: OSError, what: str) -> Exception | None:
    """The Flask-Store error for an ``OSError`` a save ran into, if it has one."""
    if exc.errno in _NO_SPACE:
        return InsufficientStorage(
            f"The store has no room left for {what}; nothing was stored."
        )
    if exc.errno == errno.ENAMETOOLONG:
        return NameTooLong(
            f"A name in {what!r} is longer than the filesystem allows; "
            "choose a shorter file or folder name."
        )
    return None


#: Errors from os.link that mean "no hard links here", not a failure.
_NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV})


class NoHardLinks(Exception):
    """The filesystem cannot hard-link the file."""


def _publish(
    src_fd: int, source: str, dst_fd: int, final: str, *, may_move: bool
) -> bool:
    """Give ``source`` the name ``final`` unless it is taken; False when taken.

    Both names are relative to their folder's descriptor. A hard link
    (``linkat``, which never follows a symlink) fails rather than replace a
    file. Without hard links, a file that ``may_move`` reserves the name
    exclusively and moves over the (empty) reservation; any other raises
    :class:`NoHardLinks`.
    """
    try:
        os.link(
            source, final, src_dir_fd=src_fd, dst_dir_fd=dst_fd, follow_symlinks=False
        )
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        if not may_move:
            raise NoHardLinks() from exc
        try:
            reserved = os.open(
                final, fsops.CREATE_FLAGS | os.O_WRONLY, 0o600, dir_fd=dst_fd
            )
        except FileExistsError:
            return False
        os.close(reserved)
        os.rename(source, final, src_dir_fd=src_fd, dst_dir_fd=dst_fd)
    return True


def publish_first(
    src_fd: int,
    source: str,
    dst_fd: int,
    candidates: Sequence[str],
    *,
    fsync: bool,
    may_move: bool,
) -> str:
    """Publish ``source`` in the folder ``dst_fd`` under the first free candidate."""

    def take(candidate: str) -> bool:
        final = candidate.rpartition("/")[2]
        return _publish(src_fd, source, dst_fd, final, may_move=may_move)

    stored = first_free(candidates, take)
    if fsync:
        os.fsync(dst_fd)
    return stored


def _temp_name() -> str:
    return f"{TEMP_PREFIX}{secrets.token_hex(8)}.part"


#: ``O_TMPFILE``: a new file without a name (0 where the system has none).
_UNNAMED = getattr(os, "O_TMPFILE", 0)

#: What opening an unnamed file fails with where the filesystem (or kernel)
#: cannot make one, or, ``EPERM``, in a folder removed meanwhile: the file
#: gets a temporary name instead (which, in a removed folder, fails as a
#: missing folder does).
_NO_UNNAMED = frozenset(
    {errno.EOPNOTSUPP, errno.ENOTSUP, errno.EISDIR, errno.EINVAL, errno.EPERM}
)


@functools.cache
def _unnamed_files() -> bool:
    """Whether saves may write unnamed files: the system makes them, and
    ``/proc/self/fd`` is there to give them a name by a hard link."""
    return bool(_UNNAMED) and os.path.isdir("/proc/self/fd")


def _new_file(folder_fd: int, *, unnamed: bool) -> tuple[int, str | None]:
    """A new, empty file in the folder ``folder_fd``, and its temporary name:
    ``None`` for an unnamed file, made where ``unnamed`` and the filesystem
    can."""
    if unnamed:
        try:
            flags = _UNNAMED | os.O_RDWR | os.O_CLOEXEC
            return os.open(".", flags, 0o666, dir_fd=folder_fd), None
        except OSError as exc:
            if exc.errno not in _NO_UNNAMED:
                raise
    name = _temp_name()
    return os.open(
        name, fsops.CREATE_FLAGS | os.O_WRONLY, 0o666, dir_fd=folder_fd
    ), name


def _create_temp(
    root: fsops.StoreDir, parts: list[str], *, unnamed: bool
) -> tuple[fsops.Folders, int, str | None]:
    """Make the folders ``parts`` and a new file in the deepest one (see
    :func:`_new_file`).

    A folder removed between our opening it and creating the file in it (by
    another save that failed, or with the whole store folder) is made again,
    a few times.
    """
    for attempt in range(3):
        try:
            folders = fsops.Folders(root.fd(create=True), parts)
        except FileNotFoundError:
            if attempt == 2:
                raise
            continue
        try:
            fd, name = _new_file(folders.fd, unnamed=unnamed)
        except FileNotFoundError:
            folders.close(remove=True)
            if attempt == 2:
                raise
            continue
        except BaseException:
            folders.close(remove=True)
            raise
        return folders, fd, name
    raise AssertionError("unreachable")  # pragma: no cover


def _publish_unnamed(
    fd: int,
    root: fsops.StoreDir,
    folders: fsops.Folders,
    candidates: Sequence[str],
    *,
    fsync: bool,
) -> str:
    """Give the unnamed file ``fd`` the first free candidate name in
    ``folders``; the path used.

    An unnamed file leaves its folder looking empty, so another save that
    failed (or a folder cleanup) may remove the folder meanwhile: it is then
    made again and the file linked into the new one, a few times.

    :raises NoHardLinks: the filesystem cannot link the file.
    """
    source = f"/proc/self/fd/{fd}"

    def take(candidate: str) -> bool:
        final = candidate.rpartition("/")[2]
        try:
            os.link(source, final, dst_dir_fd=folders.fd, follow_symlinks=True)
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno in _NO_HARD_LINKS:
                raise NoHardLinks() from exc
            raise
        return True

    for attempt in range(3):
        try:
            stored = first_free(candidates, take)
        except FileNotFoundError:
            if attempt == 2:
                raise
            folders.make_again(root.fd(create=True))
            continue
        if fsync:
            os.fsync(folders.fd)
        return stored
    raise AssertionError("unreachable")  # pragma: no cover


def _link_spooled(
    upload: SpooledUpload,
    folder_fd: int,
    candidates: Sequence[str],
    fsync: bool,
    measured: Measured | None,
) -> str | None:
    """Publish an upload spooled inside the store by hard-linking its file.

    Nothing is copied. Returns the path used, or ``None`` when the file cannot
    be linked (another filesystem, no hard links, moved or replaced in the
    spool folder), so the caller copies it instead.
    """
    if upload.closed or upload.tell() != 0:
        return None
    upload.flush()
    fd = upload.fileno()
    try:
        entry = os.stat(upload.spool_name, dir_fd=upload.dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    st = os.fstat(fd)
    if (entry.st_dev, entry.st_ino) != (st.st_dev, st.st_ino):
        return None
    os.fchmod(fd, file_mode())
    _attach_durably(fd, measured, fsync)
    try:
        return publish_first(
            upload.dir_fd,
            upload.spool_name,
            folder_fd,
            candidates,
            fsync=fsync,
            may_move=False,
        )
    except (NoHardLinks, FileNotFoundError):
        return None


#: Flushes a file's data but not its inode's times (``fsync`` where the
#: system has no ``fdatasync``, as macOS).
_flush_data = getattr(os, "fdatasync", os.fsync)


def _attach_durably(fd: int, measured: Measured | None, fsync: bool) -> None:
    """Set a measured stream's metadata on the file ``fd``, then, with
    ``fsync``, have both on disk.

    When the hash of a large file is still being computed beside the copy
    (:mod:`flask_store.hashing`), the data is flushed first, meanwhile: the
    disk's work and the hash's overlap, and the record's own flush afterwards
    is small. A small file is flushed once, with its record.
    """
    if measured is not None:
        if fsync and measured.hashing_beside:
            _flush_data(fd)
        local_metadata.attach(fd, measured.metadata())
    if fsync:
        os.fsync(fd)


def _measured_in_place(measured: Measured) -> bool:
    """Measure a stream the kernel can copy or link, and rewind it for that.

    Reading it once to hash it costs less than copying it through Python.
    """
    source = measured.stream
    if measured.start is None or not (
        isinstance(source, SpooledUpload) or copying.regular_file(source) is not None
    ):
        return False
    if not measured.finish_beside():
        measured.finish()
    source.seek(measured.start)
    return True


def write_in(
    root: fsops.StoreDir,
    parts: list[str],
    stream: IO[bytes],
    candidates: Sequence[str],
    *,
    fsync: bool,
) -> str:
    """Store ``stream`` in the folder ``parts`` under the first free candidate.

    A :class:`~flask_store.metadata.Measured` stream's metadata is set on the
    new file before it is published. A spooled upload or a file on disk is
    measured where it is first, then linked or copied by the kernel.
    """
    measured = stream if isinstance(stream, Measured) else None
    if measured is not None and _measured_in_place(measured):
        stream = measured.stream
    if isinstance(stream, SpooledUpload):
        linked = None
        folders = fsops.Folders(root.fd(create=True), parts)
        try:
            linked = _link_spooled(stream, folders.fd, candidates, fsync, measured)
        finally:
            folders.close(remove=linked is None)
        if linked is not None:
            return linked
    return _write_new(
        root, parts, stream, measured, candidates, fsync=fsync, unnamed=_unnamed_files()
    )


def _write_new(
    root: fsops.StoreDir,
    parts: list[str],
    stream: IO[bytes],
    measured: Measured | None,
    candidates: Sequence[str],
    *,
    fsync: bool,
    unnamed: bool,
) -> str:
    """Copy ``stream`` to a new file in the folder ``parts``, record
    ``measured`` on it, publish it under the first free candidate.

    An unnamed file that cannot be linked (a filesystem without hard links
    that makes unnamed files all the same) is copied again, to a named one.
    """
    folders, fd, temp = _create_temp(root, parts, unnamed=unnamed)
    stored = None
    try:
        # An unnamed file is opened for reading too: it is the source of the
        # copy when it cannot be linked.
        with os.fdopen(fd, "wb" if temp else "w+b") as out:
            copying.copy_stream(stream, out)
            out.flush()
            _attach_durably(out.fileno(), measured, fsync)
            if temp is None:
                try:
                    stored = _publish_unnamed(
                        out.fileno(), root, folders, candidates, fsync=fsync
                    )
                except NoHardLinks:
                    out.seek(0)
                    stored = _write_new(
                        root,
                        parts,
                        out,
                        measured,
                        candidates,
                        fsync=fsync,
                        unnamed=False,
                    )
                return stored
        stored = publish_first(
            folders.fd, temp, folders.fd, candidates, fsync=fsync, may_move=True
        )
        return stored
    finally:
        if temp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp, dir_fd=folders.fd)
        folders.close(remove=stored is None)
