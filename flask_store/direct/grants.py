"""Grants: a page's permission to start uploads into one folder.

The upload macro puts a *grant* in the form it renders (``data-upload-grant``)
and the page's script sends it with each request to the upload endpoints,
in the ``Flask-Store-Grant`` header. A grant is a short-lived token, signed
with the app's ``SECRET_KEY``, naming the folder the page may upload to. It
is how these JSON endpoints know a request comes from a page the app
rendered: a page on another site cannot read it, and cannot send a custom
header without a CORS preflight the endpoints never grant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app
from itsdangerous import BadData

from .. import names
from ..signing import serializer
from .tokens import DEFAULT_MAX_AGE

if TYPE_CHECKING:
    from flask import Flask

#: The request header that carries a grant.
GRANT_HEADER = "Flask-Store-Grant"


class BadGrant(Exception):
    """A grant is forged, expired, or not one of this app's."""


def grant_max_age(app: Flask) -> int:
    """Seconds a grant lets a page start uploads (``STORE_UPLOAD_TOKEN_MAX_AGE``)."""
    return int(app.config.get("STORE_UPLOAD_TOKEN_MAX_AGE", DEFAULT_MAX_AGE))


def upload_grant(location: str = "", *, app: Flask | None = None) -> str:
    """A grant to upload into the folder ``location`` (``""``: the store's root).

    Valid ``STORE_UPLOAD_TOKEN_MAX_AGE`` seconds. The upload macro makes one
    for its form; a page of the app's own sends it in the
    ``Flask-Store-Grant`` header.

    :raises ValueError: for a location :func:`~flask_store.names.clean_location`
        refuses.

    .. versionadded:: 1.0
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return str(serializer(app, "grant").dumps(names.clean_location(location)))


def read_grant(token: str, *, app: Flask, max_age: int | None = None) -> str:
    """The folder a grant names; :class:`BadGrant` when it is not valid.

    :param max_age: seconds the grant is good for; by default
        ``STORE_UPLOAD_TOKEN_MAX_AGE``.
    """
    try:
        location = serializer(app, "grant").loads(
            token, max_age=grant_max_age(app) if max_age is None else max_age
        )
    except BadData:
        raise BadGrant(token) from None
    if not isinstance(location, str):
        raise BadGrant(token)
    return location
