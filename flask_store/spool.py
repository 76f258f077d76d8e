"""Opt-in spooling of uploads inside ``STORE_PATH``, so saving one is a link.

Werkzeug parses a large upload into a temporary file in the system's temp
folder, and the local provider then copies every byte of it into
``STORE_PATH``. With :class:`StoreRequest` as the app's request class, uploads
are spooled into a hidden folder inside ``STORE_PATH`` instead, on the same
filesystem, and :class:`~flask_store.providers.local.LocalProvider` publishes
the spooled file under its final name with a hard link: nothing is copied.

::

    from flask_store.spool import StoreRequest

    app.request_class = StoreRequest
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
from functools import cached_property
from typing import IO, TYPE_CHECKING

from flask import Request, current_app, has_app_context

from . import fsops

if TYPE_CHECKING:
    from flask import Flask

#: Hidden folder inside ``STORE_PATH`` that uploads are spooled to. Names
#: starting with a dot are never listed or served.
SPOOL_FOLDER = ".flask-store-spool"

#: Uploads whose whole request is at most this size stay in memory, as they
#: do with Werkzeug's own parser: a file on disk would only cost a syscall.
MEMORY_LIMIT = 500 * 1024


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


def spool_file(app: Flask) -> SpooledUpload:
    """A new, empty spooled upload in the spool folder of ``app``'s store.

    The spool folder (made when missing, private to the app's user) and the
    file are created from the store's descriptor, never through a symlink.
    """
    # Imported here: the local provider imports this module.
    from .providers.local import TEMP_PREFIX, store_dir, store_root

    folders = fsops.Folders(store_dir(app).fd(create=True), [SPOOL_FOLDER], mode=0o700)
    try:
        dir_fd = os.dup(folders.fd)
    finally:
        folders.close()
    try:
        name = f"{TEMP_PREFIX}{secrets.token_hex(8)}.upload"
        fd = os.open(name, fsops.CREATE_FLAGS | os.O_RDWR, 0o600, dir_fd=dir_fd)
    except BaseException:
        os.close(dir_fd)
        raise
    path = os.path.join(store_root(app), SPOOL_FOLDER, name)
    return SpooledUpload(path, fd, dir_fd=dir_fd, name=name)


class StoreRequest(Request):
    """A request class that spools file uploads into ``STORE_PATH``.

    Only with the local provider (or a subclass); with any other provider, or
    for small requests, uploads are parsed as Flask does by default.
    """

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        from .providers.local import LocalProvider

        state = current_app.extensions.get("store") if has_app_context() else None
        provider = getattr(state, "provider", None)
        small = (
            total_content_length is not None and total_content_length <= MEMORY_LIMIT
        )
        if small or not (
            isinstance(provider, type) and issubclass(provider, LocalProvider)
        ):
            return super()._get_file_stream(
                total_content_length, content_type, filename, content_length
            )
        try:
            upload = spool_file(current_app._get_current_object())  # type: ignore[attr-defined]
        except (OSError, fsops.Refused):
            # No usable spool folder (a symlink or a file has its name, or no
            # room left): parse the upload as Flask does by default.
            return super()._get_file_stream(
                total_content_length, content_type, filename, content_length
            )
        # The parser leaves its files open when a request breaks off midway;
        # close() removes them whatever happened.
        self._spooled.append(upload)
        return upload

    @cached_property
    def _spooled(self) -> list[SpooledUpload]:
        return []

    def close(self) -> None:
        """Close the request's files and remove everything it spooled."""
        try:
            super().close()
        finally:
            for upload in self.__dict__.pop("_spooled", ()):
                upload.close()
