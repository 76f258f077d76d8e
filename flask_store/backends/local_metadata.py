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
from collections.abc import Sequence

from .. import fsops
from ..metadata import FileMetadata

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
    getxattr = getattr(os, "getxattr", None)
    if getxattr is None:
        return None
    try:
        fd, _ = fsops.open_file(root.fd(), parts)
    except (OSError, fsops.Refused):
        return None
    try:
        return FileMetadata.from_dict(json.loads(getxattr(fd, ATTRIBUTE)))
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)
