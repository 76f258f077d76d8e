"""The column type, :class:`FlaskStoreType`, and how its attributes become known.

The first FlaskStoreType created installs one ``mapper_configured`` listener
(never at import): each mapped class's file attributes get their assignment
check and are recorded in :mod:`flask_store.sqla.registry`, and a
Flask-SQLAlchemy model's ``db.session`` is hooked (:mod:`.tracking`).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from flask import current_app
from sqlalchemy import Unicode, event
from sqlalchemy.orm import Mapper
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator
from werkzeug.datastructures import FileStorage

from .. import names, spelling
from ..providers.base import Provider
from ..state import store_state
from .companion import listen_loads
from .context import check_length, path_or_self
from .registry import FileType, record
from .tracking import listen

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy.engine import Dialect
    from sqlalchemy.sql.type_api import _ResultProcessorType

_UPLOAD_IN_QUERY = (
    "A FileStorage is saved when it is assigned to a FlaskStoreType attribute "
    "and the row is flushed by a session Flask-Store hooks (Flask-SQLAlchemy's, "
    "or one given to flask_store.sqla.init_session), never by a query. Compare "
    "the column with a stored path (str) or a provider instead."
)

_NO_APP = (
    "Reading a FlaskStoreType column gives a provider of the current "
    "app: run the query inside 'with app.app_context():'."
)

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
    :param metadata_column: the name of a JSON column of the same model
        that keeps the file's :class:`~flask_store.metadata.FileMetadata`
        (written when an upload is saved at flush), so ``provider.metadata``
        of a loaded row needs no storage I/O; for an image also the version
        its variants' URLs carry (:mod:`flask_store.sqla.companion`).
        Optional: without it the column is the plain path column of 0.0.4.

    .. versionchanged:: 1.0
        ``metadata_column``.
    """

    impl = Unicode
    cache_ok = True

    def __init__(
        self,
        max_length: int = 256,
        location: str | None = None,
        *,
        metadata_column: str | None = None,
    ) -> None:
        super().__init__(max_length)
        self.max_length = max_length
        self.metadata_column = metadata_column
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
            path = spelling.canonical_path(value)
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
        return None if value is None else _handle(value)

    def result_processor(
        self, dialect: Dialect, coltype: Any
    ) -> _ResultProcessorType[Provider] | None:
        # The same as process_result_value, without TypeDecorator's extra call
        # per row: loading many rows costs little more than a Unicode column.
        impl_processor = self.impl_instance.result_processor(dialect, coltype)
        if impl_processor is None:

            def process(value: Any) -> Provider | None:
                if value is None:
                    return None
                # _handle, inlined: one Python call less per row.
                try:
                    make = _current_app().extensions["store"].stored_handle
                except (RuntimeError, KeyError):
                    return _handle(value)  # raises the clear error
                return make(value)  # type: ignore[no-any-return]

        else:

            def process(value: Any) -> Provider | None:
                value = impl_processor(value)
                return None if value is None else _handle(value)

        return process

    def compare_values(self, x: Any, y: Any) -> bool:
        # Tells SQLAlchemy whether an assignment changes the row: a path and a
        # provider for that path are the same value, an upload never is.
        if isinstance(x, FileStorage) or isinstance(y, FileStorage):
            return x is y
        return bool(path_or_self(x) == path_or_self(y))

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
            path = spelling.canonical_path(value)
            self._check_length(path)
            return path
        raise TypeError(
            "A FlaskStoreType attribute takes a FileStorage, a provider, a stored "
            f"path (str) or None, not {type(value).__name__}."
        )

    def _check_length(self, path: str) -> None:
        check_length(path, self.max_length)

    def _on_set(self, target: object, value: Any, oldvalue: Any, initiator: Any) -> Any:
        return self.accept(value)


#: The current app, without the proxy's attribute lookup on every row.
_current_app = current_app._get_current_object  # type: ignore[attr-defined]


def _handle(path: str) -> Provider:
    """The current app's provider for a path read from a row: no storage I/O."""
    try:
        app: Flask = _current_app()
    except RuntimeError:
        raise RuntimeError(_NO_APP) from None
    try:
        make = app.extensions["store"].stored_handle
    except KeyError:
        make = store_state(app).stored_handle  # raises the clear error
    return make(path)  # type: ignore[no-any-return]


_watch_lock = threading.Lock()


def _watch_mappers() -> None:
    """Learn about mapped FlaskStoreType attributes as mappers are configured.

    Installed when the first FlaskStoreType is created (never at import), once.
    """
    with _watch_lock:
        if not event.contains(Mapper, "mapper_configured", _on_mapper_configured):
            event.listen(Mapper, "mapper_configured", _on_mapper_configured)


def _on_mapper_configured(mapper: Mapper[Any], class_: type) -> None:
    own: list[tuple[str, FileType]] = []
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
        own.append((prop.key, column_type))
    if own:
        record(class_, tuple(own))
    pairs = tuple((k, t.metadata_column) for k, t in own if t.metadata_column)
    if pairs:
        listen_loads(class_, pairs)
    db = getattr(class_, "__fsa__", None)
    if db is not None and own:
        listen(db.session)
