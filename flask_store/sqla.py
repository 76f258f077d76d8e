"""A SQLAlchemy column type that ties stored files to rows.

::

    from flask_store.sqla import FlaskStoreType

    class Document(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        file = db.Column(FlaskStoreType(128, location="documents"))

The column keeps the file's relative path. An upload assigned to it is saved
when the row is flushed, inside the session's transaction: a rollback deletes
it again, and with ``STORE_DELETE_ORPHANS`` a file a row stops using is deleted
once the commit has happened. Flask-SQLAlchemy sessions are hooked
automatically; plain SQLAlchemy sessions are hooked with :func:`init_session`.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from itertools import islice
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from flask import current_app, has_app_context
from flask.globals import app_ctx
from sqlalchemy import (
    Connection,
    Select,
    Unicode,
    event,
    inspect,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.exc import SQLAlchemyError, UnboundExecutionError
from sqlalchemy.orm import (
    Mapper,
    Session,
    SessionTransaction,
    configure_mappers,
    defer,
    scoped_session,
    sessionmaker,
)
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator
from werkzeug.datastructures import FileStorage

from . import names
from .backends.base import StoredFile
from .exceptions import StoredFileNotFound
from .providers.base import Provider
from .state import store_state

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy.engine import Dialect
    from sqlalchemy.orm import UOWTransaction

__all__ = [
    "FileColumn",
    "FlaskStoreType",
    "delete_orphans",
    "delete_unused",
    "file_columns",
    "find_orphans",
    "get_session",
    "init_session",
    "rows_using",
]

#: How many paths go into one ``IN (...)`` query.
BATCH_SIZE = 500

#: ``session.info`` key naming the app a plain SQLAlchemy session works for.
APP_KEY = "flask_store.app"

#: ``session.info`` key of the files the session's open transaction touched.
_CHANGES_KEY = "flask_store.changes"

#: ``StoreState.cache`` key of the session registered with :func:`init_session`.
_SESSION_KEY = "sqla.session"

_T = TypeVar("_T")

_UPLOAD_IN_QUERY = (
    "A FileStorage is saved when it is assigned to a FlaskStoreType attribute "
    "and the row is flushed by a session Flask-Store hooks (Flask-SQLAlchemy's, "
    "or one given to flask_store.sqla.init_session), never by a query. Compare "
    "the column with a stored path (str) or a provider instead."
)

SessionTarget = Session | sessionmaker[Any] | scoped_session[Any]

#: Comparisons whose other side is a whole stored path, bound canonical.
_PATH_OPERATORS = frozenset(
    {operators.eq, operators.ne, operators.in_op, operators.not_in_op}
)


class FlaskStoreType(TypeDecorator[Provider]):
    """A column holding a stored file's relative path, read as a provider.

    Assign a :class:`~werkzeug.datastructures.FileStorage` (saved with the
    app's provider in ``location`` when the row is flushed), a provider or a
    stored path (``str``), or ``None``; an upload with no file name stores
    NULL. Reading gives an instance of the app's provider class, built without
    any storage I/O.

    :param max_length: the longest relative path the column holds.
    :param location: the folder (or key prefix) uploads are saved in.
    """

    impl = Unicode
    cache_ok = True

    def __init__(self, max_length: int = 256, location: str | None = None) -> None:
        super().__init__(max_length)
        self.max_length = max_length
        self.location = names.clean_location(location, legacy_slash=True) or None
        _watch_mappers()

    @property
    def python_type(self) -> type[Provider]:
        return Provider

    def coerce_compared_value(self, op: Any, value: Any) -> Any:
        # Called while a query is built: refuse an upload right there, so the
        # mistake points at the filter and nothing is ever saved by a query.
        if isinstance(value, FileStorage):
            raise TypeError(_UPLOAD_IN_QUERY)
        if isinstance(value, str) and op not in _PATH_OPERATORS:
            # like(), startswith(), contains(): a pattern or a fragment, not a
            # path to canonicalise ("docs/" must stay "docs/").
            return Unicode()
        return super().coerce_compared_value(op, value)

    def process_bind_param(
        self, value: Provider | FileStorage | str | None, dialect: Dialect
    ) -> str | None:
        if value is None:
            return value
        if isinstance(value, str):
            # Every statement, ORM or Core (a bulk insert(), an update()), goes
            # through here: only a canonical path inside the store is stored.
            path = names.canonical_path(value)
            self._check_length(path)
            return path
        if isinstance(value, Provider):
            if value.fp is not None:
                raise ValueError(
                    f"{value!r} is not saved yet: call save() first, or assign it "
                    "to a FlaskStoreType attribute and flush the row."
                )
            return value.relative_path
        if isinstance(value, FileStorage):
            raise TypeError(_UPLOAD_IN_QUERY)
        raise TypeError(
            "A FlaskStoreType value is a stored path (str), a provider or None, "
            f"not {type(value).__name__}."
        )

    def process_result_value(
        self, value: Any | None, dialect: Dialect
    ) -> Provider | None:
        # Runs once per row: a dict lookup and a constructor, no storage I/O.
        if value is None:
            return None
        try:
            app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        except RuntimeError:
            raise RuntimeError(
                "Reading a FlaskStoreType column gives a provider of the current "
                "app: run the query inside 'with app.app_context():'."
            ) from None
        return store_state(app).provider.from_stored_path(value, app=app)

    def compare_values(self, x: Any, y: Any) -> bool:
        # Tells SQLAlchemy whether an assignment changes the row: a path and a
        # provider for that path are the same value, an upload never is.
        if isinstance(x, FileStorage) or isinstance(y, FileStorage):
            return x is y
        return bool(_path_or_self(x) == _path_or_self(y))

    # -- assignment and flush ---------------------------------------------

    def accept(self, value: Any) -> Provider | FileStorage | str | None:
        """Check a value assigned to an attribute of this type; return what to keep.

        Raises :class:`TypeError` or :class:`ValueError` at the assignment, so a
        bad value never reaches the database or the store.
        """
        if value is None:
            return None
        if isinstance(value, FileStorage):
            return value if value.filename else None
        if isinstance(value, Provider):
            if value.fp is None:
                self._check_length(value.relative_path)
            return value
        if isinstance(value, str):
            path = names.canonical_path(value)
            self._check_length(path)
            return path
        raise TypeError(
            "A FlaskStoreType attribute takes a FileStorage, a provider, a stored "
            f"path (str) or None, not {type(value).__name__}."
        )

    def _check_length(self, path: str) -> None:
        if len(path) > self.max_length:
            raise ValueError(
                f"{path!r} is longer than the column's {self.max_length} characters; "
                "give FlaskStoreType a larger max_length or use a shorter name."
            )

    def _on_set(self, target: object, value: Any, oldvalue: Any, initiator: Any) -> Any:
        return self.accept(value)

    def _store(
        self, value: Provider | FileStorage | str, app: Flask | None, changes: _Changes
    ) -> Provider | str:
        """The provider to keep for ``value``, saving an upload first."""
        if isinstance(value, str):
            provider_class = _provider_class(app)
            if app is None or provider_class is None:
                return value
            return provider_class(value, app=app)
        if isinstance(value, FileStorage):
            if app is None:
                raise RuntimeError(
                    "Saving an upload assigned to a FlaskStoreType attribute needs "
                    "the app: flush inside an app context, or hook the session "
                    "with flask_store.sqla.init_session(session, app)."
                )
            value = store_state(app).provider(value, self.location, app=app)
        if value.fp is None:
            return value
        value.save()
        if len(value.relative_path) > self.max_length:
            _delete_quietly(value)
            self._check_length(value.relative_path)
        changes.saved.append((changes.transaction, value))
        return value


def _path_or_self(value: Any) -> Any:
    if isinstance(value, Provider) and value.fp is None:
        return value.relative_path
    return value


def _provider_class(app: Flask | None) -> type[Provider] | None:
    state = app.extensions.get("store") if app is not None else None
    return state.provider if state is not None else None


# -- mapped attributes ------------------------------------------------------


class FileColumn(NamedTuple):
    """A mapped attribute typed :class:`FlaskStoreType`."""

    model: type
    attribute: str
    location: str | None

    @property
    def name(self) -> str:
        """``Model.attribute``, for messages and pages."""
        return f"{self.model.__name__}.{self.attribute}"

    @property
    def type(self) -> FlaskStoreType:
        column_type: FlaskStoreType = inspect(self.model).columns[self.attribute].type
        return column_type


_watch_lock = threading.Lock()

#: Mapped classes with FlaskStoreType attributes they define (not inherit).
_models: weakref.WeakKeyDictionary[type, tuple[tuple[str, str | None], ...]] = (
    weakref.WeakKeyDictionary()
)

#: Per mapper (inherited attributes included): the FlaskStoreType attributes.
_mapper_attributes: weakref.WeakKeyDictionary[
    Mapper[Any], tuple[tuple[str, FlaskStoreType], ...]
] = weakref.WeakKeyDictionary()


def _watch_mappers() -> None:
    """Learn about mapped FlaskStoreType attributes as mappers are configured.

    Installed when the first FlaskStoreType is created (never at import), once.
    """
    with _watch_lock:
        if not event.contains(Mapper, "mapper_configured", _on_mapper_configured):
            event.listen(Mapper, "mapper_configured", _on_mapper_configured)


def _on_mapper_configured(mapper: Mapper[Any], class_: type) -> None:
    own = []
    for prop in mapper.column_attrs:
        column_type = prop.columns[0].type
        if not isinstance(column_type, FlaskStoreType) or prop.parent is not mapper:
            continue
        # active_history loads the old value before a set, so a replaced file
        # is known even when the attribute had expired.
        event.listen(
            getattr(class_, prop.key),
            "set",
            column_type._on_set,
            retval=True,
            active_history=True,
            propagate=True,
        )
        own.append((prop.key, column_type.location))
    if own:
        _models[class_] = tuple(own)
    db = getattr(class_, "__fsa__", None)
    if db is not None and own:
        _listen(db.session)


def _file_attributes(mapper: Mapper[Any]) -> tuple[tuple[str, FlaskStoreType], ...]:
    found = _mapper_attributes.get(mapper)
    if found is None:
        found = tuple(
            (prop.key, prop.columns[0].type)
            for prop in mapper.column_attrs
            if isinstance(prop.columns[0].type, FlaskStoreType)
        )
        _mapper_attributes[mapper] = found
    return found


def file_columns(*, app: Flask | None = None) -> list[FileColumn]:
    """Every mapped attribute typed FlaskStoreType, in every declarative registry.

    Sorted by model name, then attribute. An attribute a subclass inherits is
    listed once, on the class that defines it. With ``app``, only the columns
    whose tables are in the database of ``get_session(app)``: models of other
    apps or databases in the same process are left out.
    """
    if app is None:
        return _all_file_columns()
    session = get_session(app)
    return [] if session is None else _bound_columns(session, app)


def _all_file_columns() -> list[FileColumn]:
    configure_mappers()
    found: list[FileColumn] = []
    for model, attributes in list(_models.items()):
        mapper: Mapper[Any] | None = inspect(model, raiseerr=False)
        if mapper is None:  # disposed since
            continue
        found.extend(FileColumn(model, key, where) for key, where in attributes)
    return sorted(found, key=lambda c: (c.model.__name__, c.attribute))


# -- sessions ---------------------------------------------------------------


@dataclass
class _Changes:
    """Files a session's transaction saved or stopped using, per transaction."""

    transaction: SessionTransaction | None = None
    saved: list[tuple[SessionTransaction | None, Provider]] = field(
        default_factory=list
    )
    released: list[tuple[SessionTransaction | None, str]] = field(default_factory=list)


def _session_app(session: Session) -> Flask | None:
    app: Flask | None = session.info.get(APP_KEY)
    if app is None and has_app_context():
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def _changes(session: Session) -> _Changes:
    changes: _Changes = session.info.setdefault(_CHANGES_KEY, _Changes())
    changes.transaction = session.get_nested_transaction() or session.get_transaction()
    return changes


def _before_flush(
    session: Session, flush_context: UOWTransaction, instances: Any
) -> None:
    app = _session_app(session)
    changes = _changes(session)
    release = bool(app is not None and app.config.get("STORE_DELETE_ORPHANS"))
    for obj in [*session.new, *session.dirty]:
        state = inspect(obj)
        for key, column_type in _file_attributes(state.mapper):
            history = state.attrs[key].history
            if not history.added:
                continue
            value = history.added[0]
            kept = None if value is None else column_type._store(value, app, changes)
            if kept is not value:
                setattr(obj, key, kept)
            if release:
                _release(changes, history.deleted, keep=_path_or_self(kept))
    if release:
        for obj in session.deleted:
            state = inspect(obj)
            for key, _ in _file_attributes(state.mapper):
                history = state.attrs[key].load_history()
                _release(changes, [*history.unchanged, *history.deleted])


def _release(changes: _Changes, values: Iterable[Any], keep: Any = None) -> None:
    for value in values:
        path = _path_or_self(value)
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
    changes: _Changes | None = session.info.get(_CHANGES_KEY)
    if changes is None:
        return
    doomed = [p for tx, p in changes.saved if rolled_back(tx)]
    changes.saved = [(tx, p) for tx, p in changes.saved if not rolled_back(tx)]
    changes.released = [(tx, p) for tx, p in changes.released if not rolled_back(tx)]
    for provider in doomed:
        _delete_quietly(provider)


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
    changes: _Changes | None = session.info.pop(_CHANGES_KEY, None)
    if changes is None or not changes.released:
        return
    app = _session_app(session)
    provider_class = _provider_class(app)
    if app is None or provider_class is None:
        return
    paths = set()
    for _, released in changes.released:
        try:
            paths.add(names.canonical_path(released))
        except (TypeError, ValueError):
            app.logger.warning(
                "Flask-Store kept %r: a row held it, but it is not a stored path.",
                released,
            )
    try:
        used = _referenced(
            _bound_columns(session, app), paths, _fresh_executor(session)
        )
    except SQLAlchemyError:
        app.logger.exception(
            "Flask-Store could not check whether %d replaced or deleted files are "
            "still used; they were kept.",
            len(paths),
        )
        return
    for path in sorted(paths - used):
        _delete_quietly(provider_class(path, app=app))


_SESSION_EVENTS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("before_flush", _before_flush),
    ("after_commit", _after_commit),
    ("after_soft_rollback", _after_soft_rollback),
    ("after_transaction_end", _after_transaction_end),
)


#: Sessions and sessionmakers whose events are registered. Not asked of
#: ``event.contains``: it keys targets by ``id()``, so a new sessionmaker that
#: reuses a collected one's id would look hooked and never be.
_hooked: weakref.WeakSet[Any] = weakref.WeakSet()


def _listen(target: SessionTarget) -> None:
    """Register the session events on ``target`` once."""
    if isinstance(target, scoped_session):
        target = target.session_factory
    with _watch_lock:
        if target in _hooked:
            return
        for name, listener in _SESSION_EVENTS:
            event.listen(target, name, listener)
        _hooked.add(target)


def _delete_quietly(provider: Provider) -> None:
    """Delete a file after the fact, logging (not raising) a failure."""
    try:
        provider.delete()
    except StoredFileNotFound:
        pass
    except Exception:
        provider.app.logger.exception("Flask-Store could not delete %r.", provider)


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
    _listen(session)
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
        _listen(db.session)
        session: Session = db.session()
        return session
    state = app.extensions.get("store")
    getter = state.session_getter if state is not None else None
    return getter() if getter is not None else None


# -- which rows use which files ----------------------------------------------

_Executor = Callable[[type, Select[Any]], Iterable[Any]]


def _batches(items: Iterable[_T]) -> Iterator[list[_T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, BATCH_SIZE)):
        yield batch


def raw_column(column: FileColumn) -> Any:
    """The column as a plain string: no provider per row, plain bind values."""
    return type_coerce(getattr(column.model, column.attribute), Unicode())


def _bound_columns(session: Session, app: Flask | None) -> list[FileColumn]:
    """The file columns whose tables exist in the database ``session`` uses."""
    db = app.extensions.get("sqlalchemy") if app is not None else None
    found = []
    inspectors: dict[Any, Any] = {}
    for column in _all_file_columns():
        owner = getattr(column.model, "__fsa__", None)
        if owner is not None and owner is not db:
            continue
        mapper: Mapper[Any] = inspect(column.model)
        table = mapper.columns[column.attribute].table
        try:
            bind = session.get_bind(mapper=mapper)
        except UnboundExecutionError:
            continue
        inspector = inspectors.get(bind)
        if inspector is None:
            inspector = inspectors[bind] = inspect(bind)
        if inspector.has_table(table.name, schema=table.schema):
            found.append(column)
    return found


def _session_executor(session: Session) -> _Executor:
    return lambda model, statement: session.scalars(statement)


def _fresh_executor(session: Session) -> _Executor:
    """Run queries outside the session (it may not emit SQL after a commit)."""

    def execute(model: type, statement: Select[Any]) -> Iterable[Any]:
        bind = session.get_bind(mapper=inspect(model))
        if isinstance(bind, Connection):
            return list(bind.scalars(statement))
        with bind.connect() as connection:
            return list(connection.scalars(statement))

    return execute


def _spelt(paths: Iterable[str]) -> dict[str, set[str]]:
    """Each spelling to look for in the database, and the given paths it means.

    A row holding a spelling of a path that no statement would store today
    (its NFD form, or one with empty or ``.`` parts, written by raw SQL or
    another tool) still uses that path's file.
    """
    wanted: dict[str, set[str]] = {}
    for path in paths:
        try:
            spellings = names.spellings(names.canonical_path(path)) | {path}
        except (TypeError, ValueError):
            spellings = {path}
        for spelling in spellings:
            wanted.setdefault(spelling, set()).add(path)
    return wanted


def _meant(value: Any, wanted: dict[str, set[str]]) -> set[str]:
    """The given paths a value found in a column references."""
    found = set(wanted.get(value, ()))
    with suppress(TypeError, ValueError):  # not a stored path: only itself
        found.update(wanted.get(names.canonical_path(value), ()))
    return found


#: ``LIKE`` patterns of values with an empty or ``.`` part (or a leading or
#: trailing slash): spellings no statement stores, that raw SQL may have.
_ODD_SPELLINGS = ("%//%", "%/./%", "./%", "/%", "%/", "%/.")


def _spelling_filter(raw: Any, batch: list[str]) -> Any:
    """Values that are one of ``batch``, or spelt with empty or ``.`` parts."""
    return or_(raw.in_(batch), *(raw.like(pattern) for pattern in _ODD_SPELLINGS))


def _referenced(
    columns: list[FileColumn], paths: set[str], execute: _Executor
) -> set[str]:
    """Which of ``paths`` some column references, under any spelling.

    One query per column and batch; it is the reference check every deletion
    (orphans, ``STORE_DELETE_ORPHANS``, the admin, ``flask store rm``) uses.
    """
    wanted = _spelt(paths)
    used: set[str] = set()
    for column in columns:
        raw = raw_column(column)
        for batch in _batches(sorted(wanted)):
            for value in execute(
                column.model, select(raw).where(_spelling_filter(raw, batch)).distinct()
            ):
                used |= _meant(value, wanted)
    return used


def file_defers(model: type) -> list[Any]:
    """Loader options leaving a model's file columns unloaded.

    Rows are loaded to be named (by primary key), never for their files: a bad
    value another tool wrote in a file column must not break the page.
    """
    mapper: Mapper[Any] = inspect(model)
    return [
        defer(getattr(model, key))
        for key, _ in _file_attributes(mapper)
        if not mapper.columns[key].primary_key  # a row is named by its key
    ]


def rows_using(
    session: Session, paths: Iterable[str]
) -> dict[str, list[tuple[FileColumn, object]]]:
    """For each path, the rows whose FlaskStoreType columns reference it.

    Every path given is a key (with an empty list when unused). A row holding
    another spelling of a path (see :func:`flask_store.names.canonical_path`)
    counts. One query per column and batch of spellings, never one per path.
    The rows come with their file columns deferred.
    """
    found: dict[str, list[tuple[FileColumn, object]]] = {p: [] for p in paths}
    if not found:
        return found
    wanted = _spelt(found)
    seen: set[tuple[str, str, int]] = set()  # a row found by two spellings once
    with session.no_autoflush:
        for column in _bound_columns(session, _session_app(session)):
            raw = raw_column(column)
            for batch in _batches(sorted(wanted)):
                statement = (
                    select(column.model, raw.label("stored_path"))
                    .where(_spelling_filter(raw, batch))
                    .options(*file_defers(column.model))
                )
                for row, value in session.execute(statement):
                    for path in _meant(value, wanted):
                        key = (path, column.name, id(row))
                        if key not in seen:
                            seen.add(key)
                            found[path].append((column, row))
    return found


def find_orphans(
    app: Flask,
    *,
    older_than: timedelta | None = None,
    non_canonical: list[StoredFile] | None = None,
) -> Iterator[StoredFile]:
    """Stored files that no FlaskStoreType column references.

    Files modified within ``older_than`` are spared: they may belong to a
    transaction still in progress. Walks the whole store with the provider's
    ``iter_files`` and checks it in batches, for every provider.

    A file whose path is not canonical (see
    :func:`flask_store.names.is_canonical`: an S3 key with an empty or ``.``
    part, a name in NFD) is never called an orphan: Flask-Store would address
    it under another spelling, maybe a file a row uses. Such files are
    appended to ``non_canonical`` when it is given, for people to look at.

    :raises RuntimeError: when the app has no session (see
        :func:`get_session`) or no FlaskStoreType column is mapped: without
        them every file would look orphaned.
    """
    session = get_session(app)
    if session is None:
        raise RuntimeError(
            "Flask-Store has no SQLAlchemy session for this app: use "
            "Flask-SQLAlchemy or call flask_store.sqla.init_session(session, app)."
        )
    columns = _bound_columns(session, app)
    if not columns:
        raise RuntimeError(
            "No FlaskStoreType column is mapped to a table in this app's database "
            "(are the models imported and the tables created?); refusing to call "
            "every stored file an orphan."
        )
    cutoff = datetime.now(timezone.utc) - older_than if older_than is not None else None
    execute = _session_executor(session)
    files = store_state(app).backend.iter_files("")
    with session.no_autoflush:
        for batch in _batches(files):
            canonical = []
            for stored in batch:
                if names.is_canonical(stored.path):
                    canonical.append(stored)
                elif non_canonical is not None:
                    non_canonical.append(stored)
            used = _referenced(columns, {f.path for f in canonical}, execute)
            for stored in canonical:
                if stored.path in used or not _old_enough(stored, cutoff):
                    continue
                yield stored


def _old_enough(stored: StoredFile, cutoff: datetime | None) -> bool:
    if cutoff is None:
        return True
    modified = stored.modified
    if modified is None:  # unknown age: spare it
        return False
    if modified.tzinfo is None:
        modified = modified.replace(tzinfo=timezone.utc)
    return modified <= cutoff


def delete_unused(app: Flask, paths: list[str]) -> Iterator[tuple[str, str]]:
    """Delete each of ``paths`` that no row uses, yielding ``(path, outcome)``.

    The outcome is ``"deleted"``, ``"used"`` (a row uses it now: kept),
    ``"missing"`` or ``"non-canonical"`` (not a canonical stored path: kept,
    since deleting it would delete the file under another spelling).
    References are checked, under every spelling, right before deleting, and
    the file deleted is exactly the one checked, so a row that started to use
    a file while a list of orphans was read keeps its file.
    """
    session = get_session(app)
    canonical = [path for path in paths if names.is_canonical(path)]
    if session is not None and canonical:
        columns = _bound_columns(session, app)
        with session.no_autoflush:
            used = _referenced(columns, set(canonical), _session_executor(session))
    else:
        used = set()
    provider_class = store_state(app).provider
    for path in paths:
        if path in used:
            yield path, "used"
            continue
        provider = provider_class(path, app=app) if path in canonical else None
        if provider is None or provider.relative_path != path:
            yield path, "non-canonical"
            continue
        try:
            provider.delete()
        except FileNotFoundError:  # StoredFileNotFound, or a custom provider's
            yield path, "missing"
        else:
            yield path, "deleted"


def delete_orphans(
    app: Flask, *, older_than: timedelta | None = None
) -> list[StoredFile]:
    """Delete the files :func:`find_orphans` finds; return the ones deleted."""
    orphans = list(find_orphans(app, older_than=older_than))
    outcomes = dict(delete_unused(app, [stored.path for stored in orphans]))
    return [stored for stored in orphans if outcomes[stored.path] == "deleted"]
