"""What every upload endpoint checks and how it answers errors."""

from __future__ import annotations

from flask import current_app, g, request
from werkzeug.exceptions import (
    BadRequest,
    Forbidden,
    RequestEntityTooLarge,
    UnsupportedMediaType,
)

from .. import names
from ..access import access_decision
from ..rules import content_refusal, refusal
from .grants import GRANT_HEADER, BadGrant, read_grant

#: How long an upload may take, in seconds (``STORE_UPLOAD_EXPIRES``): one day.
DEFAULT_EXPIRES = 24 * 3600

#: Why a request with neither a grant nor ``STORE_UPLOADS_ACCESS`` is refused.
NEEDS_GRANT = "Uploads need the grant of a page's upload form, or STORE_UPLOADS_ACCESS."

#: Why a request with a forged or expired grant is refused.
GRANT_EXPIRED = "The page's upload permission has expired: reload the page."


def check_origin() -> None:
    """Refuse a request from another site.

    A browser sends ``Origin`` with every cross-site request that could
    change something; one naming another site is refused whatever it asks.
    """
    origin = request.headers.get("Origin")
    if origin is not None and origin.rstrip("/") != request.host_url.rstrip("/"):
        raise Forbidden("Uploads from another site are refused.")


def check_upload_request(*, starting: bool = True) -> None:
    """Let in a request with a valid grant, or one ``STORE_UPLOADS_ACCESS``
    lets in; refuse one from another site.

    A grant (``Flask-Store-Grant``) lets a page start uploads for
    ``STORE_UPLOAD_TOKEN_MAX_AGE`` seconds and carry on with the ones it
    started (``starting=False``) for as long as an upload may take
    (``STORE_UPLOAD_EXPIRES``). A forged or expired grant is refused even
    where ``STORE_UPLOADS_ACCESS`` would let the request in.
    """
    check_origin()
    # ``g`` outlives a request where a test keeps an app context pushed.
    g.pop("_flask_store_grant", None)
    token = request.headers.get(GRANT_HEADER)
    if token:
        max_age = None if starting else upload_expires()
        try:
            g._flask_store_grant = read_grant(
                token,
                app=current_app._get_current_object(),  # type: ignore[attr-defined]
                max_age=max_age,
            )
        except BadGrant:
            raise Forbidden(GRANT_EXPIRED) from None
        return
    setting = current_app.config.get("STORE_UPLOADS_ACCESS")
    if access_decision(setting) is not True:
        raise Forbidden(NEEDS_GRANT)


def upload_location(sent: str | None) -> str:
    """The folder a new upload goes to: the grant's, or the one ``sent``.

    With a grant, a client that names another folder gets a 400; one that
    names none uploads into the grant's.
    """
    try:
        location = names.clean_location(sent)
    except (TypeError, ValueError) as exc:
        raise BadRequest(str(exc)) from None
    granted: str | None = g.get("_flask_store_grant")
    if granted is None:
        return location
    if sent is not None and location != granted:
        raise BadRequest(
            f"This page may upload into {granted or 'the top folder'!r} only, "
            f"not {location!r}."
        )
    return granted


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


def check_content(filename: str, head: bytes) -> None:
    """Refuse (415) a file whose first bytes the upload rules refuse
    (``STORE_ALLOWED_TYPES``, ``STORE_CHECK_CONTENT_MATCHES_NAME``)."""
    refused = content_refusal(filename, head, current_app.config)
    if refused is not None:
        raise UnsupportedMediaType(refused)
