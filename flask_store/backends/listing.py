"""Folder listings: the records a listing hands out, the query for one page
and the orders it can be sorted in.

Pure functions and records, no I/O: every backend builds its pages with
:func:`select_page` (or its own faster path for the default name order) and
shares one reading of cursors.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..content import guess_type


@dataclass(frozen=True)
class StoredFile:
    """A file or folder in a listing."""

    #: Path relative to ``STORE_PATH`` (for a folder, without a trailing slash).
    path: str
    is_folder: bool = False
    size: int | None = None
    modified: datetime | None = None

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]

    @property
    def content_type(self) -> str:
        return guess_type(self.name)


@dataclass
class FolderPage:
    """One page of a folder listing, in the order its query asked for.

    ``next_after`` is the cursor to pass as ``after`` for the next page, or
    ``None`` on the last page. ``sort`` is the order the page is really in:
    a backend that cannot sort a folder that way (an S3 folder past the
    query's ``scan_limit``) gives the first page by name instead.
    ``missing`` is true when the folder does not exist (an empty folder that
    exists is not missing).
    """

    entries: list[StoredFile] = field(default_factory=list)
    next_after: str | None = None
    sort: str = "name"
    missing: bool = False

    @property
    def folders(self) -> list[StoredFile]:
        return [e for e in self.entries if e.is_folder]

    @property
    def files(self) -> list[StoredFile]:
        return [e for e in self.entries if not e.is_folder]


def matches(name: str, contains: str | None) -> bool:
    """Whether ``name`` passes a case-insensitive ``contains`` filter."""
    return not contains or contains.casefold() in name.casefold()


#: The orders a listing can be sorted in; a leading ``-`` means descending.
SORT_KEYS = ("name", "size", "modified")


def parse_sort(sort: str) -> tuple[str, bool]:
    """``(key, descending)`` of a sort such as ``"-size"``; ValueError if bad."""
    key = sort.removeprefix("-")
    if key not in SORT_KEYS:
        raise ValueError(
            f"sort must be one of {', '.join(SORT_KEYS)}, with a leading - "
            f"for descending, not {sort!r}."
        )
    return key, sort.startswith("-")


@dataclass(frozen=True)
class PageQuery:
    """Which page of a folder :meth:`Backend.list_page` should give."""

    #: The ``next_after`` of the previous page, or ``None`` for the first.
    after: str | None = None
    limit: int = 100
    #: Only names containing this (case-insensitive), when set.
    contains: str | None = None
    #: ``name``, ``size`` or ``modified``, ``-`` first for descending.
    sort: str = "name"
    #: The most entries a backend that can list only by name (S3) reads to
    #: sort a folder otherwise; ``None`` for no bound.
    scan_limit: int | None = None

    def __post_init__(self) -> None:
        if self.after is not None:
            cursor_position(self.after, self.sort)  # refuse a malformed one now
        else:
            parse_sort(self.sort)

    @property
    def by_name(self) -> bool:
        """Whether the query asks for ascending name order."""
        return self.sort == "name"


class _Reversed:
    """Wraps a value so that it sorts in reverse (descending orders)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Reversed) -> bool:
        return bool(other.value < self.value)

    def __gt__(self, other: _Reversed) -> bool:
        return bool(other.value > self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.value == other.value

    __hash__ = None  # type: ignore[assignment]


def _value(entry: StoredFile, key: str) -> int:
    if key == "size":
        return entry.size or 0
    modified = entry.modified
    return round(modified.timestamp() * 1_000_000) if modified else 0


def position(entry: StoredFile, sort: str) -> tuple[Any, ...]:
    """Where ``entry`` goes in a listing sorted by ``sort``.

    By name, folders and files mix; by size or time, folders come first (by
    name), then files, ties broken by name.
    """
    key, descending = parse_sort(sort)
    if key == "name":
        return (_Reversed(entry.name),) if descending else (entry.name,)
    group, value = (0, 0) if entry.is_folder else (1, _value(entry, key))
    rest = (value, entry.name)
    return (group, _Reversed(rest)) if descending else (group, *rest)


def cursor(entry: StoredFile, sort: str) -> str:
    """The ``after`` cursor of a page ending with ``entry``."""
    key, _ = parse_sort(sort)
    if key == "name":
        return entry.name
    group, value = (0, 0) if entry.is_folder else (1, _value(entry, key))
    return f"{group}:{value}:{entry.name}"


def cursor_position(after: str, sort: str) -> tuple[Any, ...]:
    """The :func:`position` a cursor stands for; ValueError when malformed."""
    key, descending = parse_sort(sort)
    if key == "name":
        return (_Reversed(after),) if descending else (after,)
    group, _, rest = after.partition(":")
    value, colon, name = rest.partition(":")
    if (
        group not in ("0", "1")
        or not colon
        or not (value.isascii() and value.isdigit())
    ):
        raise ValueError(f"{after!r} is not a listing cursor for sort={sort}.")
    sort_value = (int(value), name)
    if descending:
        return (int(group), _Reversed(sort_value))
    return (int(group), *sort_value)


def select_page(entries: Iterable[StoredFile], query: PageQuery) -> FolderPage:
    """The page ``query`` asks for of ``entries``, already filtered by name.

    Keeps only the ``limit + 1`` first in order (a heap, not a full sort), so
    memory stays bounded by the page, not the folder.
    """
    sort = query.sort
    candidates: Iterable[StoredFile] = entries
    if query.after is not None:
        start = cursor_position(query.after, sort)
        candidates = (e for e in entries if position(e, sort) > start)
    found = heapq.nsmallest(
        query.limit + 1, candidates, key=lambda e: position(e, sort)
    )
    more = len(found) > query.limit
    last = found[query.limit - 1] if more else None
    return FolderPage(
        found[: query.limit], cursor(last, sort) if last else None, sort=sort
    )


def page_of(entries: dict[str, StoredFile], query: PageQuery) -> FolderPage:
    """The page ``query`` asks for of ``entries`` (name to entry)."""
    return select_page(entries.values(), query)
