"""SHA-256 computed beside the copy: the same digest, sizes and errors."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from pathlib import Path

import pytest
from flask import Flask

from flask_store.hashing import BACKGROUND_MIN, Digest
from flask_store.providers.local import LocalProvider

BIG = os.urandom(3 * BACKGROUND_MIN + 123)


def workers() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "flask-store-sha256"]


def test_small_and_large_reads_hash_in_order() -> None:
    digest = Digest()
    pieces = [b"head", BIG[:BACKGROUND_MIN], b"x" * 10, BIG, b"tail"]
    for piece in pieces:
        digest.update(piece)
    assert digest.hexdigest() == hashlib.sha256(b"".join(pieces)).hexdigest()
    assert workers() == []


def test_small_reads_start_no_thread() -> None:
    digest = Digest()
    digest.update(b"a" * 1000)
    assert digest._worker is None
    assert digest.hexdigest() == hashlib.sha256(b"a" * 1000).hexdigest()


@pytest.mark.parametrize("size", [10, 5 * BACKGROUND_MIN], ids=["small", "large"])
def test_the_rest_of_a_file(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    with open(path, "rb") as f:
        head = f.read(3)
        digest = Digest()
        digest.update(head)
        assert digest.update_from_file(f.fileno(), f.tell())
        # The file's own position is left where it was, for the copy.
        assert f.tell() == 3
        assert f.read() == data[3:]
        assert digest.hexdigest() == hashlib.sha256(data).hexdigest()
    assert digest.file_bytes == size - 3


def test_not_a_regular_file(tmp_path: Path) -> None:
    read, write = os.pipe()
    try:
        assert Digest().update_from_file(read, 0) is False
    finally:
        os.close(read)
        os.close(write)


def test_a_read_error_surfaces_at_the_digest(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(BIG)
    digest = Digest()
    with open(path, "rb") as f:
        digest.update_from_file(f.fileno(), 0)
    digest._pending.put((-1, 0))  # type: ignore[union-attr]  # a closed descriptor
    with pytest.raises(OSError):
        digest.hexdigest()


class _Pipe(io.RawIOBase):
    """A stream that is no file: copied through Python."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        return self._data.readinto(buffer)


@pytest.mark.parametrize("source", ["file", "stream", "bytes"])
def test_a_large_save_records_its_sha256(
    app: Flask, tmp_path: Path, source: str
) -> None:
    data = os.urandom(4 * 1024 * 1024 + 7)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    opened = {
        "file": lambda: open(path, "rb"),  # noqa: SIM115 - closed by the with below
        "stream": lambda: _Pipe(data),
        "bytes": lambda: io.BytesIO(data),
    }[source]()
    with app.app_context(), opened as stream:
        saved = LocalProvider(stream, filename="big.bin").save()
        assert saved.metadata.sha256 == hashlib.sha256(data).hexdigest()
        assert saved.metadata.size == len(data)
        again = LocalProvider(saved.relative_path).metadata
        assert again.sha256 == saved.metadata.sha256
        with saved.open() as f:
            assert f.read() == data
    assert workers() == []
