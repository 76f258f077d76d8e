"""The app's signers for the tokens Flask-Store hands out.

Upload URLs and receipts (:mod:`flask_store.direct`) and image variants'
URLs (:mod:`flask_store.variants`) are signed with the app's ``SECRET_KEY``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from itsdangerous import URLSafeTimedSerializer

from .state import store_state

if TYPE_CHECKING:
    from flask import Flask


def serializer(app: Flask, purpose: str) -> URLSafeTimedSerializer:
    """The app's signer for ``purpose`` (``"receipt"``, ``"tus"``...).

    The salt names the purpose, the app and its store, so a token made for
    one of them is refused by the others.
    """
    if not app.secret_key:
        raise RuntimeError(
            "Flask-Store signs its upload and image URLs with SECRET_KEY: "
            "set app.config['SECRET_KEY']."
        )
    backend = store_state(app).backend
    where = getattr(backend, "bucket", "") + ":" + getattr(backend, "root", "")
    salt = f"flask-store {purpose} {app.import_name} {where}"
    return URLSafeTimedSerializer(app.secret_key, salt=salt)
