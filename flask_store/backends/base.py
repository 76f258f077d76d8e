"""The storage backend base class and the records it hands out.

A backend is one app's configured storage: built once by ``init_app`` from
settings checked there, it keeps its resources (a client, a folder
descriptor) as attributes. Its methods take stored paths, already in their
canonical spelling (:func:`flask_store.spelling.canonical_path`). A file handle,
:class:`~flask_store.providers.Provider`, pairs a backend with one path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import IO, TYPE_CHECKING, Any, ClassVar, cast

from .. import names, spelling
from ..content import guess_type
from ..exceptions import UploadFailed
from ..metadata import FileMetadata, Measured
from ..settings import Setting
from . import folder_removal, variant_files
from .listing import (
    SORT_KEYS,
    FolderPage,
    PageQuery,
    StoredFile,
    matches,
    page_of,
    parse_sort,
    select_page,
)
from .maintenance import CheckResult, Leftover

if TYPE_CHECKING:
    from flask import Flask

__all__ = [
    "CHUNK_SIZE",
    "SORT_KEYS",
    "Backend",
    "CheckResult",
    "FolderPage",
    "Leftover",
    "PageQuery",
    "StoredFile",
    "first_free",
    "matches",
    "page_of",
    "parse_sort",
    "select_page",
    "targets",
]

#: Size of the chunks a stream is copied in: bounded memory for any upload.
CHUNK_SIZE = 1024 * 1024


def first_free(candidates: Sequence[str], take: Callable[[str], bool]) -> str:
    """The first of ``candidates`` that ``take`` could take for a new file.

    ``take(candidate)`` stores the file under that name (or claims it) and
    returns True, or returns False when the name is taken. Every backend's
    search for a free name is this loop.

    :raises UploadFailed: when every candidate was taken.
    """
    for candidate in candidates:
        if take(candidate):
            return candidate
    raise UploadFailed(
        f"Could not find a free name for {candidates[0]!r} after "
        f"{len(candidates)} attempts."
    )


def targets(path: str, location: str, name: str | None = None) -> Sequence[str]:
    """Where a copy or move of ``path`` into ``location`` may go, in order.

    Given a ``name``, that one path only; else the file's own name, then the
    same with unique suffixes.
    """
    location = names.clean_location(location)
    if name is not None:
        return [names.join_key(location, name)]
    return names.Candidates(location, path.rpartition("/")[2])


class Backend:
    """Base class of the storage backends: one app's configured storage.

    :param app: the app whose settings configure it; they are read here, once.

    Subclasses implement the primitives (:meth:`write`, :meth:`exists`,
    :meth:`open`, :meth:`delete_file`, :meth:`stat`) and, for listings, the
    admin and the command line, :meth:`iter_files`, :meth:`list_folder` and
    :meth:`create_folder`. Callers use :meth:`delete`, :meth:`move` and
    :meth:`delete_folder`, which take the image variants of what they
    remove with it; :meth:`prune_folders` removes empty folders.

    .. versionadded:: 1.0
    """

    #: The ``STORE_*`` settings this backend reads, checked by ``init_app``.
    settings: ClassVar[tuple[Setting, ...]] = ()

    #: The browser upload endpoints that fit this backend (``"tus"``, ``"s3"``),
    #: which ``init_app`` registers (:mod:`flask_store.direct.registration`).
    direct_uploads: ClassVar[str | None] = None

    #: Whether :meth:`write` keeps a :class:`~flask_store.metadata.Measured`
    #: stream's metadata with the file itself (local: the file's record; S3:
    #: the object's metadata), so that :meth:`record` after a save has
    #: nothing to add and is not called.
    records_on_write: ClassVar[bool] = False

    def __init__(self, app: Flask) -> None:
        self.app = app
        config = app.config
        #: Put before ``relative_url`` in absolute URLs (``STORE_DOMAIN``).
        self.domain: str | None = config.get("STORE_DOMAIN") or None
        #: The URL path files are served under (``STORE_URL_PREFIX``).
        self.url_prefix = str(config.get("STORE_URL_PREFIX") or "")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self.app.name!r}>"

    #: The file handle class of the provider that built this backend, for
    #: handing out handles (in signals); set by ``Provider.make_backend``.
    provider_class: Any = None

    def handle(self, path: str) -> Any:
        """A file handle (a provider instance) for the stored ``path``."""
        if self.provider_class is None:
            raise RuntimeError(f"{self!r} was built without a provider class.")
        return self.provider_class(path, app=self.app)

    @property
    def storage(self) -> Backend:
        """The backend that stores the files: this one, unless it wraps one."""
        return self

    def absolute_path(self, path: str) -> str:
        """Where the backend keeps ``path``: a path on disk, an object key."""
        return path

    def join(self, *parts: str) -> str:
        """Join path parts the way the backend does."""
        return names.join_key(*parts)

    # -- primitives -----------------------------------------------------

    def write(self, stream: IO[bytes], candidates: Sequence[str]) -> str:
        """Store ``stream`` under the first free path in ``candidates``.

        Must never replace an existing file and never leave a partial file
        under a final name; raises :class:`~flask_store.exceptions.UploadFailed`
        when no candidate is free. Returns the path used.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot save files.")

    def exists(self, path: str) -> bool:
        """Whether ``path`` is stored."""
        raise NotImplementedError(f"{type(self).__name__} cannot check files.")

    def open(self, path: str) -> IO[bytes]:
        """A readable binary stream, or :class:`StoredFileNotFound`."""
        raise NotImplementedError(f"{type(self).__name__} cannot read files.")

    def delete(self, path: str) -> None:
        """Delete ``path`` and its image variants, or raise :class:`StoredFileNotFound`.

        Backends implement :meth:`delete_file`; the variants go here, for
        every caller (:func:`~flask_store.backends.variant_files.forget`).
        """
        self.delete_file(path)
        variant_files.forget(self, path)

    def delete_file(self, path: str) -> None:
        """Delete the one file ``path``, or raise :class:`StoredFileNotFound`."""
        raise NotImplementedError(f"{type(self).__name__} cannot delete files.")

    def stat(self, path: str) -> StoredFile:
        """Size and modification time, or :class:`StoredFileNotFound`."""
        raise NotImplementedError(f"{type(self).__name__} cannot read sizes.")

    def content_type(self, path: str) -> str:
        """The MIME type ``path`` is served with (by default from its name)."""
        return guess_type(path)

    def record(self, path: str, metadata: FileMetadata) -> None:
        """Keep what a save of ``path`` measured (by default, nowhere).

        Called after :meth:`write`; a backend that stored the metadata with
        the file (S3, from the :class:`~flask_store.metadata.Measured`
        stream it was given) has nothing left to do.
        """

    def metadata(self, path: str) -> FileMetadata | None:
        """The metadata recorded for ``path``, or ``None`` when there is none."""
        return None

    # -- listing ----------------------------------------------------------

    def list_folder(
        self,
        location: str = "",
        *,
        after: str | None = None,
        limit: int = 100,
        contains: str | None = None,
        sort: str = "name",
        scan_limit: int | None = None,
    ) -> FolderPage:
        """One page of the folders and files directly in ``location``.

        Sorted by ``sort``: ``"name"`` (the default; S3: in key order, a
        folder as its name plus ``/``), ``"size"`` or ``"modified"``, with a
        leading ``-`` for descending. ``after`` is the ``next_after`` of the
        previous page, passed back unchanged, and ``contains`` keeps only
        names containing it (case-insensitive). A backend that lists only
        by name (S3) reads at most ``scan_limit`` entries to sort otherwise,
        and past it gives the first page by name (the page's ``sort`` says
        so). Backends implement :meth:`list_page`.

        :raises ValueError: for a bad ``sort``, ``limit`` or ``after``.

        .. versionchanged:: 1.0
            ``sort`` and ``scan_limit``.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1.")
        query = PageQuery(
            after=after,
            limit=limit,
            contains=contains or None,
            sort=sort,
            scan_limit=scan_limit,
        )
        return self.list_page(names.clean_location(location), query)

    def list_page(self, location: str, query: PageQuery) -> FolderPage:
        """The page ``query`` asks for of the cleaned folder ``location``.

        This default builds it from :meth:`iter_files`; a backend that can
        list one folder directly overrides it.
        """
        prefix = location + "/" if location else ""
        found: dict[str, StoredFile] = {}
        for stored in self.iter_files(location):
            name, slash, _ = stored.path[len(prefix) :].partition("/")
            if matches(name, query.contains) and not names.is_hidden_name(name):
                path = prefix + name
                found[name] = StoredFile(path, is_folder=True) if slash else stored
        # A folder without files cannot be told from a missing one here, so
        # ``missing`` stays false: backends that can tell override this.
        return page_of(found, query)

    def create_folder(self, location: str) -> str:
        """Create the folder ``location`` (and its parents); return it cleaned.

        Creating a folder that exists is not an error.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot create folders.")

    def iter_files(self, location: str = "") -> Iterator[StoredFile]:
        """Every stored file under ``location``, recursively."""
        raise NotImplementedError(f"{type(self).__name__} cannot list files.")

    def iter_folders(self, location: str = "") -> Iterator[str]:
        """Every folder under ``location``, at any depth, empty ones too,
        each before the folders inside it (walked with :meth:`list_folder`).

        Only folders with a canonical path are reported and walked: a key
        another tool wrote as ``a/./c.txt`` or ``a//c.txt`` lists a folder
        ``a/.`` or ``a/``, which is ``a`` again, and a name in NFD is
        another spelling of a folder. The files under them are listed by
        :meth:`iter_files`, under their own spelling. Each folder is walked
        once.

        .. versionadded:: 1.0
        """
        start = names.clean_location(location)
        visited = {start}
        pending = [start]
        while pending:
            folder = pending.pop()
            after = None
            while True:
                page = self.list_folder(folder, after=after, limit=1000)
                for found in page.folders:
                    if not spelling.is_canonical(found.path) or found.path in visited:
                        continue
                    visited.add(found.path)
                    yield found.path
                    pending.append(found.path)
                if page.next_after is None:
                    break
                after = page.next_after

    # -- copying, moving, deleting folders ------------------------------------

    def copy(self, path: str, location: str, *, name: str | None = None) -> str:
        """Copy the stored file ``path`` into the folder ``location``.

        It keeps its name, or gets a unique suffix when the name is taken
        there; given a ``name``, it takes exactly that one, and a taken name
        raises :class:`~flask_store.exceptions.UploadFailed`. Nothing is
        overwritten. Returns the new file's path.

        The copy is measured as it is written, as a save is, and its
        :meth:`metadata` recorded, with the uploaded name of the original's
        record (or its stored name).

        .. versionchanged:: 1.0
            ``name``.
        """
        recorded = self.metadata(path)
        uploaded = recorded.filename if recorded is not None else None
        with self.open(path) as source:
            measured = Measured(source, uploaded or path.rpartition("/")[2])
            copied = self.write(
                cast(IO[bytes], measured), targets(path, location, name)
            )
        metadata = measured.metadata()
        renamed = metadata.renamed(copied.rpartition("/")[2])
        if renamed != metadata or not self.records_on_write:
            self.record(copied, renamed)
        return copied

    def move(self, path: str, location: str, *, name: str | None = None) -> str:
        """Move the stored file ``path`` into the folder ``location``.

        Nothing is overwritten (``name`` as for :meth:`copy`); the variants
        of the old path are deleted. Returns the new path. Backends
        implement :meth:`move_file`.
        """
        moved = self.move_file(path, location, name=name)
        variant_files.forget(self, path)
        return moved

    def move_file(self, path: str, location: str, *, name: str | None = None) -> str:
        """Move the one file ``path``: by default a copy, then a delete."""
        moved = self.copy(path, location, name=name)
        self.delete_file(path)
        return moved

    def delete_folder(self, location: str) -> list[str]:
        """Delete the files under ``location``, then its empty folders; return
        the paths deleted.

        ``location`` must name a folder (not the store's root). No rows are
        asked: callers that keep used files check the files first, then
        delete exactly those (:func:`~flask_store.backends.folder_removal.delete_checked`),
        as the admin and ``flask store rm -r`` do. An entry listed under a
        spelling that is not canonical is never deleted and keeps its folder;
        a file deleted meanwhile by someone else is skipped.

        .. versionchanged:: 1.0
            Entries that are not canonical are left, with their folder.
        """
        location = names.clean_location(location)
        if not location:
            raise ValueError("Give the folder to delete; the store's root is not one.")
        files, _ = folder_removal.split_spellings(
            stored.path for stored in self.iter_files(location)
        )
        return folder_removal.delete_checked(self, location, files).deleted

    def prune_folders(self, location: str) -> None:
        """Remove the empty folders under ``location``, and it if it is empty
        (by default there are none to remove). Never removes a file."""

    # -- maintenance ------------------------------------------------------

    def checks(self) -> Iterator[CheckResult]:
        """Checks of the backend's behaviour that ``flask store check`` adds.

        Run after the write, read, list and delete probe has passed; a failed
        result fails the command.
        """
        return iter(())

    def leftovers(self, *, older_than: timedelta) -> Iterator[Leftover]:
        """Files interrupted operations left behind, last written ``older_than`` ago.

        ``older_than`` is a grace period: a younger file may belong to an
        operation still under way. These are the variants of deleted
        originals (:mod:`~flask_store.backends.variant_files`); a backend
        adds its own.
        """
        return variant_files.leftovers(self, older_than)

    def clean_leftover(self, leftover: Leftover) -> str:
        """Deal with one of :meth:`leftovers` (remove it, finish its upload...).

        Returns what was done, for people (``"removed"``, ``"re-uploaded as
        docs/a.txt"``). A leftover gone meanwhile is not an error.
        """
        if leftover.kind == variant_files.KIND:
            return variant_files.clean(self, leftover)
        raise NotImplementedError(
            f"{type(self).__name__} leaves nothing behind to clean."
        )
