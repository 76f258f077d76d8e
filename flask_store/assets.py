"""The small internal blueprint that makes Flask-Store's templates and static
files available to every app where ``Store`` is initialised.

It has no views of its own: it lets ``{% from "flask_store/macros.html" import
upload_form %}`` work and serves the macro's CSS and JavaScript, whether or not
the admin blueprint is registered. Its template globals hand the macro the
upload rules and what its script needs to upload files itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, current_app

from .direct.grants import upload_grant
from .direct.registration import upload_endpoints
from .rules import CSRF_MESSAGE, upload_rules

if TYPE_CHECKING:
    from flask import Flask

#: Name of the assets blueprint: ``url_for("flask_store.static", filename=...)``.
ASSETS = "flask_store"

assets = Blueprint(
    ASSETS,
    __name__,
    template_folder="templates",
    static_folder="static/flask_store",
    static_url_path="/_flask_store/static",
)


@assets.app_template_global("flask_store_upload_rules")
def current_upload_rules() -> dict[str, Any]:
    """The current app's upload limits, for the upload macro."""
    return upload_rules(current_app.config)


#: Files of at least this many bytes go through tus (``STORE_TUS_MIN_SIZE``).
DEFAULT_TUS_MIN_SIZE = 8_000_000

#: The size of a tus chunk, at most (below ``MAX_CONTENT_LENGTH`` too).
TUS_CHUNK = 4 * 1024 * 1024

#: Room left in a request under ``MAX_CONTENT_LENGTH``, at most.
HEADROOM = 64 * 1024

#: The part size of a browser's S3 multipart upload (S3 wants 5 MiB or more).
S3_PART = 8 * 1024 * 1024


def direct_sizes(kind: str, config: Any) -> tuple[int, int]:
    """The smallest file that goes direct, and the chunk (or part) size.

    S3: every file, in parts of :data:`S3_PART`. tus: files of at least
    ``STORE_TUS_MIN_SIZE`` bytes, or any a form post could not carry under
    ``MAX_CONTENT_LENGTH``, in chunks of at most :data:`TUS_CHUNK` that fit
    in a request.
    """
    if kind == "s3":
        return 0, S3_PART
    smallest = int(config.get("STORE_TUS_MIN_SIZE", DEFAULT_TUS_MIN_SIZE))
    chunk = TUS_CHUNK
    limit = config.get("MAX_CONTENT_LENGTH")
    if limit is not None:
        room = max(int(limit) - min(HEADROOM, int(limit) // 2), 1)
        chunk = min(chunk, room)
        smallest = min(smallest, room)
    return smallest, chunk


@assets.app_template_global("flask_store_direct_upload")
def direct_upload(location: str | None = "") -> dict[str, str]:
    """The upload form's ``data-`` attributes for its script to upload files
    itself into ``location``; none when the app has no upload endpoints for
    its provider (or no ``SECRET_KEY`` to sign a grant with)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    endpoints = upload_endpoints(app) if app.secret_key else None
    if endpoints is None:
        return {}
    try:
        grant = upload_grant(location or "", app=app)
    except ValueError:  # a folder the form refuses anyway
        return {}
    smallest, chunk = direct_sizes(endpoints.kind, app.config)
    return {
        "data-direct": endpoints.kind,
        "data-direct-url": endpoints.url(),
        "data-upload-grant": grant,
        "data-direct-min": str(smallest),
        "data-chunk-size": str(chunk),
    }


@assets.app_template_global("flask_store_csrf_message")
def csrf_message() -> str:
    """What the upload macro and the admin say about a bad CSRF token."""
    return CSRF_MESSAGE


def register_assets(app: Flask) -> None:
    """Register the assets blueprint on ``app`` once."""
    if ASSETS not in app.blueprints:
        app.register_blueprint(assets)
