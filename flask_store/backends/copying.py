"""Copying an upload's bytes into a new file: by the kernel where it can."""

from __future__ import annotations

import errno
import io
import os
import shutil
import stat
import tempfile
from typing import IO

from .base import CHUNK_SIZE

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


def regular_file(stream: IO[bytes]) -> IO[bytes] | None:
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


def copy_stream(stream: IO[bytes], out: IO[bytes]) -> None:
    """Copy the rest of ``stream`` to the start of the new file ``out``.

    Between two regular files the kernel copies (``copy_file_range``): no
    round trip through Python buffers, and a reflink where the filesystem can.
    Anything else is copied in chunks.
    """
    source = regular_file(stream)
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
