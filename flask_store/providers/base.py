"""The provider base class: what every storage backend has in common.

A provider stands for one file: a new upload to save, or a file already
stored. Subclasses implement a handful of backend primitives (``_write``,
``_exists``, ``_open``, ``_delete``, ``_stat`` and the listing class methods);
names, paths, URLs and signals are handled here once for all of them.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, ClassVar

from flask import current_app, has_request_context, request
from werkzeug.datastructures import FileStorage

from .. import names
from ..signals import file_deleted, file_saved

if TYPE_CHECKING:
    from flask import Flask
    from flask.config import Config
    from typing_extensions import Self

    from ..extension import StoreState

#: Size of the chunks a stream is copied in: bounded memory for any upload.
CHUNK_SIZE = 1024 * 1024


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
    """One page of a folder listing, sorted by name.

    ``next_after`` is the name to pass as ``after`` for the next page, or
    ``None`` on the last page.
    """

    entries: list[StoredFile] = field(default_factory=list)
    next_after: str | None = None

    @property
    def folders(self) -> list[StoredFile]:
        return [e for e in self.entries if e.is_folder]

    @property
    def files(self) -> list[StoredFile]:
        return [e for e in self.entries if not e.is_folder]


@dataclass(frozen=True)
class Leftover:
    """A file an interrupted operation left behind: a temp file, a spooled upload.

    ``flask store check`` reports them and ``flask store cleanup`` hands each
    to :meth:`Provider.clean_leftover`.
    """

    #: Where it is (for files on disk, the absolute path).
    path: str
    #: What it is, for people: ``"temporary file"``, ``"spooled upload"``.
    kind: str
    size: int
    modified: datetime
    #: What ``cleanup`` will do with it, for people: ``"remove"``, ``"re-upload"``.
    action: str


@dataclass(frozen=True)
class CheckResult:
    """One step of ``flask store check``."""

    check: str
    ok: bool
    detail: str


def guess_type(filename: str) -> str:
    """The MIME type for a name, ``application/octet-stream`` when unknown.

    A compressed file (``page.html.gz``) is its compression's type, never the
    type of what is inside: browsers must not render it as the inner type.
    """
    mimetype, encoding = mimetypes.guess_type(filename, strict=False)
    if encoding:
        return {
            "gzip": "application/gzip",
            "bzip2": "application/x-bzip2",
            "xz": "application/x-xz",
            "br": "application/x-brotli",
        }.get(encoding, "application/octet-stream")
    return mimetype or "application/octet-stream"


def rewind(stream: IO[bytes]) -> None:
    """Seek to the start of ``stream`` when it can seek."""
    seekable = getattr(stream, "seekable", None)
    if seekable is not None and seekable():
        stream.seek(0)


def store_state(app: Flask) -> StoreState:
    """The Flask-Store state of ``app``, with a clear error when missing."""
    try:
        state: StoreState = app.extensions["store"]
    except KeyError:
        raise RuntimeError(
            "Flask-Store is not initialised on this app: call Store(app) or "
            "store.init_app(app) first."
        ) from None
    return state


class Provider:
    """Base class of every storage provider.

    :param fp: a :class:`~werkzeug.datastructures.FileStorage` to save, a
        binary file object (with ``filename=``) to save, or the relative path
        (``str``) of a file already stored.
    :param location: optional relative folder (or key prefix) under
        ``STORE_PATH``.
    :param filename: the name to store a plain file object under.
    :param app: the Flask app; defaults to the current app. Give it to use a
        provider outside an app context.
    """

    #: Whether ``Store`` registers the serving route for this provider.
    register_route: ClassVar[bool] = False

    #: Config keys that must be set; ``Store.check_config`` names missing ones.
    REQUIRED_CONFIGURATION: ClassVar[Sequence[str]] = ()

    def __init__(
        self,
        fp: FileStorage | IO[bytes] | str,
        location: str | None = None,
        *,
        filename: str | None = None,
        app: Flask | None = None,
    ) -> None:
        self.app: Flask = app if app is not None else current_app._get_current_object()  # type: ignore[attr-defined]
        self.location = names.clean_location(location, legacy_slash=True)
        self.fp: FileStorage | IO[bytes] | None
        if isinstance(fp, str):
            if filename is not None:
                raise TypeError("filename= is for file objects, not stored paths.")
            folder, self.filename = names.split_stored_path(fp)
            self.location = names.join_key(self.location, folder)
            self.fp = None
        elif isinstance(fp, FileStorage):
            name = filename if filename is not None else fp.filename
            if not name:
                raise ValueError(
                    "The upload has no file name (was a file chosen?); "
                    "check for an empty upload before saving it."
                )
            self.filename = name
            self.fp = fp
        elif callable(getattr(fp, "read", None)):
            if not isinstance(filename, str):
                raise TypeError(
                    "Give the name to store a file object under: "
                    "Provider(fileobj, filename='report.pdf')."
                )
            self.filename = filename
            self.fp = fp
        else:
            raise TypeError(
                "A provider takes a FileStorage, a binary file object with "
                f"filename=, or a stored path (str), not {type(fp).__name__}."
            )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.relative_path!r}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Provider):
            return NotImplemented
        return (type(self), self.app, self.relative_path) == (
            type(other),
            other.app,
            other.relative_path,
        )

    def __hash__(self) -> int:
        return hash((type(self), self.relative_path))

    @classmethod
    def from_stored_path(cls, path: str, *, app: Flask) -> Self:
        """``cls(path, app=app)``, built faster for paths loaded in bulk (rows).

        A plain path (see :func:`names.is_plain_path`) needs none of the
        constructor's checks; anything else, or a subclass with its own
        ``__init__``, goes through the constructor.
        """
        if cls.__init__ is not Provider.__init__ or not names.is_plain_path(path):
            return cls(path, app=app)
        provider = cls.__new__(cls)
        provider.app = app
        provider.location, _, provider.filename = path.rpartition("/")
        provider.fp = None
        return provider

    # -- configuration --------------------------------------------------

    @staticmethod
    def app_defaults(app: Flask) -> None:
        """Set this provider's config defaults on ``app`` (with ``setdefault``)."""

    @property
    def config(self) -> Config:
        return self.app.config

    @property
    def state(self) -> StoreState:
        return store_state(self.app)

    # -- paths and URLs -------------------------------------------------

    @property
    def relative_path(self) -> str:
        """``location/filename``, relative to ``STORE_PATH``."""
        return names.join_key(self.location, self.filename)

    @property
    def absolute_path(self) -> str:
        """Where the backend keeps the file (a path on disk, an object key)."""
        return self.relative_path

    def url_base(self) -> str:
        """The URL path that ``relative_path`` is put under."""
        return str(self.config.get("STORE_URL_PREFIX") or "")

    @property
    def relative_url(self) -> str:
        """The percent-encoded URL path of the file, starting with ``/``."""
        return names.url_path(self.url_base(), self.relative_path)

    @property
    def absolute_url(self) -> str:
        """``STORE_DOMAIN`` joined with ``relative_url``.

        With no domain, inside a request, an external URL on the current host;
        otherwise ``relative_url``.
        """
        domain = self.config.get("STORE_DOMAIN")
        if domain:
            return names.join_url(domain, self.relative_url)
        if has_request_context():
            return names.join_url(request.root_url, self.relative_url)
        return self.relative_url

    def join(self, *parts: str) -> str:
        """Join path parts the way the backend does."""
        return names.join_key(*parts)

    def url_join(self, *parts: str) -> str:
        """Join URL path parts with single slashes."""
        return names.join_key(*parts)

    # -- names ----------------------------------------------------------

    def safe_filename(self, filename: str) -> str:
        """A safe version of ``filename`` not yet taken in this location.

        ``save`` does not rely on this check (another writer may take the name
        in between); it creates files exclusively instead.
        """
        candidates = names.candidate_names(names.secure_name(filename))
        return next((c for c in candidates if not self.exists(c)), candidates[-1])

    # -- operations -----------------------------------------------------

    def save(self) -> Self:
        """Store the file under a safe, unused name and return the provider.

        The stream is rewound first and never closed. An existing file is
        never overwritten: a taken name gets a short unique suffix.
        """
        if self.fp is None:
            raise ValueError(
                f"{self.relative_path!r} is already stored; there is nothing to save."
            )
        stream: IO[bytes] = (
            self.fp.stream if isinstance(self.fp, FileStorage) else self.fp
        )
        rewind(stream)
        candidates = [
            names.join_key(self.location, name)
            for name in names.candidate_names(names.secure_name(self.filename))
        ]
        stored = self._write(stream, candidates)
        self.location, self.filename = names.split_stored_path(stored)
        self.fp = None
        file_saved.send(self.app, provider=self)
        return self

    def exists(self, filename: str | None = None) -> bool:
        """Whether ``filename`` (in this provider's location) is stored.

        With no argument, whether this provider's own file is stored.
        """
        if filename is None:
            return self._exists(self.relative_path)
        folder, name = names.split_stored_path(filename)
        return self._exists(names.join_key(self.location, folder, name))

    def open(self) -> IO[bytes]:
        """A readable binary file object for the stored file (streamed)."""
        return self._open(self.relative_path)

    def read(self) -> bytes:
        """The whole content of the stored file (for small files)."""
        with self.open() as stream:
            return stream.read()

    def delete(self) -> None:
        """Delete the stored file; :class:`FileNotFoundError` if it is missing."""
        self._delete(self.relative_path)
        file_deleted.send(self.app, provider=self)

    @property
    def size(self) -> int:
        """The stored file's size in bytes."""
        size = self._stat(self.relative_path).size
        return 0 if size is None else size

    @property
    def modified(self) -> datetime | None:
        """When the stored file was last written (UTC), when the backend knows."""
        return self._stat(self.relative_path).modified

    @property
    def content_type(self) -> str:
        """The file's MIME type, from its name."""
        return guess_type(self.filename)

    # -- listing ----------------------------------------------------------

    @classmethod
    def list_folder(
        cls,
        location: str = "",
        *,
        after: str | None = None,
        limit: int = 100,
        contains: str | None = None,
        app: Flask | None = None,
    ) -> FolderPage:
        """One page of the folders and files directly in ``location``.

        Sorted by name; ``after`` is the ``next_after`` of the previous page and
        ``contains`` keeps only names containing it (case-insensitive).
        """
        raise NotImplementedError(f"{cls.__name__} cannot list folders.")

    @classmethod
    def create_folder(cls, location: str, *, app: Flask | None = None) -> str:
        """Create the folder ``location`` (and its parents); return it cleaned.

        Creating a folder that exists is not an error.
        """
        raise NotImplementedError(f"{cls.__name__} cannot create folders.")

    @classmethod
    def iter_files(
        cls, location: str = "", *, app: Flask | None = None
    ) -> Iterator[StoredFile]:
        """Every stored file under ``location``, recursively."""
        raise NotImplementedError(f"{cls.__name__} cannot list files.")

    # -- maintenance ------------------------------------------------------

    @classmethod
    def backend_checks(cls, *, app: Flask | None = None) -> Iterator[CheckResult]:
        """Checks of the backend's behaviour that ``flask store check`` adds.

        Run after the write, read, list and delete probe has passed; a failed
        result fails the command.
        """
        return iter(())

    @classmethod
    def leftovers(
        cls, *, older_than: timedelta, app: Flask | None = None
    ) -> Iterator[Leftover]:
        """Files interrupted operations left behind, last written ``older_than`` ago.

        ``older_than`` is a grace period: a younger file may belong to an
        operation still under way.
        """
        return iter(())

    @classmethod
    def clean_leftover(cls, leftover: Leftover, *, app: Flask | None = None) -> str:
        """Deal with one of :meth:`leftovers` (remove it, finish its upload...).

        Returns what was done, for people (``"removed"``, ``"re-uploaded as
        docs/a.txt"``). A leftover gone meanwhile is not an error.
        """
        raise NotImplementedError(f"{cls.__name__} leaves nothing behind to clean.")

    # -- backend primitives ---------------------------------------------

    def _write(self, stream: IO[bytes], candidates: list[str]) -> str:
        """Store ``stream`` under the first free path in ``candidates``.

        Must never replace an existing file and never leave a partial file
        under a final name. Returns the path used.
        """
        raise NotImplementedError(
            f"Define _write in {type(self).__name__} to save files."
        )

    def _exists(self, path: str) -> bool:
        raise NotImplementedError(
            f"Define _exists in {type(self).__name__} to check files."
        )

    def _open(self, path: str) -> IO[bytes]:
        raise NotImplementedError(
            f"Define _open in {type(self).__name__} to read files."
        )

    def _delete(self, path: str) -> None:
        raise NotImplementedError(
            f"Define _delete in {type(self).__name__} to delete files."
        )

    def _stat(self, path: str) -> StoredFile:
        raise NotImplementedError(
            f"Define _stat in {type(self).__name__} to read sizes."
        )


def app_or_current(app: Flask | None) -> Flask:
    """``app``, or the current app when it is ``None``."""
    if app is not None:
        return app
    return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]


def matches(name: str, contains: str | None) -> bool:
    """Whether ``name`` passes a case-insensitive ``contains`` filter."""
    return not contains or contains.casefold() in name.casefold()
