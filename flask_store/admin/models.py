"""The SQLAlchemy rows that use files: the models page and the usage the
browse page, delete confirmations and ``flask store rm`` name.

SQLAlchemy is optional: :mod:`flask_store.sqla` and SQLAlchemy itself are
imported inside the functions that need them, so the admin and the command
line cost nothing in apps without SQLAlchemy models.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import BadRequest, NotFound

from .. import names, spelling
from ..humanize import whole_number
from ..providers.base import Provider
from ..state import store_state
from . import messages

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy.orm import Session

    from ..sqla import FileColumn


def file_columns(app: Flask) -> list[FileColumn]:
    """Every ``FlaskStoreType`` column in ``app``'s database."""
    from .. import sqla

    return sqla.file_columns(app=app)


def file_usage(
    app: Flask, paths: Sequence[str]
) -> Mapping[str, Sequence[tuple[FileColumn, object]]]:
    """Which rows use each of ``paths``: path to ``[(FileColumn, row), ...]``."""
    if not paths or not file_columns(app):
        return {}
    from .. import sqla

    session = sqla.get_session(app)
    if session is None:
        return {}
    return sqla.rows_using(session, paths)


def _identity(row: object) -> tuple[Any, ...]:
    """A loaded row's primary key values (``("new",)`` before a flush)."""
    from sqlalchemy import inspect as sa_inspect

    identity = sa_inspect(row).identity
    return ("new",) if identity is None else tuple(identity)


def row_key(row: object) -> str:
    """A row's primary key as text (``3``, or ``3, en`` for composite keys)."""
    return ", ".join(str(value) for value in _identity(row))


def row_anchor(row: object) -> str:
    """The HTML id of a row on the models page."""
    key = "-".join(str(value) for value in _identity(row))
    return f"{type(row).__name__}-{key}"


#: Longest row label shown; a longer ``str()`` is cut with an ellipsis.
MAX_LABEL = 80


def row_label(row: object) -> str:
    """How a row is named in the admin: its ``str()``, when its model defines
    ``__str__``, else ``Document #3``.

    A ``__str__`` that fails or gives nothing falls back to the model and key.
    """
    fallback = f"{type(row).__name__} #{row_key(row)}"
    if type(row).__str__ is object.__str__:
        return fallback
    try:
        label = " ".join(str(row).split())
    except Exception:
        return fallback
    if not label:
        return fallback
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def usage_labels(usage: Sequence[tuple[FileColumn, object]]) -> list[str]:
    """The rows using a file, named for people: ``["Document #3.file", ...]``.

    What the admin's confirmations and ``flask store rm`` name before a file
    that rows use is deleted.
    """
    return [f"{row_label(row)}.{column.attribute}" for column, row in usage]


@dataclass(frozen=True)
class FileValue:
    """What a file column of a row holds, as the models page shows it.

    ``provider`` is ``None`` for NULL and for a value that is not a stored
    path (``problem`` says why); a value that is a path in another spelling
    than the canonical one has a provider and a ``problem`` too.
    """

    raw: str | None
    provider: Provider | None = None
    problem: str | None = None


def file_value(provider: type[Provider], raw: Any, *, app: Flask) -> FileValue:
    """Check a value read from a file column, without trusting it."""
    if raw is None:
        return FileValue(None)
    if not isinstance(raw, str):
        return FileValue(repr(raw), problem=messages.NOT_TEXT_VALUE)
    try:
        canonical = spelling.canonical_path(raw)
    except (TypeError, ValueError) as exc:
        return FileValue(raw, problem=messages.invalid_value(exc))
    if names.is_hidden(canonical):
        return FileValue(raw, problem=messages.HIDDEN_VALUE)
    found = provider.from_stored_path(canonical, app=app)
    if canonical != raw:
        return FileValue(raw, found, messages.not_canonical_value(canonical))
    return FileValue(raw, found)


@dataclass
class ModelRows:
    """One model with file columns, and one page of its rows."""

    model: type[Any]
    columns: list[FileColumn]
    rows: list[object]
    page: int
    has_next: bool
    #: Per row (by ``id``), its file columns' values, checked.
    values: dict[int, list[FileValue]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.model.__name__

    def files(self, row: object) -> list[tuple[FileColumn, FileValue]]:
        """``(column, value)`` for each file column of ``row``."""
        return list(zip(self.columns, self.values[id(row)], strict=True))


def model_rows(
    session: Session,
    model: type[Any],
    columns: list[FileColumn],
    *,
    page: int,
    per_page: int,
    app: Flask,
) -> ModelRows:
    """One page of ``model``'s rows in primary key order.

    The file columns are read as plain text and checked one by one, so a bad
    value another tool wrote shows as invalid instead of breaking the page.
    """
    from sqlalchemy import inspect as sa_inspect
    from sqlalchemy import select

    from .. import sqla

    provider = store_state(app).provider
    order = sa_inspect(model).primary_key
    raws = [sqla.raw_column(column) for column in columns]
    statement = (
        select(model, *raws)
        .options(*sqla.file_defers(model))
        .order_by(*order)
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    )
    found = list(session.execute(statement))[: per_page + 1]
    result = ModelRows(
        model,
        columns,
        [record[0] for record in found[:per_page]],
        page,
        len(found) > per_page,
    )
    for record in found[:per_page]:
        result.values[id(record[0])] = [
            file_value(provider, raw, app=app) for raw in record[1:]
        ]
    return result


def parse_page(raw: str | None) -> int:
    """A 1-based page number from a query argument; :class:`BadRequest` if bad."""
    if raw is None or raw == "":
        return 1
    page = whole_number(raw)
    if page is None or page < 1:
        raise BadRequest(messages.wrong_page(raw))
    return page


def model_listing(
    app: Flask,
    *,
    model: str | None = None,
    page: str | None = None,
    per_page: int = 25,
) -> list[ModelRows]:
    """Every model with file columns and a page of its rows.

    ``model`` names the model ``page`` applies to; the others show page 1.
    """
    wanted = parse_page(page)
    by_model: dict[type[Any], list[FileColumn]] = {}
    for column in file_columns(app):
        by_model.setdefault(column.model, []).append(column)
    if model is not None and model not in {m.__name__ for m in by_model}:
        raise NotFound(messages.no_model(model))
    if not by_model:
        return []
    from .. import sqla

    session = sqla.get_session(app)
    if session is None:
        return []
    return [
        model_rows(
            session,
            cls,
            cols,
            page=wanted if cls.__name__ == model else 1,
            per_page=per_page,
            app=app,
        )
        for cls, cols in sorted(by_model.items(), key=lambda item: item[0].__name__)
    ]
