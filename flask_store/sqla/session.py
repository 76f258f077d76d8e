"""The session Flask-Store uses for an app, and the file columns it sees.

Flask-SQLAlchemy's ``db.session`` needs nothing; a plain SQLAlchemy session,
sessionmaker or scoped_session is hooked to an app with :func:`init_session`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask.globals import app_ctx
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from ..state import store_state
from .context import APP_KEY
from .references import bound_columns
from .registry import FileColumn, all_file_columns
from .tracking import SessionTarget, listen

if TYPE_CHECKING:
    from flask import Flask


def init_session(session: SessionTarget, app: Flask) -> None:
    """Hook a plain SQLAlchemy session, sessionmaker or scoped_session to ``app``.

    Its flushes save assigned uploads with ``app``'s provider, its rollbacks
    delete them, and its commits delete orphaned files (``STORE_DELETE_ORPHANS``).
    It becomes the session :func:`get_session` gives for ``app``. Call it after
    ``Store(app)``; Flask-SQLAlchemy's ``db.session`` needs no hooking.
    """
    state = store_state(app)
    if isinstance(session, Session):
        _pin(session.info, app)
        getter: Callable[[], Session] = lambda: session  # noqa: E731
    elif isinstance(session, scoped_session):
        _pin_factory(session.session_factory, app)
        if session.registry.has():
            _pin(session().info, app)
        getter = session
    elif isinstance(session, sessionmaker):
        _pin_factory(session, app)
        # Admin and CLI queries get one session per app context, like
        # Flask-SQLAlchemy's, closed when the context ends.
        scoped = scoped_session(session, scopefunc=_app_context_id)
        app.teardown_appcontext(lambda exc: scoped.remove())
        getter = scoped
    else:
        raise TypeError(
            "init_session takes a Session, a sessionmaker or a scoped_session, "
            f"not {type(session).__name__}."
        )
    listen(session)
    with state.lock:
        state.session_getter = getter


def _app_context_id() -> int:
    return id(app_ctx._get_current_object())  # type: ignore[attr-defined]


def _pin(info: dict[Any, Any], app: Flask) -> None:
    other = info.get(APP_KEY)
    if other is not None and other is not app:
        raise ValueError(
            f"This session already works for the app {other.name!r}; give each "
            "app its own sessionmaker."
        )
    info[APP_KEY] = app


def _pin_factory(factory: sessionmaker[Any], app: Flask) -> None:
    info = dict(factory.kw.get("info") or {})
    _pin(info, app)
    factory.configure(info=info)


def get_session(app: Flask) -> Session | None:
    """The session Flask-Store uses for admin and CLI queries on ``app``.

    Flask-SQLAlchemy's ``db.session`` when the app uses it, else the session
    registered with :func:`init_session`, else ``None``. Needs an app context.
    """
    db = app.extensions.get("sqlalchemy")
    if db is not None:
        listen(db.session)
        session: Session = db.session()
        return session
    state = app.extensions.get("store")
    getter = state.session_getter if state is not None else None
    return getter() if getter is not None else None


def file_columns(*, app: Flask | None = None) -> list[FileColumn]:
    """Every mapped attribute typed FlaskStoreType, in every declarative registry.

    Sorted by model name, then attribute. An attribute a subclass inherits is
    listed once, on the class that defines it. With ``app``, only the columns
    whose tables are in the database of ``get_session(app)``: models of other
    apps or databases in the same process are left out.
    """
    if app is None:
        return all_file_columns()
    session = get_session(app)
    return [] if session is None else bound_columns(session, app)
