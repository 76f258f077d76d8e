"""What a file is, measured in the one pass over its bytes that saves it.

:class:`FileMetadata` is what ``provider.metadata`` gives: size, type by
content, SHA-256, the name it was uploaded under and, for images, width and
height. :class:`Measured` wraps the stream a backend reads while it saves,
so hashing and measuring cost no second read; the type and image size come
from the first bytes, peeked before the backend reads anything.
"""

from __future__ import annotations

import base64
import contextlib
import io
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from functools import cache
from types import ModuleType
from typing import IO, Any
from urllib.parse import quote, unquote

from .content import SNIFF_BYTES, content_type, renamed_type
from .hashing import Digest
from .humanize import whole_number

#: Size of the chunks a stream is read in when nobody else reads it.
_CHUNK = 1024 * 1024

#: The S3 user metadata names (``x-amz-meta-...``) a save records.
S3_SHA256 = "sha256"
S3_FILENAME = "original-filename"
S3_WIDTH = "width"
S3_HEIGHT = "height"


@dataclass(frozen=True)
class FileMetadata:
    """What a stored file is.

    .. versionadded:: 1.0
    """

    #: Size in bytes.
    size: int
    #: The MIME type by content (by name for text, which has no signature).
    content_type: str
    #: The SHA-256 of the content, in hex; ``None`` when none was recorded
    #: (a file another tool wrote, or one saved before 1.0).
    sha256: str | None = None
    #: The name the file was uploaded under, before it was made safe.
    filename: str | None = None
    #: For images Pillow reads (the ``images`` extra): the size in pixels.
    width: int | None = None
    height: int | None = None

    def renamed(self, filename: str) -> FileMetadata:
        """The same file under the stored name ``filename`` (a copy, a move):
        its type follows the name where the name gave it
        (:func:`~flask_store.content.renamed_type`)."""
        return replace(self, content_type=renamed_type(self.content_type, filename))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the fields."""
        return dict(vars(self))  # every field is a plain value: no deep copy

    @classmethod
    def from_dict(cls, data: Any) -> FileMetadata | None:
        """The metadata ``to_dict`` gave, or ``None`` for anything else."""
        if not isinstance(data, Mapping):
            return None
        fields = {
            "size": int,
            "content_type": str,
            "sha256": (str, type(None)),
            "filename": (str, type(None)),
            "width": (int, type(None)),
            "height": (int, type(None)),
        }
        if set(data) - set(fields) or not {"size", "content_type"} <= set(data):
            return None
        if not all(isinstance(v, fields[k]) for k, v in data.items()):  # type: ignore[arg-type]
            return None
        return cls(**data)

    @property
    def sha256_base64(self) -> str | None:
        """The SHA-256 as S3's ``ChecksumSHA256`` spells it (base64)."""
        if self.sha256 is None:
            return None
        return base64.b64encode(bytes.fromhex(self.sha256)).decode("ascii")

    def s3_metadata(self) -> dict[str, str]:
        """The object's user metadata (ASCII values: the name percent-encoded)."""
        meta = {}
        if self.sha256 is not None:
            meta[S3_SHA256] = self.sha256
        if self.filename is not None:
            meta[S3_FILENAME] = quote(self.filename, safe="")
        if self.width is not None and self.height is not None:
            meta[S3_WIDTH], meta[S3_HEIGHT] = str(self.width), str(self.height)
        return meta

    @classmethod
    def from_s3_head(cls, head: Mapping[str, Any]) -> FileMetadata:
        """The metadata of an object from its HEAD (or GET) response."""
        meta = head.get("Metadata") or {}
        sha256 = meta.get(S3_SHA256)
        if sha256 is None and head.get("ChecksumSHA256"):
            with contextlib.suppress(ValueError):
                sha256 = base64.b64decode(head["ChecksumSHA256"]).hex()
        name = meta.get(S3_FILENAME)
        width, height = (
            whole_number(meta.get(S3_WIDTH)),
            whole_number(meta.get(S3_HEIGHT)),
        )
        sized = width is not None and height is not None
        return cls(
            size=int(head["ContentLength"]),
            content_type=str(head.get("ContentType") or "application/octet-stream"),
            sha256=sha256,
            filename=None if name is None else unquote(name),
            width=width if sized else None,
            height=height if sized else None,
        )


class DecompressionBomb(ValueError):
    """An image declares more pixels than Pillow's decompression-bomb limit."""


@cache
def _pillow() -> ModuleType | None:
    # Pillow is the optional ``images`` extra: imported on first use only.
    try:
        from PIL import Image
    except ImportError:
        return None
    return Image


def image_size(head: bytes) -> tuple[int, int] | None:
    """Width and height from an image's first bytes, or ``None``.

    Pillow's lazy open reads only the header: nothing is decoded. ``None``
    without Pillow, for what is not an image Pillow knows, and for a header
    cut short.

    :raises DecompressionBomb: the image declares more pixels than
        ``PIL.Image.MAX_IMAGE_PIXELS``.
    """
    image_module = _pillow()
    if image_module is None or not head:
        return None
    bomb = image_module.DecompressionBombWarning
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", bomb)
            with image_module.open(io.BytesIO(head)) as image:
                size = image.size
    except image_module.DecompressionBombError as exc:
        raise DecompressionBomb(str(exc)) from None
    # A hostile header makes Pillow's parsers raise nearly anything.
    except Exception:
        return None
    if any(issubclass(w.category, bomb) for w in caught):
        raise DecompressionBomb(
            f"{size[0]}x{size[1]} pixels is more than the "
            f"{image_module.MAX_IMAGE_PIXELS} allowed."
        )
    return int(size[0]), int(size[1])


def _read_head(stream: IO[bytes], size: int) -> bytes:
    parts = []
    while size > 0 and (chunk := stream.read(size)):
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


def read_head(stream: IO[bytes]) -> bytes:
    """The first bytes of ``stream`` from where it is, as the checks of
    content read them (a stored file's, to check it like an upload)."""
    return _read_head(stream, SNIFF_BYTES)


def peek(stream: IO[bytes]) -> bytes:
    """The first bytes of a seekable upload, leaving it where it was.

    An upload that cannot seek gives ``b""``: it cannot be read twice.
    """
    seekable = getattr(stream, "seekable", None)
    if seekable is None or not seekable():
        return b""
    where = stream.tell()
    try:
        stream.seek(0)
        return _read_head(stream, SNIFF_BYTES)
    finally:
        stream.seek(where)


class Measured(io.RawIOBase):
    """A stream that hashes and counts what is read through it.

    Its first :data:`~flask_store.content.SNIFF_BYTES` are read at once, for
    the type and image size, and handed out again first. Once the stream is
    read to its end, :meth:`metadata` describes it.

    :param stream: the upload; read from where it is.
    :param filename: the name it was uploaded under.
    """

    def __init__(self, stream: IO[bytes], filename: str) -> None:
        super().__init__()
        self.stream = stream
        self.filename = filename
        seekable = getattr(stream, "seekable", None)
        #: Where the stream was when measuring began, when it can seek.
        self.start = stream.tell() if seekable is not None and seekable() else None
        self._hash = Digest()
        self._size = 0
        self._ended = False
        self._described: FileMetadata | None = None
        #: The first bytes, as read before anything else.
        self.head = self._take(SNIFF_BYTES)
        self._pending = memoryview(self.head)
        #: The type by content (by name for text).
        self.content_type = content_type(self.head, filename)
        try:
            self.image_size = (
                image_size(self.head)
                if self.content_type.startswith("image/")
                else None
            )
        except DecompressionBomb:
            self.image_size = None

    def _take(self, size: int) -> bytes:
        data = _read_head(self.stream, size) if size > 0 else b""
        if len(data) < size:
            self._ended = True
        self._hash.update(data)
        self._size += len(data)
        return data

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1, /) -> bytes:
        if self._pending:
            n = len(self._pending) if size is None or size < 0 else size
            chunk, self._pending = bytes(self._pending[:n]), self._pending[n:]
            if size is None or size < 0:
                return chunk + self.read()
            return chunk
        if self._ended:
            return b""
        if size is None or size < 0:
            parts = []
            while chunk := self.read(_CHUNK):
                parts.append(chunk)
            return b"".join(parts)
        data = self.stream.read(size)
        if not data:
            self._ended = True
        self._hash.update(data)
        self._size += len(data)
        return data

    def readinto(self, buffer: Any, /) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def finish(self) -> None:
        """Read (and hash) whatever the reader left unread."""
        self._pending = memoryview(b"")
        while not self._ended:
            self.read(_CHUNK)

    def finish_beside(self) -> bool:
        """Hash the rest of a regular file in a worker thread, so the caller
        may copy the file (rewound to :attr:`start`) meanwhile; ``False``, and
        nothing done, for a stream that is no regular file."""
        fileno = getattr(self.stream, "fileno", None)
        if self.start is None or fileno is None or self._ended:
            return False
        try:
            descriptor = fileno()
        except (OSError, ValueError):  # io.UnsupportedOperation is both
            return False
        offset = self.stream.tell()
        if not self._hash.update_from_file(descriptor, offset):
            return False
        self._pending = memoryview(b"")
        self._ended = True
        return True

    @property
    def hashing_beside(self) -> bool:
        """Whether a worker thread hashes beside the reader (a large file)."""
        return self._hash.in_background

    def close(self) -> None:
        """Stop hashing: the stream itself is not closed (it is the caller's)."""
        self._hash.close()
        super().close()

    def metadata(self) -> FileMetadata:
        """What was read: the whole stream (what is left is read first)."""
        if self._described is None:
            self.finish()
            sha256 = self._hash.hexdigest()
            width, height = self.image_size or (None, None)
            self._described = FileMetadata(
                size=self._size + self._hash.file_bytes,
                content_type=self.content_type,
                sha256=sha256,
                filename=self.filename,
                width=width,
                height=height,
            )
        return self._described

    @contextlib.contextmanager
    def completed(self) -> Iterator[IO[bytes]]:
        """The same bytes as a seekable stream at its start, once measured.

        For backends that must know the checksum before they write (S3
        sends it with the upload): a seekable upload is read once to hash
        it and rewound; any other is copied to a temporary file as it is
        hashed.
        """
        if self.start is not None:
            self.finish()
            self.stream.seek(self.start)
            yield self.stream
            return
        with tempfile.SpooledTemporaryFile(max_size=8 * _CHUNK) as copy:
            shutil.copyfileobj(self, copy, _CHUNK)
            copy.seek(0)
            yield copy
