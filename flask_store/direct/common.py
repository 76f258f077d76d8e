"""What every upload endpoint checks and how it answers errors."""

from __future__ import annotations

from flask import current_app, request
from werkzeug.exceptions import (
    BadRequest,
    Forbidden,
    RequestEntityTooLarge,
    UnsupportedMediaType,
)

from ..access import access_decision
from ..rules import refusal

#: How long an upload may take, in seconds (``STORE_UPLOAD_EXPIRES``): one day.
DEFAULT_EXPIRES = 24 * 3600


def check_upload_request() -> None:
    """Refuse a request ``STORE_UPLOADS_ACCESS`` closes, or one from another site.

    A browser sends ``Origin`` with every cross-site request that could
    change something; one naming another site is refused whatever it asks.
    """
    setting = current_app.config.get("STORE_UPLOADS_ACCESS", True)
    if access_decision(setting) is not True:
        raise Forbidden("Uploads are closed to this request (STORE_UPLOADS_ACCESS).")
    origin = request.headers.get("Origin")
    if origin is not None and origin.rstrip("/") != request.host_url.rstrip("/"):
        raise Forbidden("Uploads from another site are refused.")


def upload_expires() -> int:
    """Seconds an upload may take from its start (``STORE_UPLOAD_EXPIRES``)."""
    return int(current_app.config.get("STORE_UPLOAD_EXPIRES", DEFAULT_EXPIRES))


def check_rules(filename: str, size: int) -> None:
    """Refuse an upload the upload rules refuse, before any byte is sent.

    413 for a file larger than ``STORE_MAX_SIZE``, 415 for a type not in
    ``STORE_ALLOWED_EXTENSIONS``, 400 for a missing name.
    """
    if not filename:
        raise BadRequest("Send the file's name.")
    refused = refusal(filename, size, current_app.config)
    if refused is None:
        return
    max_size = current_app.config.get("STORE_MAX_SIZE")
    if max_size is not None and size > max_size:
        raise RequestEntityTooLarge(refused)
    raise UnsupportedMediaType(refused)
