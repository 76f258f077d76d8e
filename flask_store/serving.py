"""The route that serves locally stored files under ``STORE_URL_PREFIX``.

Only regular files inside ``STORE_PATH`` are served: no traversal, no
symlinks, no dotfiles, no folders. Anything a browser could run is sent as a
sandboxed attachment, never rendered inline on the app's origin.
"""

from __future__ import annotations

import os
import stat

from flask import Response, current_app, send_file
from werkzeug.exceptions import NotFound

from . import names
from .providers.base import guess_type
from .providers.local import store_root

#: Types a browser shows without running anything: served inline.
INLINE_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/avif",
        "image/bmp",
        "image/x-ms-bmp",
        "image/vnd.microsoft.icon",
        "image/x-icon",
        "text/plain",
        "text/csv",
        "application/pdf",
        "application/json",
    }
)


def is_inline_safe(mimetype: str) -> bool:
    """Whether a file of this type may be shown inline on the app's origin."""
    return mimetype in INLINE_TYPES or mimetype.split("/")[0] in ("audio", "video")


def stored_file_path(root: str, filename: str) -> str:
    """The absolute path of a servable file, or :class:`NotFound`.

    Refuses every path that is not a plain file reached without symlinks:
    ``..`` and encoded spellings of it, dotfiles, NUL, folders, and symlinks
    anywhere along the way. ``root`` must be a real path (no symlinks in it),
    as :func:`~flask_store.providers.local.store_root` gives.
    """
    try:
        location, name = names.split_stored_path(filename)
    except (TypeError, ValueError):
        raise NotFound() from None
    parts = [*location.split("/"), name] if location else [name]
    if any(part.startswith(".") for part in parts):
        raise NotFound()
    path = root
    # One lstat per level below the real root: as strict as resolving the
    # whole path, at a fraction of the system calls (this runs per request).
    for part in parts:
        path = os.path.join(path, part)
        try:
            st = os.lstat(path)
        except (OSError, ValueError):
            raise NotFound() from None
        if stat.S_ISLNK(st.st_mode):
            raise NotFound()
    if not stat.S_ISREG(st.st_mode):
        raise NotFound()
    return path


def serve(filename: str) -> Response:
    """Send a stored file, with ETag, conditional requests and Range."""
    path = stored_file_path(store_root(current_app), filename)
    mimetype = guess_type(path)
    inline = is_inline_safe(mimetype)
    response = send_file(
        path,
        mimetype=mimetype,
        as_attachment=not inline,
        download_name=os.path.basename(path),
        conditional=True,
        etag=True,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    if not inline:
        response.headers["Content-Security-Policy"] = "sandbox"
    return response
