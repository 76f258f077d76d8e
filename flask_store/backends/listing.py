"""Folder listings: the records a listing hands out, the query for one page
and the orders it can be sorted in.

Pure functions and records, no I/O: every backend builds its pages with
:func:`select_page` (or its own faster path for the default name order) and
shares one reading of cursors.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..content import guess_type
from ..humanize import whole_number


@dataclass(frozen=True)
class StoredFile:
    """A file or folder in a listing."""

    #: Path relative to ``STORE_PATH`` (for a folder, without a trailing slash).
    path: str
    is_folder: bool = False
    size: int | None = None
    modified: datetime | None = None
    #: Changes whenever the file's content may have: S3's ETag, on disk the
    #: inode, size and modification time; ``None`` when the backend has none.
    version: str | None = None

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


#: A listing entry as sorting sees it: ``(group, value, name, payload)``.
#: Folders are group 0 and files 1 (by name, every entry is group 0, value
#: 0); ``value`` is the size or the time in microseconds.
SortRow = tuple[int, int, str, Any]


def micros(modified: datetime | None) -> int:
    """A modification time as whole microseconds, as cursors hold it."""
    return round(modified.timestamp() * 1_000_000) if modified else 0


def sort_row(entry: StoredFile, key: str, payload: Any = None) -> SortRow:
    """The :data:`SortRow` of ``entry`` sorted by ``key``."""
    if key == "name":
        return (0, 0, entry.name, payload)
    if entry.is_folder:
        return (0, 0, entry.name, payload)
    value = (entry.size or 0) if key == "size" else micros(entry.modified)
    return (1, value, entry.name, payload)


def cursor(row: SortRow, sort: str) -> str:
    """The ``after`` cursor of a page ending with ``row``."""
    key, _ = parse_sort(sort)
    if key == "name":
        return row[2]
    return f"{row[0]}:{row[1]}:{row[2]}"


def cursor_position(after: str, sort: str) -> tuple[int, int, str]:
    """The ``(group, value, name)`` a cursor stands for; ValueError if malformed."""
    key, _ = parse_sort(sort)
    if key == "name":
        return (0, 0, after)
    group, _, rest = after.partition(":")
    raw_value, colon, name = rest.partition(":")
    value = whole_number(raw_value, digits=20)
    if group not in ("0", "1") or not colon or value is None:
        raise ValueError(f"{after!r} is not a listing cursor for sort={sort}.")
    return (int(group), value, name)


def _by_value(row: SortRow) -> tuple[int, str]:
    return (row[1], row[2])


def first_rows(rows: Iterable[SortRow], query: PageQuery) -> list[SortRow]:
    """The ``limit + 1`` first of ``rows`` in ``query``'s order, after its cursor.

    Folders (group 0) come before files in both directions; within a group,
    ``(value, name)`` ascends, or descends for a ``-`` sort. A heap per
    group, never a full sort: the work and memory beyond the scan are the
    page's.
    """
    descending = query.sort.startswith("-")
    start = cursor_position(query.after, query.sort) if query.after else None
    groups: tuple[list[SortRow], list[SortRow]] = ([], [])
    for row in rows:
        groups[row[0]].append(row)
    wanted = query.limit + 1
    found: list[SortRow] = []
    for group, members in enumerate(groups):
        if start is not None:
            if group < start[0]:
                continue
            if group == start[0]:
                mark = (start[1], start[2])
                members = [
                    r
                    for r in members
                    if ((r[1], r[2]) < mark if descending else (r[1], r[2]) > mark)
                ]
        pick = heapq.nlargest if descending else heapq.nsmallest
        found += pick(wanted - len(found), members, key=_by_value)
        if len(found) >= wanted:
            break
    return found


def select_page(entries: Iterable[StoredFile], query: PageQuery) -> FolderPage:
    """The page ``query`` asks for of ``entries``, already filtered by name."""
    key, _ = parse_sort(query.sort)
    found = first_rows((sort_row(e, key, e) for e in entries), query)
    return page_from(found, query, lambda row: row[3])


def page_from(
    found: list[SortRow], query: PageQuery, make: Callable[[SortRow], StoredFile]
) -> FolderPage:
    """The page of :func:`first_rows`' result, its entries made by ``make``."""
    more = len(found) > query.limit
    rows = found[: query.limit]
    return FolderPage(
        [make(row) for row in rows],
        cursor(rows[-1], query.sort) if more else None,
        sort=query.sort,
    )


def page_of(entries: dict[str, StoredFile], query: PageQuery) -> FolderPage:
    """The page ``query`` asks for of ``entries`` (name to entry)."""
    return select_page(entries.values(), query)
