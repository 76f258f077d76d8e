"""Listing a folder on disk from its descriptor: the reads local listings need.

Names are read with ``listdir``/``scandir`` on an open folder descriptor and
stat'ed without following symlinks; a symlink or a special file is never
listed.
"""

from __future__ import annotations

import heapq
import os
import stat
from collections.abc import Iterator
from datetime import datetime, timezone

from .. import names
from .listing import (
    FolderPage,
    PageQuery,
    SortRow,
    StoredFile,
    first_rows,
    matches,
    micros,
    page_from,
    parse_sort,
)


def entry(path: str, st: os.stat_result, is_folder: bool = False) -> StoredFile:
    """The listing record of a stat'ed file or folder."""
    return StoredFile(
        path=path,
        is_folder=is_folder,
        size=None if is_folder else st.st_size,
        modified=datetime.fromtimestamp(st.st_mtime, tz=timezone.utc),
        version=None
        if is_folder
        else f"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}",
    )


def page(folder: int, location: str, query: PageQuery) -> FolderPage:
    # Bare names and a heap, not scandir entries and a full sort: the first
    # page of a folder of 100,000 files stays a fraction of a second. Only
    # the names on the page are stat'ed.
    descending = query.sort.startswith("-")
    after = query.after
    candidates = [
        name
        for name in os.listdir(folder)
        if not names.is_hidden_name(name)
        and (after is None or (name < after if descending else name > after))
        and matches(name, query.contains)
    ]
    if descending:
        candidates.sort(reverse=True)
        ordered: Iterator[str] = iter(candidates)
    else:
        heapq.heapify(candidates)
        ordered = (heapq.heappop(candidates) for _ in range(len(candidates)))
    page = FolderPage(sort=query.sort)
    for name in ordered:
        if len(page.entries) == query.limit:
            page.next_after = page.entries[-1].name
            break
        found = statentry(folder, location, name)
        if found is not None:
            page.entries.append(found)
    return page


def statentry(folder: int, location: str, name: str) -> StoredFile | None:
    """The listing entry of ``name`` in ``folder``; ``None`` for a symlink,
    a special file or a file deleted meanwhile."""
    try:
        st = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:  # deleted while listing
        return None
    is_folder = stat.S_ISDIR(st.st_mode)
    if not (is_folder or stat.S_ISREG(st.st_mode)):
        return None
    return entry(names.join_key(location, name), st, is_folder)


def sorted_page(folder: int, location: str, query: PageQuery) -> FolderPage:
    """A page of ``folder`` sorted by size or time: every entry is stat'ed.

    The sort works on bare ``(group, value, name, stat)`` rows; only the
    page's entries become :class:`StoredFile` records.
    """
    key, _ = parse_sort(query.sort)
    by_size = key == "size"
    rows: list[SortRow] = []
    with os.scandir(folder) as items:
        for item in items:
            name = item.name
            if names.is_hidden_name(name) or not matches(name, query.contains):
                continue
            try:
                st = item.stat(follow_symlinks=False)
            except FileNotFoundError:  # deleted while listing
                continue
            if stat.S_ISDIR(st.st_mode):
                rows.append((0, 0, name, st))
            elif stat.S_ISREG(st.st_mode):
                value = st.st_size if by_size else micros(_time(st))
                rows.append((1, value, name, st))
    return page_from(
        first_rows(rows, query),
        query,
        lambda row: entry(names.join_key(location, row[2]), row[3], row[0] == 0),
    )


def _time(st: os.stat_result) -> datetime:
    return datetime.fromtimestamp(st.st_mtime, tz=timezone.utc)
