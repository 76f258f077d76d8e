"""What the admin blueprint does, apart from HTTP: access, listing pages and
their cursors, breadcrumbs, redirect targets, uploads, and the SQLAlchemy rows
that use files.

Everything here can be called, and tested, without a request.
"""

from __future__ import annotations

import errno
import inspect
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import current_app, request
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from werkzeug.exceptions import BadRequest, Forbidden, NotFound
from werkzeug.exceptions import NotImplemented as HTTPNotImplemented

from . import names
from .exceptions import InsufficientStorage
from .providers.base import FolderPage, Provider, StoredFile, store_state

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy.orm import Session
    from werkzeug.datastructures import FileStorage, MultiDict

    from .sqla import FileColumn

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


class AdminAccessDenied(Forbidden):
    """The admin is closed to this request (``STORE_ADMIN_ACCESS``)."""

    description = (
        "Access to the file admin is refused. Set STORE_ADMIN_ACCESS in the "
        "app's config to a function that returns True for the users who may "
        "manage files."
    )


def admin_allowed(setting: Any, *, app: Flask | None = None) -> bool:
    """Whether ``STORE_ADMIN_ACCESS`` lets the current request in.

    ``True`` opens the admin to everyone; a callable (``async def`` too, run
    with the app's ``ensure_sync``) decides per request and lets it in only
    by returning exactly ``True``. Anything else, ``None`` (the default), a
    truthy string such as ``"false"`` or an un-awaited coroutine, refuses.
    """
    return access_decision(setting, app=app) is True


def access_decision(setting: Any, *, app: Flask | None = None) -> Any:
    """What ``STORE_ADMIN_ACCESS`` says for this request (``True`` lets it in)."""
    if not callable(setting):
        return setting
    if inspect.iscoroutinefunction(setting):
        owner: Flask = app if app is not None else current_app
        return owner.ensure_sync(setting)()
    result = setting()
    if inspect.isawaitable(result):
        # A callable returning a coroutine it never awaited: a coroutine is
        # truthy, so it must not open the admin; close it to free it quietly.
        close = getattr(result, "close", None)
        if close is not None:
            close()
        return f"an un-awaited {type(result).__name__}"
    return result


def check_access(app: Flask) -> None:
    """Raise :class:`AdminAccessDenied` unless ``STORE_ADMIN_ACCESS`` allows.

    Each refusal is logged as a warning with what the setting gave.
    """
    setting = app.config.get("STORE_ADMIN_ACCESS")
    decision = access_decision(setting, app=app)
    if decision is not True:
        app.logger.warning(
            "Flask-Store admin refused %s %s: STORE_ADMIN_ACCESS %s %r, not True.",
            request.method,
            request.path,
            "returned" if callable(setting) else "is",
            decision,
        )
        raise AdminAccessDenied()


def csrf_enabled(app: Flask) -> bool:
    """Whether the admin checks CSRF tokens (``STORE_ADMIN_CSRF``, default on).

    Independent of Flask-WTF's ``WTF_CSRF_ENABLED``, which an app may turn off
    for its own forms; only ``STORE_ADMIN_CSRF = False`` turns it off (tests).
    """
    return app.config.get("STORE_ADMIN_CSRF", True) is not False


# -- listing ----------------------------------------------------------------


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
            raise BadRequest(
                f"per_page must be a whole number from 1 to {MAX_PAGE_SIZE}, "
                f"not {raw_size!r}."
            )
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


def is_number(text: str) -> bool:
    """Whether ``text`` is a whole number in ASCII digits, at most 9 of them.

    ``str.isdigit`` is true for other scripts' digits and for superscripts,
    some of which ``int`` refuses: a query argument takes ``0-9`` only.
    """
    return text.isascii() and text.isdigit() and len(text) <= 9


def trim_back(back: Sequence[str], limit: int = MAX_BACK_CHARS) -> tuple[str, ...]:
    """Drop the oldest cursors until they fit in ``limit`` characters."""
    kept = list(back)
    while kept and sum(len(c) + 6 for c in kept) > limit:
        kept.pop(0)
    return tuple(kept)


def browse(provider: type[Provider], query: BrowseQuery, *, app: Flask) -> Browse:
    """List one page of ``query.folder`` and work out the page links."""
    try:
        page = provider.list_folder(
            query.folder,
            after=query.after,
            limit=query.per_page,
            contains=query.contains or None,
            app=app,
        )
    except NotImplementedError:
        raise HTTPNotImplemented(
            f"{provider.__name__} cannot list folders: the admin needs a provider "
            "that defines list_folder."
        ) from None
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


# -- changes ----------------------------------------------------------------


def save_uploads(
    provider: type[Provider],
    uploads: Sequence[FileStorage],
    location: str = "",
    *,
    app: Flask,
) -> list[Provider]:
    """Save validated uploads into ``location``; return their providers.

    All or nothing: when one save fails, the files this call already saved
    are deleted again. A full disk becomes :class:`InsufficientStorage` (507).
    """
    saved: list[Provider] = []
    try:
        for upload in uploads:
            saved.append(provider(upload, location=location, app=app).save())
    except BaseException as exc:
        for done in saved:
            try:
                done.delete()
            except Exception:
                app.logger.exception("Flask-Store could not delete %r.", done)
        raise_no_room(exc)
        raise
    return saved


def raise_no_room(exc: BaseException) -> None:
    """Raise :class:`InsufficientStorage` (507) when ``exc`` means a full backend."""
    if isinstance(exc, OSError) and exc.errno in _NO_ROOM:
        raise InsufficientStorage() from exc


#: ``errno`` values that mean the backend has no room left.
_NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def stream_size(upload: FileStorage) -> int | None:
    """The size of an upload's stream, without reading it."""
    stream = upload.stream
    if not stream.seekable():
        return None
    position = stream.tell()
    size = stream.seek(0, os.SEEK_END)
    stream.seek(position)
    return size


def uploaded_json(
    saved: Sequence[Provider], uploads: Sequence[FileStorage]
) -> dict[str, Any]:
    """The JSON body describing saved files.

    Sizes come from the uploads, not the backend: a background provider may
    still be sending the file when this answer goes out.
    """
    return {
        "files": [
            {
                "name": p.filename,
                "path": p.relative_path,
                "url": p.absolute_url,
                "size": stream_size(upload),
            }
            for p, upload in zip(saved, uploads, strict=True)
        ]
    }


def join_folder(location: str, name: str) -> str:
    """The folder ``name`` inside ``location``, validated."""
    return names.clean_location(names.join_key(location, name))


def stored_provider(provider: type[Provider], path: str, *, app: Flask) -> Provider:
    """A provider for a stored path a client sent; :class:`NotFound` when bad.

    Hidden names (a part starting with a dot) are never offered: they are the
    store's own temporary files.
    """
    try:
        canonical = names.canonical_path(path)
    except (TypeError, ValueError):
        raise NotFound(f"{path} is not a stored file.") from None
    if names.is_hidden(canonical):
        raise NotFound(f"{path} is not a stored file.")
    return provider(canonical, app=app)


def safe_next(target: str | None, host: str) -> str | None:
    """``target`` when it is a URL on this site (``host``), else ``None``.

    Only paths and URLs on the same host pass, so a crafted ``next`` cannot
    send a user to another site.
    """
    if not target:
        return None
    if any(c in target for c in "\\\r\n\t") or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        if parts.scheme not in ("http", "https") or parts.netloc != host:
            return None
        return target
    if not target.startswith("/") or target.startswith("//"):
        return None
    return target


# -- SQLAlchemy models --------------------------------------------------------


def file_columns(app: Flask) -> list[FileColumn]:
    """Every ``FlaskStoreType`` column in ``app``'s database.

    :mod:`flask_store.sqla` is imported here, not at the top, so the admin
    costs nothing in apps without SQLAlchemy models.
    """
    from . import sqla

    return sqla.file_columns(app=app)


def file_usage(
    app: Flask, paths: Sequence[str]
) -> Mapping[str, Sequence[tuple[FileColumn, object]]]:
    """Which rows use each of ``paths``: path to ``[(FileColumn, row), ...]``."""
    from . import sqla

    if not paths or not file_columns(app):
        return {}
    session = sqla.get_session(app)
    if session is None:
        return {}
    return sqla.rows_using(session, paths)


def row_key(row: object) -> str:
    """A row's primary key as text (``3``, or ``3, en`` for composite keys)."""
    identity = sa_inspect(row).identity
    if identity is None:
        return "new"
    return ", ".join(str(value) for value in identity)


def row_anchor(row: object) -> str:
    """The HTML id of a row on the models page."""
    key = "-".join(str(value) for value in sa_inspect(row).identity or ("new",))
    return f"{type(row).__name__}-{key}"


def row_label(row: object) -> str:
    """How a row is named in the admin: ``Document #3``."""
    return f"{type(row).__name__} #{row_key(row)}"


def usage_labels(usage: Sequence[tuple[FileColumn, object]]) -> list[str]:
    """The rows using a file, named for people: ``["Document #3.file", ...]``.

    What the admin's confirmations and ``flask store rm`` name before a file
    that rows use is deleted.
    """
    return [f"{row_label(row)}.{column.attribute}" for column, row in usage]


def parse_used_by(raw: str | None) -> set[str]:
    """The row labels a delete confirmation named (a JSON list; bad means none)."""
    try:
        labels = json.loads(raw or "[]")
    except ValueError:
        return set()
    if not isinstance(labels, list):
        return set()
    return {label for label in labels if isinstance(label, str)}


def confirm_message(name: str, labels: Sequence[str]) -> str:
    """The question asked before deleting ``name``, naming the rows using it."""
    message = f"Delete {name}? This cannot be undone."
    if labels:
        message += (
            f" It is used by {len(labels)} row{'' if len(labels) == 1 else 's'}: "
            + ", ".join(labels)
            + "; they will point at a missing file."
        )
    return message


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
        return FileValue(repr(raw), problem="not a text value")
    try:
        canonical = names.canonical_path(raw)
    except (TypeError, ValueError) as exc:
        return FileValue(raw, problem=f"invalid: {exc}")
    if names.is_hidden(canonical):
        return FileValue(raw, problem="invalid: a hidden path is never served")
    found = provider.from_stored_path(canonical, app=app)
    if canonical != raw:
        return FileValue(
            raw, found, f"needs attention: not the canonical spelling {canonical!r}"
        )
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
    from . import sqla

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
    if not is_number(raw) or int(raw) < 1:
        raise BadRequest(f"page must be a whole number from 1, not {raw!r}.")
    return int(raw)


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
    from . import sqla

    wanted = parse_page(page)
    by_model: dict[type[Any], list[FileColumn]] = {}
    for column in file_columns(app):
        by_model.setdefault(column.model, []).append(column)
    if model is not None and model not in {m.__name__ for m in by_model}:
        raise NotFound(f"No model named {model} has file columns.")
    session = sqla.get_session(app) if by_model else None
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
