"""Running a provider that implements the storage primitives itself."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import IO, TYPE_CHECKING, Any

from ..backends.base import (
    Backend,
    CheckResult,
    FolderPage,
    Leftover,
    PageQuery,
    StoredFile,
)

if TYPE_CHECKING:
    from flask import Flask

    from ..metadata import FileMetadata
    from .base import Provider


def overrides(cls: type, base: type, name: str) -> bool:
    """Whether ``cls`` (or a class between it and ``base``) defines ``name``."""
    for klass in cls.__mro__:
        if klass is base:
            return False
        if name in vars(klass):
            return True
    return False


class ProviderBackend(Backend):
    """The backend of a provider that implements storage hooks itself.

    A provider written before backends existed defines the primitives
    (``_write``, ``_exists``, ``_open``, ``_delete``, ``_stat``) and the
    listing class methods (``list_folder``, ``iter_files``, ``create_folder``,
    ``backend_checks``, ``leftovers``, ``clean_leftover``) on itself; so may a
    subclass of a built-in provider, to change one of them. Each method here
    runs the provider's own hook where it defines one, else the ``inner``
    backend's method (the one its ``backend_class`` built), else says which
    hook to define. Other attributes are the inner backend's.

    :param base: the class whose hooks are not the provider's own: the base
        ``Provider``, or the built-in provider that names the backend class.
    """

    def __init__(
        self,
        app: Flask,
        provider_class: type[Provider],
        *,
        base: type[Provider],
        inner: Backend | None = None,
    ) -> None:
        super().__init__(app)
        self.provider_class = provider_class
        self._cls = provider_class
        self._base = base
        #: The backend the provider's ``backend_class`` built, if it has one.
        self.inner = inner
        if inner is not None:
            self.url_prefix, self.domain = inner.url_prefix, inner.domain
        handle = provider_class.__new__(provider_class)
        handle.app, handle.location, handle.filename, handle.fp = app, "", "", None
        self._handle = handle

    def __getattr__(self, name: str) -> Any:
        # Only for what this class lacks: the inner backend's client, root...
        inner = self.__dict__.get("inner")
        if inner is None:
            raise AttributeError(name)
        return getattr(inner, name)

    @property
    def storage(self) -> Backend:
        return self if self.inner is None else self.inner

    def _own(self, hook: str) -> bool:
        return overrides(self._cls, self._base, hook)

    def _fallback(self, hook: str, does: str) -> Backend:
        if self.inner is None:
            raise NotImplementedError(
                f"Define {hook} in {self._cls.__name__} to {does}, "
                "or give it a backend_class."
            )
        return self.inner

    def absolute_path(self, path: str) -> str:
        return path if self.inner is None else self.inner.absolute_path(path)

    def join(self, *parts: str) -> str:
        return super().join(*parts) if self.inner is None else self.inner.join(*parts)

    def content_type(self, path: str) -> str:
        if self.inner is None:
            return super().content_type(path)
        return self.inner.content_type(path)

    def record(self, path: str, metadata: FileMetadata) -> None:
        # Only for files the inner backend stored itself.
        if self.inner is not None and not self._own("_write"):
            self.inner.record(path, metadata)

    def metadata(self, path: str) -> FileMetadata | None:
        if self.inner is None or self._own("_write"):
            return None
        return self.inner.metadata(path)

    def write(self, stream: IO[bytes], candidates: Sequence[str]) -> str:
        if self._own("_write"):
            return self._handle._write(stream, candidates)
        return self._fallback("_write", "save files").write(stream, candidates)

    def exists(self, path: str) -> bool:
        if self._own("_exists"):
            return self._handle._exists(path)
        return self._fallback("_exists", "check files").exists(path)

    def open(self, path: str) -> IO[bytes]:
        if self._own("_open"):
            return self._handle._open(path)
        return self._fallback("_open", "read files").open(path)

    def delete_file(self, path: str) -> None:
        if self._own("_delete"):
            self._handle._delete(path)
        else:
            self._fallback("_delete", "delete files").delete_file(path)

    def stat(self, path: str) -> StoredFile:
        if self._own("_stat"):
            return self._handle._stat(path)
        return self._fallback("_stat", "read sizes").stat(path)

    def list_page(self, location: str, query: PageQuery) -> FolderPage:
        if self._own("list_folder"):
            return self._cls.list_folder(
                location,
                after=query.after,
                limit=query.limit,
                contains=query.contains,
                app=self.app,
            )
        if self.inner is not None and not self._own("iter_files"):
            return self.inner.list_page(location, query)
        return super().list_page(location, query)  # from iter_files

    def create_folder(self, location: str) -> str:
        if self._own("create_folder"):
            return self._cls.create_folder(location, app=self.app)
        return self._fallback("create_folder", "create folders").create_folder(location)

    def iter_files(self, location: str = "") -> Iterator[StoredFile]:
        if self._own("iter_files"):
            return self._cls.iter_files(location, app=self.app)
        return self._fallback("iter_files", "list files").iter_files(location)

    def checks(self) -> Iterator[CheckResult]:
        if self._own("backend_checks"):
            return self._cls.backend_checks(app=self.app)
        return iter(()) if self.inner is None else self.inner.checks()

    def leftovers(self, *, older_than: timedelta) -> Iterator[Leftover]:
        if self._own("leftovers"):
            return self._cls.leftovers(older_than=older_than, app=self.app)
        if self.inner is None:
            return iter(())
        return self.inner.leftovers(older_than=older_than)

    def clean_leftover(self, leftover: Leftover) -> str:
        if self._own("clean_leftover"):
            return self._cls.clean_leftover(leftover, app=self.app)
        return self._fallback("clean_leftover", "clean leftovers").clean_leftover(
            leftover
        )


#: The provider hooks a ProviderBackend runs in place of a backend's methods.
HOOKS = (
    "_write",
    "_exists",
    "_open",
    "_delete",
    "_stat",
    "list_folder",
    "iter_files",
    "create_folder",
    "backend_checks",
    "leftovers",
    "clean_leftover",
)


def own_hooks(cls: type, base: type) -> bool:
    """Whether ``cls`` defines any storage hook that ``base`` does not."""
    return any(overrides(cls, base, hook) for hook in HOOKS)
