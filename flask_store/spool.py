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

from functools import cached_property
from typing import IO, TYPE_CHECKING

from flask import Request, current_app, has_app_context

from . import fsops
from .backends.local import LocalBackend, local_backend
from .backends.spooled import SPOOL_FOLDER, SpooledUpload

if TYPE_CHECKING:
    from flask import Flask

__all__ = [
    "MEMORY_LIMIT",
    "SPOOL_FOLDER",
    "SpooledUpload",
    "StoreRequest",
    "spool_file",
]

#: Uploads whose whole request is at most this size stay in memory, as they
#: do with Werkzeug's own parser: a file on disk would only cost a syscall.
MEMORY_LIMIT = 500 * 1024


def spool_file(app: Flask) -> SpooledUpload:
    """A new, empty spooled upload in the spool folder of ``app``'s store."""
    return local_backend(app).spool()


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
        state = current_app.extensions.get("store") if has_app_context() else None
        small = (
            total_content_length is not None and total_content_length <= MEMORY_LIMIT
        )
        backend = getattr(state, "backend", None)
        if small or not isinstance(getattr(backend, "storage", None), LocalBackend):
            return super()._get_file_stream(
                total_content_length, content_type, filename, content_length
            )
        try:
            upload = local_backend(current_app).spool()
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
