"""What the admin's changes do apart from HTTP: saving uploads all or
nothing, new folders, the stored file a request names, delete confirmations
and the page to go back to.

Everything here can be called, and tested, without a request.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from werkzeug.exceptions import NotFound

from .. import names, spelling
from ..exceptions import InsufficientStorage
from ..providers.base import Provider
from . import messages

if TYPE_CHECKING:
    from flask import Flask
    from werkzeug.datastructures import FileStorage

#: ``errno`` values that mean the backend has no room left.
_NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def save_uploads(
    provider: type[Provider],
    uploads: Sequence[FileStorage | Provider],
    location: str = "",
    *,
    app: Flask,
) -> list[Provider]:
    """Save validated uploads into ``location``; return their providers.

    A received upload (a receipt's file) is already stored there: its
    provider is returned as it is.

    All or nothing: when one save fails, the files this call already saved
    are deleted again. A full disk becomes :class:`InsufficientStorage` (507).
    """
    saved: list[Provider] = []
    try:
        for upload in uploads:
            saved.append(provider(upload, location=location, app=app).save())
    except BaseException as exc:
        for done in saved:
            try:
                done.delete()
            except Exception:
                app.logger.exception("Flask-Store could not delete %r.", done)
        raise_no_room(exc)
        raise
    return saved


def raise_no_room(exc: BaseException) -> None:
    """Raise :class:`InsufficientStorage` (507) when ``exc`` means a full backend."""
    if isinstance(exc, OSError) and exc.errno in _NO_ROOM:
        raise InsufficientStorage() from exc


def stream_size(upload: FileStorage) -> int | None:
    """The size of an upload's stream, without reading it."""
    stream = upload.stream
    if not stream.seekable():
        return None
    position = stream.tell()
    size = stream.seek(0, os.SEEK_END)
    stream.seek(position)
    return size


def uploaded_json(
    saved: Sequence[Provider], uploads: Sequence[FileStorage | Provider]
) -> dict[str, Any]:
    """The JSON body describing saved files.

    Sizes come from the uploads, not the backend: a background provider may
    still be sending the file when this answer goes out.
    """
    return {
        "files": [
            {
                "name": p.filename,
                "path": p.relative_path,
                "url": p.absolute_url,
                "size": upload.size
                if isinstance(upload, Provider)
                else stream_size(upload),
            }
            for p, upload in zip(saved, uploads, strict=True)
        ]
    }


def join_folder(location: str, name: str) -> str:
    """The folder ``name`` inside ``location``, validated."""
    return names.clean_location(names.join_key(location, name))


def stored_provider(provider: type[Provider], path: str, *, app: Flask) -> Provider:
    """A provider for a stored path a client sent; :class:`NotFound` when bad.

    Hidden names (:func:`flask_store.names.is_hidden`) are never offered:
    they are the store's own temporary files.
    """
    try:
        canonical = spelling.canonical_path(path)
    except (TypeError, ValueError):
        raise NotFound(messages.not_a_stored_file(path)) from None
    if names.is_hidden(canonical):
        raise NotFound(messages.not_a_stored_file(path))
    return provider(canonical, app=app)


def parse_used_by(raw: str | None) -> set[str]:
    """The row labels a delete confirmation named (a JSON list; bad means none)."""
    try:
        labels = json.loads(raw or "[]")
    except (ValueError, RecursionError):  # not JSON, or nested too deep to read
        return set()
    if not isinstance(labels, list):
        return set()
    return {label for label in labels if isinstance(label, str)}


def safe_next(target: str | None, host: str) -> str | None:
    """``target`` when it is a URL on this site (``host``), else ``None``.

    Only paths and URLs on the same host pass, so a crafted ``next`` cannot
    send a user to another site.
    """
    if not target:
        return None
    if any(c in target for c in "\\\r\n\t") or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        if parts.scheme not in ("http", "https") or parts.netloc != host:
            return None
        return target
    if not target.startswith("/") or target.startswith("//"):
        return None
    return target
