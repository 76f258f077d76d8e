"""What the column type, the session hooks and the queries share.

The app a session works for, that app's provider class, the stored path a
value stands for, and deleting a file after the fact. No SQLAlchemy events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import current_app, has_app_context

from ..exceptions import StoredFileNotFound
from ..providers.base import Provider

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy.orm import Session

#: ``session.info`` key naming the app a plain SQLAlchemy session works for.
APP_KEY = "flask_store.app"


def session_app(session: Session) -> Flask | None:
    """The app ``session`` was hooked to, else the current app, else ``None``."""
    app: Flask | None = session.info.get(APP_KEY)
    if app is None and has_app_context():
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def provider_class(app: Flask | None) -> type[Provider] | None:
    """``app``'s provider class, or ``None`` without an app or ``Store``."""
    state = app.extensions.get("store") if app is not None else None
    return state.provider if state is not None else None


def path_or_self(value: Any) -> Any:
    """The stored path of a saved provider; any other value unchanged."""
    if isinstance(value, Provider) and value.fp is None:
        return value.relative_path
    return value


def check_length(path: str, max_length: int) -> None:
    """Refuse a path longer than a column holds, saying what to do."""
    if len(path) > max_length:
        raise ValueError(
            f"{path!r} is longer than the column's {max_length} characters; "
            "give FlaskStoreType a larger max_length or use a shorter name."
        )


def delete_quietly(provider: Provider) -> None:
    """Delete a file after the fact, logging (not raising) a failure."""
    try:
        provider.delete()
    except StoredFileNotFound:
        pass
    except Exception:
        provider.app.logger.exception("Flask-Store could not delete %r.", provider)
