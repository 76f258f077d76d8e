"""A provider that implements the primitives itself, as before backends existed."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import pytest
from click.testing import CliRunner
from flask import Flask

from flask_store import Store
from flask_store.exceptions import StoredFileNotFound
from flask_store.providers import Provider, ProviderBackend, StoredFile

from .conftest import make_app, upload

FILES: dict[str, bytes] = {}


class DictProvider(Provider):
    """Files in a module-level dict, with primitives and class-method listings."""

    def _write(self, stream: IO[bytes], candidates: list[str]) -> str:
        path = next(c for c in candidates if c not in FILES)
        FILES[path] = stream.read()
        return path

    def _exists(self, path: str) -> bool:
        return path in FILES

    def _open(self, path: str) -> IO[bytes]:
        if path not in FILES:
            raise StoredFileNotFound(path)
        return io.BytesIO(FILES[path])

    def _delete(self, path: str) -> None:
        if FILES.pop(path, None) is None:
            raise StoredFileNotFound(path)

    def _stat(self, path: str) -> StoredFile:
        return StoredFile(
            path, size=len(FILES[path]), modified=datetime.now(timezone.utc)
        )

    @classmethod
    def iter_files(cls, location: str = "", *, app: Any = None) -> Iterator[StoredFile]:
        prefix = f"{location}/" if location else ""
        for path in sorted(FILES):
            if path.startswith(prefix):
                yield StoredFile(path, size=len(FILES[path]))


class NothingProvider(Provider):
    """A provider that defines nothing at all."""


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    FILES.clear()
    app = make_app(tmp_path, STORE_PROVIDER=f"{__name__}.DictProvider")
    Store(app)
    with app.app_context():
        yield app


def test_it_gets_a_backend_that_runs_its_own_methods(app: Flask) -> None:
    backend = app.extensions["store"].backend
    assert isinstance(backend, ProviderBackend)
    saved = DictProvider(upload(b"one", "a.txt"), location="docs").save()
    again = DictProvider(upload(b"two", "a.txt"), location="docs").save()
    assert (saved.relative_path, again.relative_path) == (
        "docs/a.txt",
        again.relative_path,
    )
    assert again.relative_path != "docs/a.txt"
    assert DictProvider("docs/a.txt").read() == b"one"
    assert DictProvider("docs/a.txt").size == 3
    assert backend.exists("docs/a.txt")
    page = DictProvider.list_folder("docs")  # built from its iter_files
    assert [e.name for e in page.entries] == sorted(
        ["a.txt", again.relative_path.rpartition("/")[2]]
    )
    saved.delete()
    assert not saved.exists()


def test_the_command_line_lists_its_files(app: Flask) -> None:
    DictProvider(upload(b"one", "a.txt")).save()
    result = CliRunner().invoke(app.cli, ["store", "ls"], catch_exceptions=False)
    assert "a.txt" in result.output


def test_a_missing_primitive_says_which_to_define(tmp_path: Path) -> None:
    app = make_app(tmp_path, STORE_PROVIDER=f"{__name__}.NothingProvider")
    Store(app)
    with app.app_context():
        with pytest.raises(
            NotImplementedError, match="Define _write in NothingProvider"
        ):
            NothingProvider(upload()).save()
        with pytest.raises(NotImplementedError, match="Define create_folder"):
            NothingProvider.create_folder("new")
