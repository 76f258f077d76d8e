"""Session hooks: save uploads on flush, undo them on rollback, release on commit.

Registered per session or sessionmaker by :func:`listen`, never process-wide
and never at import. What a session's open transaction did is kept in its
``session.info``, per transaction, so a savepoint that rolls back undoes only
its own saves.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import (
    PassiveFlag,
    Session,
    SessionTransaction,
    scoped_session,
    sessionmaker,
)
from sqlalchemy.orm.attributes import get_history
from werkzeug.datastructures import FileStorage

from .. import spelling
from ..providers.base import Provider
from ..state import store_state
from .companion import companion_value
from .context import (
    check_length,
    delete_quietly,
    path_or_self,
    provider_class,
    session_app,
)
from .references import bound_columns, fresh_executor, still_used
from .registry import FileType, file_attributes

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy.orm import UOWTransaction

#: What :func:`listen` and :func:`flask_store.sqla.init_session` hook.
SessionTarget = Session | sessionmaker[Any] | scoped_session[Any]

#: ``session.info`` key of the files the session's open transaction touched.
CHANGES_KEY = "flask_store.changes"


@dataclass
class Changes:
    """Files a session's transaction saved or stopped using, per transaction."""

    transaction: SessionTransaction | None = None
    saved: list[tuple[SessionTransaction | None, Provider]] = field(
        default_factory=list
    )
    released: list[tuple[SessionTransaction | None, str]] = field(default_factory=list)


def _changes(session: Session) -> Changes:
    changes: Changes = session.info.setdefault(CHANGES_KEY, Changes())
    changes.transaction = session.get_nested_transaction() or session.get_transaction()
    return changes


def save_value(
    column_type: FileType,
    value: Provider | FileStorage | str,
    app: Flask | None,
    changes: Changes,
) -> Provider | str:
    """The provider to keep for ``value``, saving an upload first."""
    if isinstance(value, str):
        found = provider_class(app)
        if app is None or found is None:
            return value
        return found(value, app=app)
    if isinstance(value, FileStorage):
        if app is None:
            raise RuntimeError(
                "Saving an upload assigned to a FlaskStoreType attribute needs "
                "the app: flush inside an app context, or hook the session "
                "with flask_store.sqla.init_session(session, app)."
            )
        value = store_state(app).provider(value, column_type.location, app=app)
    if value.fp is None:
        return value
    value.save()
    if len(value.relative_path) > column_type.max_length:
        delete_quietly(value)
        check_length(value.relative_path, column_type.max_length)
    changes.saved.append((changes.transaction, value))
    return value


def _before_flush(
    session: Session, flush_context: UOWTransaction, instances: Any
) -> None:
    app = session_app(session)
    changes = _changes(session)
    release = bool(app is not None and app.config.get("STORE_DELETE_ORPHANS"))
    for obj in [*session.new, *session.dirty]:
        # attributes.get_history, not inspect(obj).attrs: that builds a
        # state object per attribute, in a reference cycle that only the
        # garbage collector frees, for every row of a flush.
        for key, column_type in file_attributes(inspect(obj).mapper):
            history = get_history(obj, key, PassiveFlag.PASSIVE_NO_INITIALIZE)
            if not history.added:
                continue
            value = history.added[0]
            kept = None
            if value is not None:
                kept = save_value(column_type, value, app, changes)
            if kept is not value:
                setattr(obj, key, kept)
            if column_type.metadata_column:
                setattr(obj, column_type.metadata_column, companion_value(kept))
            if release:
                _release(changes, history.deleted, keep=path_or_self(kept))
    if release:
        for obj in session.deleted:
            for key, _ in file_attributes(inspect(obj).mapper):
                history = get_history(
                    obj, key, PassiveFlag.PASSIVE_OFF ^ PassiveFlag.INIT_OK
                )
                _release(changes, [*history.unchanged, *history.deleted])


def _release(changes: Changes, values: Iterable[Any], keep: Any = None) -> None:
    for value in values:
        path = path_or_self(value)
        if isinstance(path, str) and path != keep:
            changes.released.append((changes.transaction, path))


def _within(
    transaction: SessionTransaction | None, ancestor: SessionTransaction
) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def _discard(
    session: Session, rolled_back: Callable[[SessionTransaction | None], bool]
) -> None:
    """Forget what rolled-back transactions did, deleting the files they saved."""
    changes: Changes | None = session.info.get(CHANGES_KEY)
    if changes is None:
        return
    doomed = [p for tx, p in changes.saved if rolled_back(tx)]
    changes.saved = [(tx, p) for tx, p in changes.saved if not rolled_back(tx)]
    changes.released = [(tx, p) for tx, p in changes.released if not rolled_back(tx)]
    for provider in doomed:
        delete_quietly(provider)


def _after_soft_rollback(session: Session, previous: SessionTransaction) -> None:
    # A subtransaction's rollback rolls back the nearest savepoint or the root.
    boundary = previous
    while not boundary.nested and boundary.parent is not None:
        boundary = boundary.parent
    _discard(session, lambda tx: _within(tx, boundary))


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # The root ended; after_commit took what was committed, so anything left
    # was never committed (a close() without commit does not roll back softly).
    if transaction.parent is None:
        _discard(session, lambda tx: True)


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint was released, no more
        return
    changes: Changes | None = session.info.pop(CHANGES_KEY, None)
    if changes is None or not changes.released:
        return
    app = session_app(session)
    found = provider_class(app)
    if app is None or found is None:
        return
    paths = set()
    for _, released in changes.released:
        try:
            paths.add(spelling.canonical_path(released))
        except (TypeError, ValueError):
            app.logger.warning(
                "Flask-Store kept %r: a row held it, but it is not a stored path.",
                released,
            )
    columns, execute = bound_columns(session, app), fresh_executor(session)
    for path in sorted(paths):
        try:  # checked for each file right before deleting it
            used = still_used(columns, path, execute)
        except SQLAlchemyError:
            app.logger.exception(
                "Flask-Store could not check whether the replaced or deleted "
                "file %r is still used; it was kept.",
                path,
            )
            continue
        if not used:
            delete_quietly(found(path, app=app))


SESSION_EVENTS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("before_flush", _before_flush),
    ("after_commit", _after_commit),
    ("after_soft_rollback", _after_soft_rollback),
    ("after_transaction_end", _after_transaction_end),
)

_lock = threading.Lock()

#: Sessions and sessionmakers whose events are registered. Not asked of
#: ``event.contains``: it keys targets by ``id()``, so a new sessionmaker that
#: reuses a collected one's id would look hooked and never be.
_hooked: weakref.WeakSet[Any] = weakref.WeakSet()


def listen(target: SessionTarget) -> None:
    """Register the session events on ``target`` once."""
    if isinstance(target, scoped_session):
        target = target.session_factory
    with _lock:
        if target in _hooked:
            return
        for name, listener in SESSION_EVENTS:
            event.listen(target, name, listener)
        _hooked.add(target)
