"""How the commands run: in an app context, reading its Flask-Store state only.

The one place the commands reach the state, as Flask-SQLAlchemy's CLI reads
``current_app.extensions["sqlalchemy"]``: the commands never import the
extension, so the extension may import them.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from ..backends.base import Backend
from ..providers.base import Provider
from ..state import store_state
from .errors import JSONErrorsCommand, reports_errors


def store_command(name: str) -> Callable[[Callable[..., Any]], click.Command]:
    """Declare the ``flask store NAME`` command.

    It runs in the app's context (as the commands of Flask's ``AppGroup`` do)
    and reports bad input and storage errors as a one-line message, as JSON
    when the command is given ``--json``.
    """

    def decorator(callback: Callable[..., Any]) -> click.Command:
        return click.command(name, cls=JSONErrorsCommand)(
            with_appcontext(reports_errors(callback))
        )

    return decorator


def current_flask_app() -> Flask:
    """The app the command runs for (not the proxy, so it can be passed on)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def current_provider() -> type[Provider]:
    """The provider class the app is configured with."""
    return store_state(current_flask_app()).provider


def current_backend() -> Backend:
    """The app's storage backend."""
    return store_state(current_flask_app()).backend


def check_configuration() -> None:
    """Check the app's storage configuration; raise what is wrong with it."""
    app = current_flask_app()
    store_state(app).store.check_config(app)


def load_sqla() -> ModuleType:
    """:mod:`flask_store.sqla`, imported when a command first needs it.

    SQLAlchemy is optional: only the commands that compare the store with the
    database load it, with a message saying what to install when it is missing.
    """
    try:
        from .. import sqla
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("sqlalchemy"):
            raise
        raise click.ClickException(
            "This command compares the store with the database and needs "
            "SQLAlchemy: pip install 'Flask-Store[sqla]'."
        ) from exc
    return sqla
