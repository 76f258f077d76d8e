"""Which rows use which stored files, under every spelling of a path.

The one reference check every deletion relies on (orphans,
``STORE_DELETE_ORPHANS``, the admin, ``flask store rm``), and the queries the
admin's pages run. Paths are looked up in batches: one query per column and
batch, never one per path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Select, Unicode, inspect, or_, select, type_coerce
from sqlalchemy.exc import UnboundExecutionError
from sqlalchemy.orm import Mapper, Session, defer

from .. import spelling
from .context import session_app
from .registry import FileColumn, all_file_columns, file_attributes

if TYPE_CHECKING:
    from flask import Flask

#: How many paths go into one ``IN (...)`` query.
BATCH_SIZE = 500

_T = TypeVar("_T")

#: Runs a ``select`` for a model's column; gives the values found.
Executor = Callable[[type, Select[Any]], Iterable[Any]]

#: ``LIKE`` patterns of values with an empty or ``.`` part (or a leading or
#: trailing slash): spellings no statement stores, that raw SQL may have.
_ODD_SPELLINGS = ("%//%", "%/./%", "./%", "/%", "%/", "%/.")


#: The ASCII characters that another character is canonically equivalent to
#: (U+212A KELVIN SIGN is ``K``, U+037E GREEK QUESTION MARK is ``;``, U+1FEF
#: GREEK VARIA is a backtick): a value may spell them otherwise.
RESPELT_ASCII = frozenset("K;`")


def equivalents_pattern(path: str) -> str | None:
    """A ``LIKE`` pattern (escaped with ``\\``) that every value canonically
    equivalent to the canonical ``path`` matches, or ``None`` when ``path``
    has one spelling only.

    A row's value is the file it opens: any value whose NFC form is
    ``path`` (marks in another order, U+212B ANGSTROM SIGN for ``Å``, a mix
    of composed and decomposed characters) uses it. Such values differ from
    ``path`` only where ``path`` has a character that is not ASCII or is one
    of :data:`RESPELT_ASCII`; the pattern keeps the other characters and
    matches anything in their place, and what it finds is mapped back with
    :func:`~flask_store.spelling.canonical_path`.
    """
    if path.isascii() and RESPELT_ASCII.isdisjoint(path):
        return None
    pattern: list[str] = []
    for char in path:
        if char.isascii() and char not in RESPELT_ASCII:
            pattern.append("\\" + char if char in "%_" else char)
        elif not pattern or pattern[-1] != "%":
            pattern.append("%")
    return "".join(pattern)


def batches(items: Iterable[_T]) -> Iterator[list[_T]]:
    """``items`` in lists of at most :data:`BATCH_SIZE`."""
    iterator = iter(items)
    while batch := list(islice(iterator, BATCH_SIZE)):
        yield batch


def raw_column(column: FileColumn) -> Any:
    """The column as a plain string: no provider per row, plain bind values."""
    return type_coerce(getattr(column.model, column.attribute), Unicode())


def bound_columns(session: Session, app: Flask | None) -> list[FileColumn]:
    """The file columns whose tables exist in the database ``session`` uses."""
    db = app.extensions.get("sqlalchemy") if app is not None else None
    found = []
    inspectors: dict[Any, Any] = {}
    for column in all_file_columns():
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


def session_executor(session: Session) -> Executor:
    """Run queries in ``session``."""
    return lambda model, statement: session.scalars(statement)


def fresh_executor(session: Session) -> Executor:
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
            spellings = spelling.spellings(spelling.canonical_path(path)) | {path}
        except (TypeError, ValueError):
            spellings = {path}
        for spelt in spellings:
            wanted.setdefault(spelt, set()).add(path)
    return wanted


def _meant(value: Any, wanted: dict[str, set[str]]) -> set[str]:
    """The given paths a value found in a column references."""
    found = set(wanted.get(value, ()))
    with suppress(TypeError, ValueError):  # not a stored path: only itself
        found.update(wanted.get(spelling.canonical_path(value), ()))
    return found


def _spelling_filter(raw: Any, batch: list[str]) -> Any:
    """Values that are one of ``batch``, spelt with empty or ``.`` parts, or
    perhaps canonically equivalent to one of ``batch``
    (:func:`equivalents_pattern`)."""
    equivalents = sorted(
        {
            pattern
            for path in batch
            if spelling.is_canonical(path)
            and (pattern := equivalents_pattern(path)) is not None
        }
    )
    return or_(
        raw.in_(batch),
        *(raw.like(pattern) for pattern in _ODD_SPELLINGS),
        *(raw.like(pattern, escape="\\") for pattern in equivalents),
    )


def referenced(
    columns: list[FileColumn], paths: set[str], execute: Executor
) -> set[str]:
    """Which of ``paths`` some column references, under any spelling.

    One query per column and batch; it is the reference check every deletion
    (orphans, ``STORE_DELETE_ORPHANS``, the admin, ``flask store rm``) uses.
    """
    wanted = _spelt(paths)
    used: set[str] = set()
    for column in columns:
        raw = raw_column(column)
        for batch in batches(sorted(wanted)):
            for value in execute(
                column.model, select(raw).where(_spelling_filter(raw, batch)).distinct()
            ):
                used |= _meant(value, wanted)
    return used


def still_used(columns: list[FileColumn], path: str, execute: Executor) -> bool:
    """Whether a column references ``path`` now, under any spelling.

    Deletions ask it for each file right before deleting it, not once for a
    batch, so a row that started using a file while the files before it
    were deleted keeps it.
    """
    return bool(referenced(columns, {path}, execute))


def file_defers(model: type) -> list[Any]:
    """Loader options leaving a model's file columns unloaded.

    Rows are loaded to be named (by primary key), never for their files: a bad
    value another tool wrote in a file column must not break the page.
    """
    mapper: Mapper[Any] = inspect(model)
    return [
        defer(getattr(model, key))
        for key, _ in file_attributes(mapper)
        if not mapper.columns[key].primary_key  # a row is named by its key
    ]


def rows_using(
    session: Session, paths: Iterable[str]
) -> dict[str, list[tuple[FileColumn, object]]]:
    """For each path, the rows whose FlaskStoreType columns reference it.

    Every path given is a key (with an empty list when unused). A row holding
    another spelling of a path (see :func:`flask_store.spelling.canonical_path`)
    counts. One query per column and batch of spellings, never one per path.
    The rows come with their file columns deferred.
    """
    found: dict[str, list[tuple[FileColumn, object]]] = {p: [] for p in paths}
    if not found:
        return found
    wanted = _spelt(found)
    seen: set[tuple[str, str, int]] = set()  # a row found by two spellings once
    with session.no_autoflush:
        for column in bound_columns(session, session_app(session)):
            raw = raw_column(column)
            for batch in batches(sorted(wanted)):
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
