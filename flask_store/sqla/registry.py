"""Which mapped attributes hold files: the registry of FlaskStoreType columns.

:mod:`flask_store.sqla.types` records each mapped class's file attributes
here as its mapper is configured; everything that needs to know where files
are referenced (session hooks, reference checks, the admin) reads them here.
"""

from __future__ import annotations

import weakref
from typing import Any, NamedTuple, Protocol

from sqlalchemy import inspect
from sqlalchemy.orm import Mapper, configure_mappers


class FileType(Protocol):
    """What the registry's readers use of a :class:`FlaskStoreType`."""

    location: str | None
    max_length: int
    #: The JSON column keeping the file's metadata, if the type names one.
    metadata_column: str | None


#: Per mapped class, the FlaskStoreType attributes it defines (not inherits).
_models: weakref.WeakKeyDictionary[type, tuple[tuple[str, FileType], ...]] = (
    weakref.WeakKeyDictionary()
)

#: Per mapper (inherited attributes included): the FlaskStoreType attributes.
_mapper_attributes: weakref.WeakKeyDictionary[
    Mapper[Any], tuple[tuple[str, FileType], ...]
] = weakref.WeakKeyDictionary()


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
    def type(self) -> FileType:
        column_type: FileType = inspect(self.model).columns[self.attribute].type
        return column_type


def record(model: type, attributes: tuple[tuple[str, FileType], ...]) -> None:
    """Remember the file attributes ``model`` defines (called once per mapper)."""
    _models[model] = attributes


def file_attributes(mapper: Mapper[Any]) -> tuple[tuple[str, FileType], ...]:
    """``(attribute, type)`` of every file attribute of ``mapper``'s class.

    The ones it inherits included; worked out once per mapper.
    """
    found = _mapper_attributes.get(mapper)
    if found is None:
        found = tuple(
            pair
            for ancestor in reversed(list(mapper.iterate_to_root()))
            for pair in _models.get(ancestor.class_, ())
        )
        _mapper_attributes[mapper] = found
    return found


def all_file_columns() -> list[FileColumn]:
    """Every mapped file attribute, in every declarative registry.

    Sorted by model name, then attribute. An attribute a subclass inherits is
    listed once, on the class that defines it.
    """
    configure_mappers()
    found: list[FileColumn] = []
    for model, attributes in list(_models.items()):
        if inspect(model, raiseerr=False) is None:  # disposed since
            continue
        found.extend(
            FileColumn(model, key, column_type.location)
            for key, column_type in attributes
        )
    return sorted(found, key=lambda c: (c.model.__name__, c.attribute))
