"""An in-memory provider for tests: nothing touches the disk or the network.

Set ``STORE_PROVIDER = "flask_store.providers.memory.MemoryProvider"`` in a
test config. Each app has its own store, kept in ``app.extensions["store"]``;
:func:`stored_files` shows what was saved.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import IO, TYPE_CHECKING

from .. import names
from ..exceptions import StoredFileNotFound, UploadFailed
from .base import CHUNK_SIZE, FolderPage, Provider, StoredFile, app_or_current, matches

if TYPE_CHECKING:
    from flask import Flask


@dataclass(frozen=True)
class _Blob:
    data: bytes
    modified: datetime


class _MemoryStore:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.files: dict[str, _Blob] = {}
        self.folders: set[str] = set()


def _store(app: Flask) -> _MemoryStore:
    state = app.extensions["store"]
    with state.lock:
        store: _MemoryStore = state.cache.setdefault("memory", _MemoryStore())
    return store


def stored_files(app: Flask) -> dict[str, bytes]:
    """A snapshot of the app's in-memory store: relative path to content."""
    store = _store(app)
    with store.lock:
        return {path: blob.data for path, blob in store.files.items()}


class MemoryProvider(Provider):
    """Keeps files in a dict per app. For tests and demos, not production."""

    @staticmethod
    def app_defaults(app: Flask) -> None:
        app.config.setdefault("STORE_URL_PREFIX", "/uploads")

    def _blob(self, path: str) -> _Blob:
        try:
            return _store(self.app).files[path]
        except KeyError:
            raise StoredFileNotFound(f"{path!r} is not stored.") from None

    def _write(self, stream: IO[bytes], candidates: list[str]) -> str:
        buffer = io.BytesIO()
        while chunk := stream.read(CHUNK_SIZE):
            buffer.write(chunk)
        blob = _Blob(buffer.getvalue(), datetime.now(timezone.utc))
        store = _store(self.app)
        with store.lock:
            for candidate in candidates:
                if candidate not in store.files and not any(
                    p.startswith(candidate + "/") for p in store.files
                ):
                    store.files[candidate] = blob
                    return candidate
        raise UploadFailed(f"Could not find a free name for {candidates[0]!r}.")

    def _exists(self, path: str) -> bool:
        return path in _store(self.app).files

    def _open(self, path: str) -> IO[bytes]:
        return io.BytesIO(self._blob(path).data)

    def _delete(self, path: str) -> None:
        store = _store(self.app)
        with store.lock:
            if store.files.pop(path, None) is None:
                raise StoredFileNotFound(f"{path!r} is not stored.")

    def _stat(self, path: str) -> StoredFile:
        blob = self._blob(path)
        return StoredFile(path=path, size=len(blob.data), modified=blob.modified)

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
        location = names.clean_location(location)
        prefix = location + "/" if location else ""
        store = _store(app_or_current(app))
        with store.lock:
            items: list[tuple[str, _Blob | None]] = list(store.files.items())
            items += [(folder + "/", None) for folder in store.folders]
        entries: dict[str, StoredFile] = {}
        for path, blob in items:
            if not path.startswith(prefix):
                continue
            name, slash, _ = path[len(prefix) :].partition("/")
            if not matches(name, contains) or (after is not None and name <= after):
                continue
            full = prefix + name
            if slash:
                entries.setdefault(name, StoredFile(path=full, is_folder=True))
            elif blob is not None:
                entries[name] = StoredFile(
                    full, size=len(blob.data), modified=blob.modified
                )
        ordered = [entries[n] for n in sorted(entries)]
        more = len(ordered) > limit
        return FolderPage(ordered[:limit], ordered[limit - 1].name if more else None)

    @classmethod
    def create_folder(cls, location: str, *, app: Flask | None = None) -> str:
        location = names.clean_location(location)
        if location:
            store = _store(app_or_current(app))
            with store.lock:
                store.folders.add(location)
        return location

    @classmethod
    def iter_files(
        cls, location: str = "", *, app: Flask | None = None
    ) -> Iterator[StoredFile]:
        location = names.clean_location(location)
        prefix = location + "/" if location else ""
        store = _store(app_or_current(app))
        with store.lock:
            items = sorted(store.files.items())
        for path, blob in items:
            if path.startswith(prefix):
                yield StoredFile(path, size=len(blob.data), modified=blob.modified)
