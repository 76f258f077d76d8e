"""Background uploads, copies and moves record metadata as plain saves do:
afterwards ``provider.metadata`` gives the SHA-256, the type by content, the
size, the uploaded name and the image size, on every provider."""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flask_store import store_provider
from flask_store.backends import s3_copy
from flask_store.metadata import FileMetadata
from flask_store.providers.s3 import S3GeventProvider, S3Provider, wait_for_uploads

from . import s3_support
from .conftest import upload
from .hostile_files import image
from .s3_support import Faults, Requests, is_final_upload, s3_app
from .test_s3_gevent import gevent_app

# The S3 fixtures, used by name below.
moto_server = s3_support.moto_server
s3_endpoint = s3_support.s3_endpoint
bucket = s3_support.bucket
raw = s3_support.raw

PHOTO = image("PNG", 64, 48)

#: What a save of PHOTO uploaded as "Summer Photo.png" measures.
MEASURED = FileMetadata(
    size=len(PHOTO),
    content_type="image/png",
    sha256=hashlib.sha256(PHOTO).hexdigest(),
    filename="Summer Photo.png",
    width=64,
    height=48,
)


def recorded(app: Flask, path: str) -> FileMetadata:
    """The metadata of ``path`` as a new handle reads it from the storage."""
    with app.app_context():
        return store_provider()(path).metadata


@pytest.mark.parametrize("how", ["copy", "move"])
def test_a_copy_or_move_keeps_the_originals_metadata(storage: Flask, how: str) -> None:
    saved = store_provider()(upload(PHOTO, "Summer Photo.png"), "pics").save()
    backend = saved.backend
    path = getattr(backend, how)(saved.relative_path, "archive")
    assert path == "archive/Summer_Photo.png"
    assert recorded(storage, path) == MEASURED
    # A new name that says otherwise does not change what the file is.
    other = getattr(backend, how)(path, "renamed", name="photo.bin")
    assert recorded(storage, other) == MEASURED


@pytest.mark.parametrize("how", ["copy", "move"])
def test_a_type_from_the_name_follows_a_rename(storage: Flask, how: str) -> None:
    saved = store_provider()(upload(b"# Notes\n\nplain words", "a.txt")).save()
    assert recorded(storage, "a.txt").content_type == "text/plain"
    path = getattr(saved.backend, how)("a.txt", "", name="a.md")
    assert path == "a.md"
    after = recorded(storage, "a.md")
    assert after.content_type == "text/markdown"
    assert (after.size, after.sha256, after.filename) == (
        len(b"# Notes\n\nplain words"),
        hashlib.sha256(b"# Notes\n\nplain words").hexdigest(),
        "a.txt",
    )
    # Moved back under a name of no known type, it is plain bytes again.
    back = saved.backend.move("a.md", "", name="a.data")
    assert recorded(storage, back).content_type == "application/octet-stream"


def test_a_copy_of_a_file_without_a_record_is_measured(storage: Flask) -> None:
    backend = storage.extensions["store"].backend
    # Written without a save (as another tool would): no record.
    backend.write(io.BytesIO(PHOTO), ["outside.png"])
    assert recorded(storage, "outside.png").sha256 is None
    copied = backend.copy("outside.png", "copies")
    if storage.config["STORE_PROVIDER"].endswith("S3Provider"):
        # S3 copies the bytes itself, unread: the copy has what the original had.
        assert recorded(storage, copied) == recorded(storage, "outside.png")
        return
    assert recorded(storage, copied) == FileMetadata(
        size=len(PHOTO),
        content_type="image/png",
        sha256=MEASURED.sha256,
        filename="outside.png",
        width=64,
        height=48,
    )


def s3_saved(app: Flask) -> S3Provider:
    with app.app_context():
        saved = S3Provider(upload(PHOTO, "Summer Photo.png"), "pics").save()
    assert wait_for_uploads(timeout=30)
    return saved


def test_an_s3_part_copy_keeps_the_type_by_content_and_the_record(
    tmp_path: Path, bucket: str, s3_endpoint: str | None, raw: Any
) -> None:
    app = s3_app(tmp_path, bucket, s3_endpoint)
    saved = s3_saved(app)
    requests = Requests(app)
    with app.app_context():
        copied = saved.backend.copy(saved.relative_path, "archive", name="photo.bin")
    assert "UploadPartCopy" in requests.sent and "GetObject" not in requests.sent
    head = raw.head_object(Bucket=bucket, Key=copied)
    assert head["ContentType"] == "image/png"  # the content's, not the name's
    assert head["ContentDisposition"] == "attachment"  # the name's type is unsafe
    assert recorded(app, copied) == MEASURED


def test_an_s3_copy_through_the_app_is_measured(
    tmp_path: Path,
    bucket: str,
    s3_endpoint: str | None,
    raw: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = s3_app(tmp_path, bucket, s3_endpoint)
    saved = s3_saved(app)

    def unsupported(*args: Any) -> bool:
        raise s3_copy.CopyUnsupported

    monkeypatch.setattr(s3_copy, "copy_object", unsupported)
    with app.app_context():
        moved = saved.backend.move(saved.relative_path, "archive")
    assert recorded(app, moved) == MEASURED
    head = raw.head_object(Bucket=bucket, Key=moved, ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == MEASURED.sha256_base64


def test_a_background_upload_carries_the_metadata(
    tmp_path: Path, bucket: str, s3_endpoint: str | None, raw: Any
) -> None:
    app = gevent_app(tmp_path, bucket, s3_endpoint)
    with app.app_context():
        saved = S3GeventProvider(upload(PHOTO, "Summer Photo.png"), "pics").save()
        assert saved.metadata == MEASURED  # what the save measured, at once
    assert wait_for_uploads(timeout=30)
    assert recorded(app, saved.relative_path) == MEASURED
    head = raw.head_object(
        Bucket=bucket, Key="pics/Summer_Photo.png", ChecksumMode="ENABLED"
    )
    assert head["ContentType"] == "image/png"
    assert head["ChecksumSHA256"] == MEASURED.sha256_base64


def test_background_copies_through_the_app_carry_it_too(
    tmp_path: Path,
    bucket: str,
    s3_endpoint: str | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = gevent_app(tmp_path, bucket, s3_endpoint)
    with app.app_context():
        saved = S3GeventProvider(upload(PHOTO, "Summer Photo.png")).save()
    assert wait_for_uploads(timeout=30)

    def unsupported(*args: Any) -> bool:
        raise s3_copy.CopyUnsupported

    monkeypatch.setattr(s3_copy, "copy_object", unsupported)
    with app.app_context():
        copied = saved.backend.copy(saved.relative_path, "copies")
    assert wait_for_uploads(timeout=30)
    assert recorded(app, copied) == MEASURED


def test_a_background_upload_finished_by_cleanup_carries_the_metadata(
    tmp_path: Path, bucket: str, s3_endpoint: str | None, raw: Any
) -> None:
    app = gevent_app(
        tmp_path,
        bucket,
        s3_endpoint,
        STORE_S3_MAX_ATTEMPTS=1,
        STORE_S3_BACKGROUND_ATTEMPTS=1,
    )
    faults = Faults(app)
    faults.fail(
        "PutObject", times=1, status=500, code="InternalError", only=is_final_upload
    )
    with app.app_context():
        saved = S3GeventProvider(upload(PHOTO, "Summer Photo.png")).save()
    assert wait_for_uploads(timeout=30)
    (ticket_file,) = (tmp_path / "spool").glob("*.json")
    assert json.loads(ticket_file.read_text())["metadata"] == MEASURED.to_dict()
    # The spooled upload waits for `flask store cleanup`, which finishes it.
    for spooled in (tmp_path / "spool").glob("*.upload"):
        os.utime(spooled, (0, 0))
    result = app.test_cli_runner().invoke(
        args=["store", "cleanup", "--older-than", "1s", "--yes"]
    )
    assert result.exit_code == 0, result.output
    assert "re-uploaded to " + saved.relative_path in result.output
    assert recorded(app, saved.relative_path) == MEASURED
    head = raw.head_object(
        Bucket=bucket, Key=saved.absolute_path, ChecksumMode="ENABLED"
    )
    assert head["ChecksumSHA256"] == MEASURED.sha256_base64
