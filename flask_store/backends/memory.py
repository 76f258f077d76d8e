"""An in-memory backend for tests: nothing touches the disk or the network."""

from __future__ import annotations

import io
import secrets
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import IO, TYPE_CHECKING

from .. import names
from ..exceptions import StoredFileNotFound
from ..metadata import FileMetadata
from .base import (
    CHUNK_SIZE,
    Backend,
    FolderPage,
    PageQuery,
    StoredFile,
    first_free,
    matches,
    page_of,
)

if TYPE_CHECKING:
    from flask import Flask


@dataclass(frozen=True)
class _Blob:
    data: bytes
    modified: datetime
    #: A new one for every write: what listings give as the file's version.
    version: str = field(default_factory=lambda: secrets.token_hex(8))

    def entry(self, path: str) -> StoredFile:
        return StoredFile(
            path, size=len(self.data), modified=self.modified, version=self.version
        )


class MemoryBackend(Backend):
    """Keeps one app's files in a dict. For tests and demos, not production."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.lock = threading.Lock()
        self.files: dict[str, _Blob] = {}
        self.folders: set[str] = set()
        self.recorded: dict[str, FileMetadata] = {}

    def snapshot(self) -> dict[str, bytes]:
        """What is stored: relative path to content."""
        with self.lock:
            return {path: blob.data for path, blob in self.files.items()}

    def _blob(self, path: str) -> _Blob:
        try:
            return self.files[path]
        except KeyError:
            raise StoredFileNotFound(f"{path!r} is not stored.") from None

    def write(self, stream: IO[bytes], candidates: Sequence[str]) -> str:
        buffer = io.BytesIO()
        while chunk := stream.read(CHUNK_SIZE):
            buffer.write(chunk)
        blob = _Blob(buffer.getvalue(), datetime.now(timezone.utc))

        def take(candidate: str) -> bool:
            if candidate in self.files or any(
                p.startswith(candidate + "/") for p in self.files
            ):
                return False
            self.files[candidate] = blob
            return True

        with self.lock:
            return first_free(candidates, take)

    def exists(self, path: str) -> bool:
        return path in self.files

    def open(self, path: str) -> IO[bytes]:
        return io.BytesIO(self._blob(path).data)

    def delete_file(self, path: str) -> None:
        with self.lock:
            if self.files.pop(path, None) is None:
                raise StoredFileNotFound(f"{path!r} is not stored.")
            self.recorded.pop(path, None)

    def record(self, path: str, metadata: FileMetadata) -> None:
        with self.lock:
            self.recorded[path] = metadata

    def metadata(self, path: str) -> FileMetadata | None:
        return self.recorded.get(path)

    def stat(self, path: str) -> StoredFile:
        return self._blob(path).entry(path)

    def list_page(self, location: str, query: PageQuery) -> FolderPage:
        prefix = location + "/" if location else ""
        with self.lock:
            items: list[tuple[str, _Blob | None]] = list(self.files.items())
            items += [(folder + "/", None) for folder in self.folders]
        entries: dict[str, StoredFile] = {}
        seen = not location
        for path, blob in items:
            if not path.startswith(prefix):
                continue
            seen = True
            name, slash, _ = path[len(prefix) :].partition("/")
            if names.is_hidden_name(name) or not matches(name, query.contains):
                continue
            full = prefix + name
            if slash:
                entries.setdefault(name, StoredFile(path=full, is_folder=True))
            elif blob is not None:
                entries[name] = blob.entry(full)
        page = page_of(entries, query)
        page.missing = not seen
        return page

    def create_folder(self, location: str) -> str:
        location = names.clean_location(location)
        if location:
            with self.lock:
                self.folders.add(location)
        return location

    def prune_folders(self, location: str) -> None:
        """Forget the folders under ``location`` (and it) that hold no file."""
        with self.lock:
            self.folders = {
                f
                for f in self.folders
                if not (f == location or f.startswith(location + "/"))
                or any(p.startswith(f + "/") for p in self.files)
            }

    def iter_files(self, location: str = "") -> Iterator[StoredFile]:
        location = names.clean_location(location)
        prefix = location + "/" if location else ""
        with self.lock:
            items = sorted(self.files.items())
        for path, blob in items:
            # Hidden paths (image variants, say) are left out, as on disk.
            if path.startswith(prefix) and not names.is_hidden(path):
                yield blob.entry(path)
