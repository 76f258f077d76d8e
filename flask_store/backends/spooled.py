"""Uploads spooled to a hidden folder inside the local store.

A spooled upload is on the store's own filesystem, so saving it links its
file into place (:mod:`.publish`) instead of copying it.
"""

from __future__ import annotations

import contextlib
import io
import os

#: Hidden folder inside ``STORE_PATH`` that uploads are spooled to. Names
#: starting with a dot are never listed or served.
SPOOL_FOLDER = ".flask-store-spool"


class SpooledUpload(io.BufferedRandom):
    """An upload spooled to the file ``name`` in the spool folder ``dir_fd``.

    The file is removed when the upload is closed. The local provider
    recognises it and links it into place instead of copying it. ``path`` is
    where it is, for people.
    """

    def __init__(self, path: str, fd: int, *, dir_fd: int, name: str) -> None:
        super().__init__(io.FileIO(fd, "r+b"))
        self.path = path
        self.dir_fd = dir_fd
        self.spool_name = name

    def close(self) -> None:
        if self.closed:
            return
        try:
            super().close()
        finally:
            try:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.spool_name, dir_fd=self.dir_fd)
            finally:
                os.close(self.dir_fd)
