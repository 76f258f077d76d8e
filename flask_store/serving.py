"""The route that serves locally stored files under ``STORE_URL_PREFIX``.

Only regular files inside ``STORE_PATH`` are served: no traversal, no
symlinks, no dotfiles, no folders. The file is opened by walking its path from
the store's descriptor (:mod:`flask_store.fsops`) and that open file is sent. Anything a browser could run is sent as a
sandboxed attachment, never rendered inline on the app's origin.
"""

from __future__ import annotations

import os

from flask import Response, current_app, request, send_file
from werkzeug.exceptions import NotFound

from . import fsops, names
from .fsops import StoreDir
from .providers.base import guess_type
from .providers.local import store_dir

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


def open_stored_file(store: StoreDir, filename: str) -> tuple[int, os.stat_result]:
    """Open a servable file; its descriptor and ``fstat``, or :class:`NotFound`.

    Refuses every path that is not a plain file reached without symlinks:
    ``..`` and encoded spellings of it, dotfiles, NUL, folders, and symlinks
    anywhere along the way, even one swapped in while the path is walked.
    What is sent is the file that was opened, never a path opened again.
    """
    try:
        location, name = names.split_stored_path(filename)
    except (TypeError, ValueError):
        raise NotFound() from None
    parts = [*location.split("/"), name] if location else [name]
    if any(part.startswith(".") for part in parts):
        raise NotFound()
    try:
        return fsops.open_file(store.fd(), parts)
    except (OSError, ValueError, fsops.Refused):
        raise NotFound() from None


def etag(st: os.stat_result) -> str:
    """An ETag that changes whenever the file is rewritten or replaced."""
    return f"{st.st_mtime_ns:x}-{st.st_size:x}-{st.st_ino:x}"


def serve(filename: str) -> Response:
    """Send a stored file, with ETag, conditional requests and Range."""
    fd, st = open_stored_file(store_dir(current_app), filename)
    name = filename.rpartition("/")[2]
    mimetype = guess_type(name)
    inline = is_inline_safe(mimetype)
    file = os.fdopen(fd, "rb")
    try:
        response = send_file(
            file,
            mimetype=mimetype,
            as_attachment=not inline,
            download_name=name,
            etag=etag(st),
            last_modified=st.st_mtime,
            conditional=False,
        )
        # A file object has no size for send_file to read: give the opened
        # file's own, then let Werkzeug answer If-None-Match and Range.
        response.content_length = st.st_size
        # make_conditional changes the response in place and returns it.
        response.make_conditional(
            request.environ, accept_ranges=True, complete_length=st.st_size
        )
    except BaseException:
        file.close()
        raise
    response.headers["X-Content-Type-Options"] = "nosniff"
    if not inline:
        response.headers["Content-Security-Policy"] = "sandbox"
    return response
