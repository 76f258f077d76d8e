"""The file handle base class: one stored file, or one upload to save.

A provider pairs the app's storage backend (:mod:`flask_store.backends`) with
one stored path or one upload. Names, paths, URLs and signals are handled here
once for every backend.

A provider written for Flask-Store 1.0 before backends existed implements the
primitives (``_write``, ``_exists``, ``_open``, ``_delete``, ``_stat``) and
the listing class methods on the provider itself; :class:`ProviderBackend`
runs those as the app's backend, so such a provider keeps working.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any, ClassVar, cast, overload

from flask import current_app, has_request_context, request
from werkzeug.datastructures import FileStorage

from .. import names, spelling
from ..backends.base import (
    CHUNK_SIZE,
    Backend,
    CheckResult,
    FolderPage,
    Leftover,
    StoredFile,
    matches,
)
from ..content import guess_type
from ..files import StoreFile
from ..settings import Setting
from ..signals import file_deleted, file_saved
from ..state import StoreState, store_state
from ..variants import KNOWN_VERSION, ImageVariant, VariantSpec
from .adapter import ProviderBackend
from .binding import app_or_current, backend_for, make_backend
from .described import Described
from .eager import make_eager_variants
from .inputs import read_fp
from .operations import BackendOperations

if TYPE_CHECKING:
    from flask import Flask
    from flask.config import Config
    from typing_extensions import Self

__all__ = [
    "CHUNK_SIZE",
    "CheckResult",
    "FolderPage",
    "Leftover",
    "Provider",
    "ProviderBackend",
    "StoredFile",
    "app_or_current",
    "guess_type",
    "matches",
    "rewind",
    "store_state",
]


def rewind(stream: IO[bytes]) -> None:
    """Seek to the start of ``stream`` when it can seek."""
    seekable = getattr(stream, "seekable", None)
    if seekable is not None and seekable():
        stream.seek(0)


class Provider(Described, BackendOperations):
    """A stored file, or an upload to save: the file handle of every backend.

    :param fp: a :class:`~werkzeug.datastructures.FileStorage` to save, a
        binary file object (with ``filename=``) to save, the relative path
        (``str``) of a file already stored, or a provider of a stored file
        (such as a form's receipt upload): the new handle is on that file,
        and ``location``, when given, must be its folder. With none, the provider stands
        for the folder ``location`` and ``save(upload)`` stores an upload
        there (the 0.0.2 API, deprecated).
    :param location: optional relative folder (or key prefix) under
        ``STORE_PATH``.
    :param filename: the name to store a plain file object under.
    :param app: the Flask app; defaults to the current app. Give it to use a
        provider outside an app context.
    """

    #: The backend class ``init_app`` builds for the app. ``None`` for a
    #: provider that implements the primitives itself (see ProviderBackend).
    backend_class: ClassVar[type[Backend] | None] = None

    #: Whether ``Store`` registers the serving route for this provider.
    register_route: ClassVar[bool] = False

    #: Config keys that must be set; ``Store.check_config`` names missing ones.
    REQUIRED_CONFIGURATION: ClassVar[Sequence[str]] = ()

    #: Whether this handle stands for an upload the browser already stored
    #: (a receipt, :func:`flask_store.direct.confirm_upload`): ``save()``
    #: then returns it unchanged, so code written for posted files works.
    received: bool = False

    #: The stored path a handle from :meth:`from_stored_path` has yet to
    #: check and split (an annotation only: most handles never have it).
    _stored_path: str

    def __init__(
        self,
        fp: FileStorage | IO[bytes] | str | Provider | None = None,
        location: str | None = None,
        *,
        filename: str | None = None,
        app: Flask | None = None,
    ) -> None:
        self.app: Flask = app if app is not None else current_app._get_current_object()  # type: ignore[attr-defined]
        self.location = names.clean_location(location, legacy_slash=True)
        if isinstance(fp, Provider):
            fp = self._stored_path_of(fp, location, filename)
        folder, self.filename, self.fp = read_fp(fp, filename, type(self).__name__)
        if folder:
            self.location = names.join_key(self.location, folder)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.relative_path!r}>"

    def _stored_path_of(
        self, other: Provider, location: str | None, filename: str | None
    ) -> str:
        """The path of the stored file ``other`` stands for, checked against
        this handle's ``location``; the new handle takes it from there."""
        if other.fp is not None or not other.filename or filename is not None:
            raise TypeError(
                "A provider given to a provider must be a stored file; pass an "
                "upload to save itself."
            )
        if location is not None and self.location != other.location:
            raise ValueError(
                f"{other.relative_path!r} is stored in the folder "
                f"{other.location!r}, not {self.location!r}."
            )
        self.location = ""
        self.received = other.received
        return other.relative_path

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

        The path is checked and split when the handle is first used (its
        ``location``, ``filename`` or anything built on them), with the
        constructor's checks, so a listing of many rows pays only for the
        handles it reads. A subclass with its own ``__init__`` goes through it.
        """
        return cls.stored_path_factory(app)(path)

    @classmethod
    def stored_path_factory(cls, app: Flask) -> Callable[[str], Self]:
        """A function that builds :meth:`from_stored_path` handles for ``app``.

        Made once per app (:attr:`StoreState.stored_handle`), so a column
        loading many rows makes each handle with a few attribute stores.
        """
        if cls.__init__ is not Provider.__init__:
            return lambda path: cls(path, app=app)
        new = cls.__new__

        def handle(path: str) -> Provider:
            provider = new(cls)
            provider.app = app
            provider.fp = None
            provider._stored_path = path
            return provider

        return cast("Callable[[str], Self]", handle)

    def __getattr__(self, name: str) -> Any:
        # Only reached for a missing attribute: the location and filename of
        # a handle from_stored_path made, split from its path on first use.
        stored = self.__dict__.get("_stored_path")
        if stored is None or name not in ("location", "filename"):
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {name!r}"
            )
        if names.is_plain_path(stored):
            location, _, filename = stored.rpartition("/")
        else:
            location, filename = spelling.split_stored_path(stored)
        self.location, self.filename = location, filename
        del self.__dict__["_stored_path"]
        return self.__dict__[name]

    # -- the backend ----------------------------------------------------

    @classmethod
    def make_backend(cls, app: Flask) -> Backend:
        """The backend ``init_app`` builds for ``app`` (reading its settings).

        Storage hooks the provider class defines itself (``_write``,
        ``list_folder``...) take the place of the backend's methods, through
        a :class:`ProviderBackend`.
        """
        return make_backend(cls, app, base=Provider)

    @classmethod
    def settings(cls) -> tuple[Setting, ...]:
        """The ``STORE_*`` settings this provider's backend reads."""
        return cls.backend_class.settings if cls.backend_class is not None else ()

    @classmethod
    def backend_of(cls, app: Flask | None = None) -> Backend:
        """The backend this provider class uses in ``app`` (default: current)."""
        return backend_for(cls, app)

    @property
    def backend(self) -> Backend:
        """The app's storage backend this file lives in."""
        return self.backend_of(self.app)

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
        return self.backend.absolute_path(self.relative_path)

    def url_base(self) -> str:
        """The URL path that ``relative_path`` is put under."""
        return self.backend.url_prefix

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
        domain = self.backend.domain
        if domain:
            return names.join_url(domain, self.relative_url)
        if has_request_context():
            return names.join_url(request.root_url, self.relative_url)
        return self.relative_url

    def join(self, *parts: str) -> str:
        """Join path parts the way the backend does."""
        return self.backend.join(*parts)

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

    @overload
    def save(self) -> Self: ...

    @overload
    def save(self, file: FileStorage) -> StoreFile: ...

    def save(self, file: FileStorage | None = None) -> Self | StoreFile:
        """Store the file under a safe, unused name and return the provider.

        The stream is rewound first and never closed. An existing file is
        never overwritten: a taken name gets a short unique suffix. An image
        gets the variants of ``STORE_EAGER_VARIANTS`` before this returns
        (one that cannot be made is logged, never fails the save).

        ``save(upload)`` on a provider built with no file (the 0.0.2 API)
        stores ``upload`` in its location and returns a
        :class:`~flask_store.files.StoreFile`.
        """
        if file is not None:
            if self.fp is not None or self.filename:
                raise TypeError("This provider has its file; call save() alone.")
            saved = type(self)(file, self.location or None, app=self.app).save()
            return StoreFile.of(saved)
        if self.fp is None:
            if self.received:
                return self
            if not self.filename:
                raise TypeError("save() on a provider with no file needs the upload.")
            raise ValueError(
                f"{self.relative_path!r} is already stored; there is nothing to save."
            )
        stream: IO[bytes] = (
            self.fp.stream if isinstance(self.fp, FileStorage) else self.fp
        )
        rewind(stream)
        candidates = names.Candidates(self.location, names.secure_name(self.filename))
        stored = self._write_measured(stream, candidates)
        self.location, self.filename = spelling.split_stored_path(stored)
        self.fp = None
        make_eager_variants(self, stream)
        file_saved.send(self.app, provider=self)
        return self

    def exists(self, filename: str | None = None) -> bool:
        """Whether ``filename`` (in this provider's location) is stored.

        With no argument, whether this provider's own file is stored.
        """
        if filename is None:
            return self._exists(self.relative_path)
        folder, name = spelling.split_stored_path(filename)
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
        self.__dict__.pop("_metadata", None)
        self.__dict__.pop(KNOWN_VERSION, None)
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

    def variant(
        self,
        width: int | None = None,
        height: int | None = None,
        *,
        format: str = "webp",
        fit: str = "contain",
    ) -> ImageVariant:
        """A resized copy of this image, rendered when its URL is first fetched.

        See :mod:`flask_store.variants`. ``ValueError`` for impossible options.

        .. versionadded:: 1.0
        """
        return ImageVariant(self, VariantSpec(width, height, format, fit))

    @property
    def content_type(self) -> str:
        """The file's MIME type, from its name."""
        return guess_type(self.filename)

    # -- backend primitives: a provider may implement them itself -------

    def _write(self, stream: IO[bytes], candidates: Sequence[str]) -> str:
        """Store ``stream`` under the first free path in ``candidates``.

        Must never replace an existing file and never leave a partial file
        under a final name. Returns the path used.
        """
        return self.backend.write(stream, candidates)

    def _exists(self, path: str) -> bool:
        return self.backend.exists(path)

    def _open(self, path: str) -> IO[bytes]:
        return self.backend.open(path)

    def _delete(self, path: str) -> None:
        self.backend.delete(path)

    def _stat(self, path: str) -> StoredFile:
        return self.backend.stat(path)
