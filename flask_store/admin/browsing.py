"""The browse page apart from HTTP: its query, one page of a folder and the
links to the pages around it, breadcrumbs and previews.

Everything here can be called, and tested, without a request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.exceptions import NotImplemented as HTTPNotImplemented

from .. import names, variants
from ..backends.base import FolderPage, StoredFile, parse_sort
from ..exceptions import StorageError
from ..humanize import whole_number
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

#: Previous-page cursors are carried in the URL; beyond this many bytes,
#: percent-encoded as in the URL, the oldest are dropped (the "first page"
#: link still works), so a URL stays far below the 4,094-byte request line
#: servers such as gunicorn accept however deep one pages.
MAX_BACK_CHARS = 2000

#: ``STORE_ADMIN_SORT_LIMIT``'s default: the most entries read from a folder
#: a backend lists only by name (S3) to sort it by size or time.
DEFAULT_SORT_LIMIT = 10_000

#: The image variant a preview shows: twice its 40-pixel box, for sharp
#: thumbnails on high-density screens.
THUMBNAIL = variants.VariantSpec(80, 80, format="webp", fit="cover")

#: Image types the browser can preview in an ``<img>`` without running code.
PREVIEW_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp"}
)


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
    #: ``name``, ``size`` or ``modified``, with a leading ``-`` for descending.
    sort: str = "name"

    @classmethod
    def from_args(cls, args: MultiDict[str, str]) -> BrowseQuery:
        """Parse query arguments; :class:`BadRequest` with a message when bad."""
        try:
            folder = names.clean_location(args.get("folder", ""))
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        raw_size = args.get("per_page", "") or str(PAGE_SIZES[0])
        per_page = whole_number(raw_size)
        if per_page is None or not 1 <= per_page <= MAX_PAGE_SIZE:
            raise BadRequest(messages.wrong_page_size(raw_size, MAX_PAGE_SIZE))
        sort = args.get("sort", "") or "name"
        try:
            parse_sort(sort)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        return cls(
            folder=folder,
            after=args.get("after") or None,
            back=tuple(args.getlist("back")),
            per_page=per_page,
            contains=args.get("q", "").strip(),
            sort=sort,
        )

    def args(self, **changes: Any) -> dict[str, Any]:
        """URL arguments for this query with ``changes``, defaults left out."""
        values = {
            "folder": self.folder,
            "after": self.after,
            "back": list(self.back),
            "per_page": self.per_page,
            "q": self.contains,
            "sort": self.sort,
        }
        values.update(changes)
        if values["per_page"] == PAGE_SIZES[0]:
            values["per_page"] = None
        if values["sort"] == "name":
            values["sort"] = None
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
    #: Said on the page when the listing is not in the order asked for.
    notice: str | None = None

    def sort_args(self, key: str) -> dict[str, Any]:
        """URL arguments of the first page sorted by the column ``key``.

        The active column's link reverses its order; another column's sorts
        ascending.
        """
        sort = "-" + key if self.query.sort == key else key
        return self.query.args(after=None, back=[], sort=sort)

    def aria_sort(self, key: str) -> str | None:
        """The ``aria-sort`` of the column ``key``'s header, or ``None``."""
        active, descending = parse_sort(self.query.sort)
        if active != key:
            return None
        return "descending" if descending else "ascending"


def _url_bytes(cursor: str) -> int:
    """What a ``back=`` argument costs in a URL, percent-encoded."""
    return len(quote(cursor, safe="")) + len("&back=")


def trim_back(back: Sequence[str], limit: int = MAX_BACK_CHARS) -> tuple[str, ...]:
    """Drop the oldest cursors until they fit in ``limit`` bytes of a URL."""
    kept = list(back)
    total = sum(_url_bytes(c) for c in kept)
    while kept and total > limit:
        total -= _url_bytes(kept.pop(0))
    return tuple(kept)


def browse(provider: type[Provider], query: BrowseQuery, *, app: Flask) -> Browse:
    """List one page of ``query.folder`` and work out the page links.

    :raises NotFound: when the folder does not exist.
    :raises BadRequest: for a cursor that is not one of the listing's.
    """
    limit = app.config.get("STORE_ADMIN_SORT_LIMIT", DEFAULT_SORT_LIMIT)
    try:
        page = provider.backend_of(app).list_folder(
            query.folder,
            after=query.after,
            limit=query.per_page,
            contains=query.contains or None,
            sort=query.sort,
            scan_limit=limit,
        )
    except NotImplementedError:
        raise HTTPNotImplemented(messages.cannot_list(provider.__name__)) from None
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    if page.missing:
        raise NotFound(messages.no_folder(query.folder))
    notice = None
    if page.sort != query.sort:
        # The backend could not sort this folder so: it gave the first page
        # by name, and the page links carry on by name.
        notice = messages.sorted_by_name(query.sort, limit)
        query = replace(query, sort="name", after=None, back=())
    result = Browse(query, page, notice=notice)
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


def thumbnail_url(entry: StoredFile | Provider, *, app: Flask) -> str | None:
    """The signed URL of a small variant (:data:`THUMBNAIL`) to preview a file.

    ``None`` when no variant can be made of it: Pillow is not installed, or
    its name is not that of an image variants are made from
    (:data:`~flask_store.variants.SOURCE_FORMATS`); the preview then shows
    the file itself when :func:`is_previewable`, else an icon.
    """
    if entry.content_type not in variants.readable_types():
        return None
    if isinstance(entry, Provider):  # a stat of the file, for its version
        variant = variants.ImageVariant(entry, THUMBNAIL)
        try:
            if variant.version == variants.NO_VERSION:
                return None  # a row's file that is gone: no preview
        except StorageError:
            return None
        return variant.url
    version = variants.content_version(entry)  # what the listing says of it
    return variants.signed_url(app, entry.path, THUMBNAIL, version)
