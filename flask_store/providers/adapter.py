"""Running a provider that implements the storage primitives itself."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import IO, TYPE_CHECKING

from ..backends.base import Backend, CheckResult, FolderPage, Leftover, StoredFile

if TYPE_CHECKING:
    from flask import Flask

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
    """The backend of a provider that implements the primitives itself.

    Each method runs the provider's own ``_write``, ``_exists``... on a bare
    instance, or its listing class methods, and says clearly which one to
    define when the provider has none.
    """

    def __init__(
        self, app: Flask, provider_class: type[Provider], *, base: type[Provider]
    ) -> None:
        super().__init__(app)
        self.provider_class = provider_class
        self._cls = provider_class
        self._base = base
        handle = provider_class.__new__(provider_class)
        handle.app, handle.location, handle.filename, handle.fp = app, "", "", None
        self._handle = handle

    def _own(self, name: str, does: str) -> None:
        if not overrides(self.provider_class, self._base, name):
            raise NotImplementedError(
                f"Define {name} in {self._cls.__name__} to {does}, "
                "or give it a backend_class."
            )

    def absolute_path(self, path: str) -> str:
        return path

    def write(self, stream: IO[bytes], candidates: list[str]) -> str:
        self._own("_write", "save files")
        return self._handle._write(stream, candidates)

    def exists(self, path: str) -> bool:
        self._own("_exists", "check files")
        return self._handle._exists(path)

    def open(self, path: str) -> IO[bytes]:
        self._own("_open", "read files")
        return self._handle._open(path)

    def delete(self, path: str) -> None:
        self._own("_delete", "delete files")
        self._handle._delete(path)

    def stat(self, path: str) -> StoredFile:
        self._own("_stat", "read sizes")
        return self._handle._stat(path)

    def list_folder(
        self,
        location: str = "",
        *,
        after: str | None = None,
        limit: int = 100,
        contains: str | None = None,
    ) -> FolderPage:
        if not overrides(self.provider_class, self._base, "list_folder"):
            return super().list_folder(
                location, after=after, limit=limit, contains=contains
            )
        return self._cls.list_folder(
            location, after=after, limit=limit, contains=contains, app=self.app
        )

    def create_folder(self, location: str) -> str:
        self._own("create_folder", "create folders")
        return self._cls.create_folder(location, app=self.app)

    def iter_files(self, location: str = "") -> Iterator[StoredFile]:
        self._own("iter_files", "list files")
        return self._cls.iter_files(location, app=self.app)

    def checks(self) -> Iterator[CheckResult]:
        if not overrides(self.provider_class, self._base, "backend_checks"):
            return iter(())
        return self._cls.backend_checks(app=self.app)

    def leftovers(self, *, older_than: timedelta) -> Iterator[Leftover]:
        if not overrides(self.provider_class, self._base, "leftovers"):
            return iter(())
        return self._cls.leftovers(older_than=older_than, app=self.app)

    def clean_leftover(self, leftover: Leftover) -> str:
        self._own("clean_leftover", "clean leftovers")
        return self._cls.clean_leftover(leftover, app=self.app)
