"""The browse page apart from HTTP: its query, one page of a folder and the
links to the pages around it, breadcrumbs and previews.

Everything here can be called, and tested, without a request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import NotImplemented as HTTPNotImplemented

from .. import names
from ..backends.base import FolderPage, StoredFile
from ..providers.base import Provider
from . import messages

if TYPE_CHECKING:
    from flask import Flask
    from werkzeug.datastructures import MultiDict

    from ..sqla import FileColumn

#: Page sizes offered on the browse page; the first one is the default.
PAGE_SIZES = (50, 25, 100, 200, 500)

#: The largest page size a client may ask for.
MAX_PAGE_SIZE = 1000

#: Previous-page cursors are carried in the URL; beyond this many characters
#: the oldest are dropped (the "first page" link still works).
MAX_BACK_CHARS = 2000

#: Image types the browser can preview in an ``<img>`` without running code.
PREVIEW_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp"}
)


def is_number(text: str) -> bool:
    """Whether ``text`` is a whole number in ASCII digits, at most 9 of them.

    ``str.isdigit`` is true for other scripts' digits and for superscripts,
    some of which ``int`` refuses: a query argument takes ``0-9`` only.
    """
    return text.isascii() and text.isdigit() and len(text) <= 9


@dataclass(frozen=True)
class BrowseQuery:
    """What the browse page was asked to show.

    ``after`` is the listing cursor of this page (``None`` on the first page)
    and ``back`` the cursors of the pages before it, oldest first (``""``
    stands for the first page).
    """

    folder: str = ""
    after: str | None = None
    back: tuple[str, ...] = ()
    per_page: int = PAGE_SIZES[0]
    contains: str = ""

    @classmethod
    def from_args(cls, args: MultiDict[str, str]) -> BrowseQuery:
        """Parse query arguments; :class:`BadRequest` with a message when bad."""
        try:
            folder = names.clean_location(args.get("folder", ""))
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        raw_size = args.get("per_page", "") or str(PAGE_SIZES[0])
        if not is_number(raw_size) or not 1 <= int(raw_size) <= MAX_PAGE_SIZE:
            raise BadRequest(messages.wrong_page_size(raw_size, MAX_PAGE_SIZE))
        return cls(
            folder=folder,
            after=args.get("after") or None,
            back=tuple(args.getlist("back")),
            per_page=int(raw_size),
            contains=args.get("q", "").strip(),
        )

    def args(self, **changes: Any) -> dict[str, Any]:
        """URL arguments for this query with ``changes``, defaults left out."""
        values = {
            "folder": self.folder,
            "after": self.after,
            "back": list(self.back),
            "per_page": self.per_page,
            "q": self.contains,
        }
        values.update(changes)
        if values["per_page"] == PAGE_SIZES[0]:
            values["per_page"] = None
        return {k: v for k, v in values.items() if v not in (None, "", [])}


@dataclass
class Browse:
    """One page of the browse view, ready to render."""

    query: BrowseQuery
    page: FolderPage
    #: URL arguments of the next and previous pages (``None`` when there is none).
    next_args: dict[str, Any] | None = None
    prev_args: dict[str, Any] | None = None
    #: URL arguments of the first page, when the previous page is not it.
    first_args: dict[str, Any] | None = None
    #: Rows that use each file: path to ``[(FileColumn, row), ...]``.
    usage: Mapping[str, Sequence[tuple[FileColumn, object]]] = field(
        default_factory=dict
    )


def trim_back(back: Sequence[str], limit: int = MAX_BACK_CHARS) -> tuple[str, ...]:
    """Drop the oldest cursors until they fit in ``limit`` characters."""
    kept = list(back)
    while kept and sum(len(c) + 6 for c in kept) > limit:
        kept.pop(0)
    return tuple(kept)


def browse(provider: type[Provider], query: BrowseQuery, *, app: Flask) -> Browse:
    """List one page of ``query.folder`` and work out the page links."""
    try:
        page = provider.backend_of(app).list_folder(
            query.folder,
            after=query.after,
            limit=query.per_page,
            contains=query.contains or None,
        )
    except NotImplementedError:
        raise HTTPNotImplemented(messages.cannot_list(provider.__name__)) from None
    result = Browse(query, page)
    if page.next_after is not None:
        back = trim_back([*query.back, query.after or ""])
        result.next_args = query.args(after=page.next_after, back=list(back))
    if query.after is not None:
        if query.back:
            result.prev_args = query.args(
                after=query.back[-1] or None, back=list(query.back[:-1])
            )
        if query.back != ("",):
            # The previous page is not the first one (or is unknown, when old
            # cursors were dropped): offer a way back to the start.
            result.first_args = query.args(after=None, back=[])
    return result


def breadcrumbs(folder: str) -> list[tuple[str, str]]:
    """``[(label, folder), ...]`` from the root down to ``folder``."""
    crumbs = [("Files", "")]
    parts = folder.split("/") if folder else []
    for index, part in enumerate(parts):
        crumbs.append((part, "/".join(parts[: index + 1])))
    return crumbs


def parent_folder(path: str) -> str:
    """The folder a stored path is in."""
    return path.rpartition("/")[0]


def is_previewable(entry: StoredFile | Provider) -> bool:
    """Whether a thumbnail can be shown for this file."""
    return entry.content_type in PREVIEW_TYPES
