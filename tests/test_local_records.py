"""The record a local save keeps on its file: small enough for the inode,
read back whatever is in it, and records in the earlier JSON format still
read."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from flask import Flask

from flask_store import store_provider
from flask_store.backends import local_metadata
from flask_store.backends.local_metadata import ATTRIBUTE, JSON_ATTRIBUTE
from flask_store.metadata import FileMetadata

from .conftest import upload

pytestmark = pytest.mark.skipif(
    not hasattr(os, "setxattr"), reason="extended attributes are Linux's"
)

DATA = os.urandom(1024)


def xattrs_work(folder: Path) -> bool:
    probe = folder / "probe"
    probe.write_bytes(b"")
    try:
        os.setxattr(probe, "user.probe", b"1")
    except OSError:
        return False
    finally:
        probe.unlink()
    return True


@pytest.fixture(autouse=True)
def _needs_xattrs(app: Flask, tmp_path: Path) -> None:
    if not xattrs_work(tmp_path):
        pytest.skip("this filesystem keeps no user extended attributes")


def metadata_of(path: str) -> FileMetadata:
    """What a new handle of ``path`` reads from the store."""
    return store_provider()(path).metadata


def test_a_small_upload_takes_no_more_room_than_its_bytes(app: Flask) -> None:
    """ext4 keeps about 60 bytes of attributes in a file's inode; a larger
    record would take a disk block of its own."""
    saved = store_provider()(upload(DATA, "upload 1.txt")).save()
    plain = Path(app.config["STORE_PATH"]) / "plain.bin"
    plain.write_bytes(DATA)
    assert os.stat(saved.absolute_path).st_blocks == plain.stat().st_blocks
    assert metadata_of("upload_1.txt") == FileMetadata(
        size=1024,
        content_type="text/plain",
        sha256=hashlib.sha256(DATA).hexdigest(),
        filename="upload 1.txt",
    )


@pytest.mark.parametrize(
    "metadata",
    [
        FileMetadata(size=0, content_type="application/octet-stream"),
        FileMetadata(size=70_000, content_type="text/csv", filename=""),
        FileMetadata(
            size=5 * 2**32,
            content_type="image/png",
            sha256="0f" * 32,
            filename="été \udcff\0.png",  # any uploaded name, as it came
            width=64,
            height=48,
        ),
    ],
)
def test_a_record_keeps_every_field(app: Flask, metadata: FileMetadata) -> None:
    saved = store_provider()(upload(b"x", "file.bin")).save()
    saved.backend.record(saved.relative_path, metadata)
    assert metadata_of(saved.relative_path) == metadata


@pytest.mark.parametrize(
    "junk",
    [b"", b"\xff", b"\x01short", b"\x00\x05", b"\x04\x05\x00text/plain", b"{}"],
)
def test_a_record_another_tool_wrote_is_not_trusted(app: Flask, junk: bytes) -> None:
    saved = store_provider()(upload(b"hello", "hello.txt")).save()
    os.setxattr(saved.absolute_path, ATTRIBUTE, junk)
    assert metadata_of("hello.txt") == FileMetadata(size=5, content_type="text/plain")


def test_a_type_that_cannot_be_recorded_loses_only_the_record(app: Flask) -> None:
    saved = store_provider()(upload(b"hello", "hello.txt")).save()
    saved.backend.record("hello.txt", FileMetadata(size=5, content_type="text/\0x"))
    assert metadata_of("hello.txt").sha256 == hashlib.sha256(b"hello").hexdigest()


def test_a_malformed_checksum_from_elsewhere_is_left_out(app: Flask) -> None:
    saved = store_provider()(upload(b"hello", "hello.txt")).save()
    saved.backend.record(
        "hello.txt", FileMetadata(size=5, content_type="text/plain", sha256="abc")
    )
    assert metadata_of("hello.txt") == FileMetadata(size=5, content_type="text/plain")


def test_a_record_in_the_earlier_json_format_is_read(app: Flask) -> None:
    """Files saved before the packed record keep their metadata; a move that
    changes the type writes the packed record and drops the JSON one."""
    saved = store_provider()(upload(b"# Notes", "notes.txt")).save()
    os.removexattr(saved.absolute_path, ATTRIBUTE)
    earlier = {
        "size": 7,
        "content_type": "text/plain",
        "sha256": hashlib.sha256(b"# Notes").hexdigest(),
        "filename": "Notes.txt",
        "width": None,
        "height": None,
    }
    os.setxattr(saved.absolute_path, JSON_ATTRIBUTE, json.dumps(earlier).encode())
    assert metadata_of("notes.txt") == FileMetadata(**earlier)

    moved = saved.backend.move("notes.txt", "", name="notes.md")
    path = Path(app.config["STORE_PATH"]) / moved
    assert metadata_of(moved) == FileMetadata(
        **{**earlier, "content_type": "text/markdown"}
    )
    assert os.listxattr(path) == [ATTRIBUTE]
    assert local_metadata.unpack(os.getxattr(path, ATTRIBUTE)) == metadata_of(moved)
