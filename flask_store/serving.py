"""The routes that serve stored files: local ones under ``STORE_URL_PREFIX``,
image variants of any provider's under ``/_flask_store/variants/``.

Only regular files inside ``STORE_PATH`` are served: no traversal, no
symlinks, no dotfiles, no folders. The file is opened by walking its path from
the store's descriptor (:mod:`flask_store.fsops`) and that open file is sent.

:func:`send_stored_file` is the one place a stored file becomes a response,
for this route and the admin's downloads alike: ``nosniff`` always, and
anything a browser could run as a sandboxed attachment, never rendered inline
on the app's origin.
"""

from __future__ import annotations

import io
import os
import stat
from typing import IO, TYPE_CHECKING, Any

from flask import Response, current_app, request, send_file
from werkzeug.exceptions import NotFound, UnsupportedMediaType

from . import fsops, names, spelling, variants
from .backends.local import store_dir
from .content import INLINE_TYPES, guess_type, is_inline_safe
from .exceptions import StorageError
from .fsops import StoreDir
from .providers.adapter import overrides
from .providers.base import Provider
from .state import store_state

if TYPE_CHECKING:
    from flask import Flask

__all__ = [
    "INLINE_TYPES",
    "file_security_headers",
    "is_inline_safe",
    "open_stored_file",
    "send_stored_file",
    "serve",
    "serve_variant",
]


def file_security_headers(response: Response, mimetype: str) -> Response:
    """Set the headers every response carrying a stored file needs.

    ``X-Content-Type-Options: nosniff`` always, so a browser never guesses a
    runnable type; for a type that is not :func:`is_inline_safe`,
    ``Content-Security-Policy: sandbox`` too (such files also go out as
    attachments, see :func:`send_stored_file`).
    """
    response.headers["X-Content-Type-Options"] = "nosniff"
    if not is_inline_safe(mimetype):
        response.headers["Content-Security-Policy"] = "sandbox"
    return response


def send_stored_file(
    file: IO[bytes],
    *,
    name: str,
    mimetype: str,
    st: os.stat_result | None = None,
    max_age: int | None = None,
) -> Response:
    """Send an open stored file, closing it when the response is done.

    Active content goes out as an attachment with the headers of
    :func:`file_security_headers`. The response has a Content-Length and
    answers Range requests when the file's size can be known without reading
    it, and conditional requests (ETag, Last-Modified) when it is a file on
    disk; ``st`` is its ``fstat`` when the caller has it already.
    """
    try:
        if st is None:
            st = _fstat(file)
        size = st.st_size if st is not None else _seekable_size(file)
        response = send_file(
            file,
            mimetype=mimetype,
            as_attachment=not is_inline_safe(mimetype),
            download_name=name,
            etag=etag(st) if st is not None else False,
            last_modified=st.st_mtime if st is not None else None,
            max_age=max_age,
            conditional=False,
        )
        if size is not None:
            # A file object has no size for send_file to read: give the opened
            # file's own, then let Werkzeug answer If-None-Match and Range.
            response.content_length = size
            # make_conditional changes the response in place and returns it.
            response.make_conditional(
                request.environ, accept_ranges=True, complete_length=size
            )
    except BaseException:
        file.close()
        raise
    return file_security_headers(response, mimetype)


def _fstat(file: IO[bytes]) -> os.stat_result | None:
    """The ``fstat`` of a regular file on disk, else ``None``."""
    try:
        st = os.fstat(file.fileno())
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None
    return st if stat.S_ISREG(st.st_mode) and file.tell() == 0 else None


def _seekable_size(file: IO[bytes]) -> int | None:
    """What is left to read of a seekable stream, without reading it."""
    try:
        if not file.seekable():
            return None
        position = file.tell()
        end = file.seek(0, os.SEEK_END)
        file.seek(position)
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None
    return end - position


def open_stored_file(store: StoreDir, filename: str) -> tuple[int, os.stat_result]:
    """Open a servable file; its descriptor and ``fstat``, or :class:`NotFound`.

    Refuses every path that is not a plain file reached without symlinks:
    ``..`` and encoded spellings of it, hidden names, NUL, folders, and
    symlinks anywhere along the way, even one swapped in while the path is
    walked. What is sent is the file that was opened, never a path opened
    again.
    """
    try:
        location, name = spelling.split_stored_path(filename)
    except (TypeError, ValueError):
        raise NotFound() from None
    parts = [*location.split("/"), name] if location else [name]
    if any(names.is_hidden_name(part) for part in parts):
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
    return send_stored_file(
        os.fdopen(fd, "rb"), name=name, mimetype=guess_type(name), st=st
    )


#: How long browsers and CDNs may keep an image variant: its URL never
#: changes for one original, one content and one set of options.
VARIANT_MAX_AGE = 365 * 24 * 3600


def serve_variant(token: str) -> Response:
    """Send an image variant, rendering and storing it on first request.

    404 when the original is gone or is not the content the URL was made
    for any more (:func:`flask_store.variants.current_version`).
    """
    try:
        path, version, spec = variants.read(current_app, token)
    except LookupError as exc:
        raise NotFound(str(exc)) from None
    backend = store_state(current_app).backend
    try:
        variants.current_version(backend, path, version)
        stream = variants.open_variant(backend, path, spec, version=version)
    except FileNotFoundError:
        raise NotFound("The original image is not stored.") from None
    except variants.StaleVariant as exc:
        raise NotFound(str(exc)) from None
    except variants.NotAnImage as exc:
        raise UnsupportedMediaType(str(exc)) from None
    name = spec.file_name(version)
    response = send_stored_file(
        stream,
        name=name,
        mimetype=guess_type(name),
        max_age=VARIANT_MAX_AGE,
    )
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response


def forget_variants(app: Flask, provider: Any = None, **_: Any) -> None:
    """Delete a deleted file's variants (a ``file_deleted`` receiver).

    Only for a provider that deletes files itself (its own ``_delete``):
    otherwise its backend's ``delete`` took the variants with the file.
    """
    if provider is None or "store" not in app.extensions:
        return
    if not overrides(type(provider), Provider, "_delete"):
        return
    try:
        variants.delete_variants(provider.backend, provider.relative_path)
    except (StorageError, OSError, ValueError) as exc:
        app.logger.warning(
            "Could not delete the image variants of %r: %s", provider.relative_path, exc
        )
