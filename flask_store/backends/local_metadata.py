"""The metadata of a local file, kept with the file itself: an extended attribute.

A save sets the attribute ``user.flask-store.metadata`` (JSON) on the new
file before it is published under its final name, so a file is never
visible without its record, and the record goes wherever the file goes (a
move is a hard link) and is deleted with it: nothing to list, hide or clean
up. Where the filesystem has no user extended attributes, nothing is
recorded, and ``provider.metadata`` reads size and type from the file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from typing import TypeVar

from .. import fsops
from ..metadata import FileMetadata

T = TypeVar("T")

#: The extended attribute a local file's metadata is kept in.
ATTRIBUTE = "user.flask-store.metadata"


def attach(fd: int, metadata: FileMetadata) -> bool:
    """Set ``metadata`` on the open file ``fd``; False where it cannot be kept.

    A filesystem without user attributes (or a record too large for it) only
    loses the record: the file is saved all the same.
    """
    setxattr = getattr(os, "setxattr", None)
    if setxattr is None:  # not Linux
        return False
    try:
        setxattr(fd, ATTRIBUTE, json.dumps(metadata.to_dict()).encode())
    except OSError:
        return False
    return True


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
    """Set a new record on a published file; with ``fsync``, on disk."""
    if attach(fd, metadata) and fsync:
        os.fsync(fd)


def _on_file(
    root: fsops.StoreDir,
    parts: Sequence[str],
    use: Callable[[int, FileMetadata | None], T],
) -> T | None:
    """``use(fd, record)`` on the stored file ``parts``; ``None`` when it is
    missing or the platform keeps no records."""
    getxattr = getattr(os, "getxattr", None)
    if getxattr is None:
        return None
    try:
        fd, _ = fsops.open_file(root.fd(), parts)
    except (OSError, fsops.Refused):
        return None
    try:
        try:
            recorded = FileMetadata.from_dict(json.loads(getxattr(fd, ATTRIBUTE)))
        except (OSError, ValueError):
            recorded = None
        return use(fd, recorded)
    finally:
        os.close(fd)
