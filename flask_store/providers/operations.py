"""The backend's folder and maintenance operations, as provider class methods.

``LocalProvider.list_folder(...)`` and the other class methods here run the
operation on the backend the provider class uses in the app (the current
app unless ``app=`` is given): code written against providers keeps working
while the operations themselves live once, on the backends.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from ..backends.base import Backend, CheckResult, FolderPage, Leftover, StoredFile


class BackendOperations:
    """Class methods that call the app's backend for a provider class."""

    @classmethod
    def backend_of(cls, app: Flask | None = None) -> Backend:
        raise NotImplementedError

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
        """:meth:`Backend.list_folder` of the app's backend."""
        return cls.backend_of(app).list_folder(
            location, after=after, limit=limit, contains=contains
        )

    @classmethod
    def create_folder(cls, location: str, *, app: Flask | None = None) -> str:
        """:meth:`Backend.create_folder` of the app's backend."""
        return cls.backend_of(app).create_folder(location)

    @classmethod
    def iter_files(
        cls, location: str = "", *, app: Flask | None = None
    ) -> Iterator[StoredFile]:
        """:meth:`Backend.iter_files` of the app's backend."""
        return cls.backend_of(app).iter_files(location)

    @classmethod
    def backend_checks(cls, *, app: Flask | None = None) -> Iterator[CheckResult]:
        """:meth:`Backend.checks` of the app's backend."""
        return cls.backend_of(app).checks()

    @classmethod
    def leftovers(
        cls, *, older_than: timedelta, app: Flask | None = None
    ) -> Iterator[Leftover]:
        """:meth:`Backend.leftovers` of the app's backend."""
        return cls.backend_of(app).leftovers(older_than=older_than)

    @classmethod
    def clean_leftover(cls, leftover: Leftover, *, app: Flask | None = None) -> str:
        """:meth:`Backend.clean_leftover` of the app's backend."""
        return cls.backend_of(app).clean_leftover(leftover)
