"""The metadata of a local file, kept with the file itself: an extended attribute.

A save sets the attribute ``user.flask-store`` on the new file before it is
published under its final name, so a file is never visible without its
record, and the record goes wherever the file goes (a move is a hard link)
and is deleted with it: nothing to list, hide or clean up. Where the
filesystem has no user extended attributes, nothing is recorded, and
``provider.metadata`` reads size and type from the file.

The record is packed small (:func:`pack`): a 1 KiB upload's record takes
about 60 bytes, which ext4 keeps inside the file's inode, where a larger
one would take a disk block of its own. Records in the earlier format,
JSON under ``user.flask-store.metadata``, are still read, and replaced by
a packed one when a file's record is written again.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import struct
from collections.abc import Callable, Sequence
from typing import TypeVar

from .. import fsops
from ..metadata import FileMetadata

T = TypeVar("T")

#: The extended attribute a local file's metadata is kept in.
ATTRIBUTE = "user.flask-store"

#: Where the earlier format kept it, as JSON: read, never written.
JSON_ATTRIBUTE = "user.flask-store.metadata"

# The packed record: a flags byte, then the fields it announces, in this
# order: the SHA-256 (32 bytes), the size (2, 4 or 8 bytes, little-endian),
# width and height (4 bytes each), the type (ASCII), then a NUL and the
# uploaded name (UTF-8) when there is one.
_SHA256 = 0x01
_IMAGE = 0x02
_FILENAME = 0x04
_SIZES = ((0x00, "<H"), (0x08, "<I"), (0x10, "<Q"))
_SIZE_BITS = 0x18
_KNOWN_BITS = _SHA256 | _IMAGE | _FILENAME | _SIZE_BITS
_DIMENSIONS = struct.Struct("<II")


def pack(metadata: FileMetadata) -> bytes:
    """``metadata`` as the bytes of a record.

    :raises ValueError: for a type that is not printable ASCII.
    """
    if not (metadata.content_type.isascii() and metadata.content_type.isprintable()):
        raise ValueError(f"Cannot record the type {metadata.content_type!r}.")
    flags, size_format = next(
        (bits, fmt)
        for bits, fmt in _SIZES
        if metadata.size < 1 << 8 * struct.calcsize(fmt)
    )
    fields = []
    digest = _digest(metadata.sha256)
    if digest is not None:
        flags |= _SHA256
        fields.append(digest)
    fields.append(struct.pack(size_format, metadata.size))
    if metadata.width is not None and metadata.height is not None:
        flags |= _IMAGE
        fields.append(_DIMENSIONS.pack(metadata.width, metadata.height))
    fields.append(metadata.content_type.encode("ascii"))
    if metadata.filename is not None:
        flags |= _FILENAME
        fields += (b"\0", metadata.filename.encode("utf-8", "surrogatepass"))
    return bytes((flags,)) + b"".join(fields)


def _digest(sha256: str | None) -> bytes | None:
    """The 32 bytes of a SHA-256 in hex; ``None`` for none or a malformed one
    (a copy of an object another tool gave a checksum of its own)."""
    if sha256 is None or len(sha256) != 64:
        return None
    try:
        return bytes.fromhex(sha256)
    except ValueError:
        return None


def unpack(record: bytes) -> FileMetadata | None:
    """The metadata a record holds; ``None`` for anything :func:`pack` did not
    write (another tool, or a local actor, may have set the attribute)."""
    if not record or record[0] & ~_KNOWN_BITS:
        return None
    flags, at = record[0], 1
    try:
        sha256 = None
        if flags & _SHA256:
            if len(record) < at + 32:
                return None
            sha256, at = record[at : at + 32].hex(), at + 32
        size_format = next(fmt for bits, fmt in _SIZES if flags & _SIZE_BITS == bits)
        (size,) = struct.unpack_from(size_format, record, at)
        at += struct.calcsize(size_format)
        width = height = None
        if flags & _IMAGE:
            width, height = _DIMENSIONS.unpack_from(record, at)
            at += _DIMENSIONS.size
        content_type, nul, name = record[at:].partition(b"\0")
        if bool(nul) != bool(flags & _FILENAME) or not content_type:
            return None
        return FileMetadata(
            size=size,
            content_type=content_type.decode("ascii"),
            sha256=sha256,
            filename=name.decode("utf-8", "surrogatepass") if nul else None,
            width=width,
            height=height,
        )
    except (StopIteration, struct.error, UnicodeDecodeError):
        return None


def attach(fd: int, metadata: FileMetadata) -> bool:
    """Set ``metadata`` on the open file ``fd``; False where it cannot be kept.

    A filesystem without user attributes (or a record too large for it, or a
    type :func:`pack` cannot record) only loses the record: the file is
    saved all the same.
    """
    setxattr = getattr(os, "setxattr", None)
    if setxattr is None:  # not Linux
        return False
    try:
        setxattr(fd, ATTRIBUTE, pack(metadata))
    except (OSError, ValueError):
        return False
    return True


def recorded(fd: int) -> FileMetadata | None:
    """The record on the open file ``fd``, packed or (from a pre-release) JSON."""
    try:
        return unpack(os.getxattr(fd, ATTRIBUTE))
    except OSError as exc:
        if exc.errno != errno.ENODATA:
            return None
    try:
        return FileMetadata.from_dict(json.loads(os.getxattr(fd, JSON_ATTRIBUTE)))
    except (OSError, ValueError):
        return None


def read(root: fsops.StoreDir, parts: Sequence[str]) -> FileMetadata | None:
    """The metadata recorded on the stored file ``parts``, or ``None``."""
    return _on_file(root, parts, lambda fd, recorded: recorded)


def follow_name(root: fsops.StoreDir, parts: Sequence[str], *, fsync: bool) -> None:
    """Let the record of a file just moved follow its new name, ``parts[-1]``.

    A move is a hard link: the record comes along unchanged, and a type that
    came from the old name (text, markup) follows the new one, as a copy's
    does (:meth:`~flask_store.metadata.FileMetadata.renamed`).
    """

    def rename(fd: int, recorded: FileMetadata | None) -> None:
        if recorded is not None and recorded.renamed(parts[-1]) != recorded:
            _replace(fd, recorded.renamed(parts[-1]), fsync)

    _on_file(root, parts, rename)


def update(
    root: fsops.StoreDir, parts: Sequence[str], metadata: FileMetadata, *, fsync: bool
) -> None:
    """Record ``metadata`` on the stored file ``parts`` where it differs from
    its record (a copy under a name that changes its type)."""

    def write(fd: int, recorded: FileMetadata | None) -> None:
        if recorded != metadata:
            _replace(fd, metadata, fsync)

    _on_file(root, parts, write)


def _replace(fd: int, metadata: FileMetadata, fsync: bool) -> None:
    """Set a new record on a published file (a pre-release's JSON record goes);
    with ``fsync``, on disk."""
    if not attach(fd, metadata):
        return
    with contextlib.suppress(OSError):
        os.removexattr(fd, JSON_ATTRIBUTE)
    if fsync:
        os.fsync(fd)


def _on_file(
    root: fsops.StoreDir,
    parts: Sequence[str],
    use: Callable[[int, FileMetadata | None], T],
) -> T | None:
    """``use(fd, record)`` on the stored file ``parts``; ``None`` when it is
    missing or the platform keeps no records."""
    if getattr(os, "getxattr", None) is None:
        return None
    try:
        fd, _ = fsops.open_file(root.fd(), parts)
    except (OSError, fsops.Refused):
        return None
    try:
        return use(fd, recorded(fd))
    finally:
        os.close(fd)
