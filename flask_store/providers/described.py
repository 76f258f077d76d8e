"""``provider.metadata``: what a file is, from its save or from where it was recorded."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any, cast

from ..metadata import FileMetadata, Measured

if TYPE_CHECKING:
    from ..backends.base import Backend, StoredFile


class Described:
    """The provider's :attr:`metadata`, and the measuring save that fills it."""

    filename: str
    __dict__: dict[str, Any]

    @property
    def backend(self) -> Backend:
        raise NotImplementedError

    @property
    def relative_path(self) -> str:
        raise NotImplementedError

    def _write(self, stream: IO[bytes], candidates: Sequence[str]) -> str:
        raise NotImplementedError

    def _stat(self, path: str) -> StoredFile:
        raise NotImplementedError

    def _write_measured(self, stream: IO[bytes], candidates: Sequence[str]) -> str:
        """Save ``stream`` through a :class:`Measured` reader; keep what it found."""
        measured = Measured(stream, self.filename)
        stored = self._write(cast(IO[bytes], measured), candidates)
        metadata = measured.metadata()
        if not self.backend.records_on_write:
            self.backend.record(stored, metadata)
        self.__dict__["_metadata"] = metadata
        return stored

    @property
    def metadata(self) -> FileMetadata:
        """What the file is: size, type by content, SHA-256, uploaded name, image size.

        Right after ``save()``, what the save measured, with no further I/O.
        For a handle of a stored path, what the backend recorded (local: a
        hidden record beside the file; S3: the object's metadata, one HEAD);
        for a file stored without a record, its size and type from the
        backend, with ``sha256`` and ``filename`` ``None``.

        .. versionadded:: 1.0
        """
        known = self.__dict__.get("_metadata")
        if known is not None:
            return known  # type: ignore[no-any-return]
        path = self.relative_path
        recorded = self.backend.metadata(path)
        if recorded is None:
            size = self._stat(path).size
            recorded = FileMetadata(
                size=0 if size is None else size,
                content_type=self.backend.content_type(path),
            )
        self.__dict__["_metadata"] = recorded
        return recorded
