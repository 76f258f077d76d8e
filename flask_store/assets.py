"""The small internal blueprint that makes Flask-Store's templates and static
files available to every app where ``Store`` is initialised.

It has no views of its own: it lets ``{% from "flask_store/macros.html" import
upload_form %}`` work and serves the macro's CSS and JavaScript, whether or not
the admin blueprint is registered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, current_app

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


@assets.app_template_global("flask_store_csrf_message")
def csrf_message() -> str:
    """What the upload macro and the admin say about a bad CSRF token."""
    return CSRF_MESSAGE


def register_assets(app: Flask) -> None:
    """Register the assets blueprint on ``app`` once."""
    if ASSETS not in app.blueprints:
        app.register_blueprint(assets)
