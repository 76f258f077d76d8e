"""The app's signers for the tokens Flask-Store hands out.

Upload URLs and receipts (:mod:`flask_store.direct`) and image variants'
URLs (:mod:`flask_store.variants`) are signed with the app's ``SECRET_KEY``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer

from .state import store_state

if TYPE_CHECKING:
    from flask import Flask


def serializer(app: Flask, purpose: str) -> URLSafeTimedSerializer:
    """The app's signer for ``purpose`` (``"receipt"``, ``"tus"``...).

    The salt names the purpose, the app and its store, so a token made for
    one of them is refused by the others. Its tokens carry the time they
    were made, for ``loads(max_age=...)``.
    """
    return URLSafeTimedSerializer(_secret(app), salt=_salt(app, purpose))


def stable_serializer(app: Flask, purpose: str) -> URLSafeSerializer:
    """Like :func:`serializer`, but without the time: one value, one token.

    For URLs that never change (image variants), so caches can keep them.
    """
    return URLSafeSerializer(_secret(app), salt=_salt(app, purpose))


def _secret(app: Flask) -> str | bytes:
    if not app.secret_key:
        raise RuntimeError(
            "Flask-Store signs its upload and image URLs with SECRET_KEY: "
            "set app.config['SECRET_KEY']."
        )
    return app.secret_key


def _salt(app: Flask, purpose: str) -> str:
    backend = store_state(app).backend
    where = getattr(backend, "bucket", "") + ":" + getattr(backend, "root", "")
    return f"flask-store {purpose} {app.import_name} {where}"
