"""Thumbnails of loaded rows: a ``metadata_column`` keeps an image's version.

A variant's URL carries the version of its original's content. For a row
whose metadata column keeps it, building the URL asks nothing of the
storage (on S3: no HEAD per row), and the URL still refuses to stand for
another file rewritten at the same path.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from flask_store import store_provider
from flask_store.exceptions import StorageError
from flask_store.state import store_state

from . import s3_support
from .conftest import upload
from .test_metadata_column import Photo, db, storage_calls
from .test_variants_lifecycle import BLUE, RED, centre, close_to, fetch, png

moto_server, s3_endpoint = s3_support.moto_server, s3_support.s3_endpoint
bucket, s3app = s3_support.bucket, s3_support.s3app


def with_table(app: Flask, tmp_path: Any) -> Iterator[Flask]:
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'db.sqlite'}"
    db.init_app(app)
    db.create_all()
    yield app
    db.session.remove()
    db.drop_all()


@pytest.fixture
def rows(storage: Flask, tmp_path: Any) -> Iterator[Flask]:
    """The app of ``storage`` with the photos table, in a SQLite file."""
    yield from with_table(storage, tmp_path)


@pytest.fixture
def s3_rows(s3app: Flask, tmp_path: Any) -> Iterator[Flask]:
    """An S3 app (moto in-process, and moto's HTTP server) with the table."""
    yield from with_table(s3app, tmp_path)


def add_photo(data: bytes, filename: str = "cover.png") -> str:
    db.session.add(Photo(file=upload(data, filename)))
    db.session.commit()
    db.session.expunge_all()
    path: str = db.session.execute(select(Photo)).scalar_one().file.relative_path
    db.session.expunge_all()
    return path


def test_a_loaded_rows_thumbnail_asks_nothing_of_the_storage(rows: Flask) -> None:
    path = add_photo(png((600, 300), RED))
    sent = s3_support.Requests(rows) if rows.config.get("STORE_S3_BUCKET") else None
    calls = storage_calls(rows)
    photo = db.session.execute(select(Photo)).scalar_one()
    url = photo.file.variant(120).url
    assert calls == []
    if sent is not None:
        assert sent.sent == []  # no HEAD for the version
    # The version kept is the one a stat gives: a fresh handle's URL is the same.
    assert store_provider()(path).variant(120).url == url
    status, picture = fetch(rows, url)
    assert status == 200 and picture is not None
    assert picture.size == (120, 60) and close_to(centre(picture), RED)


def test_only_images_keep_a_version(rows: Flask) -> None:
    add_photo(b"just text", "notes.txt")
    meta = db.session.execute(select(Photo.meta)).scalar_one()
    assert meta["content_type"] == "text/plain"
    assert "version" not in meta


def test_a_row_without_a_kept_version_stats_once(rows: Flask) -> None:
    path = add_photo(png((300, 300), BLUE))
    meta = dict(db.session.execute(select(Photo.meta)).scalar_one())
    del meta["version"]  # as rows saved before versions were kept
    db.session.execute(update(Photo).values(meta=meta))
    db.session.commit()
    db.session.expunge_all()
    calls = storage_calls(rows)
    photo = db.session.execute(select(Photo)).scalar_one()
    assert photo.file.metadata.width == 300  # still from the column
    url = photo.file.variant(100).url
    assert calls == ["stat"]
    assert url == store_provider()(path).variant(100).url
    assert fetch(rows, url)[0] == 200


def test_a_file_rewritten_by_another_tool_never_gets_the_rows_old_thumbnail(
    rows: Flask,
) -> None:
    path = add_photo(png((400, 200), RED))
    photo = db.session.execute(select(Photo)).scalar_one()
    old_url = photo.file.variant(100).url
    assert fetch(rows, old_url)[0] == 200
    # Another tool replaces the file at the same path.
    backend = store_state(rows).backend
    backend.delete_file(path)
    assert backend.write(io.BytesIO(png((400, 200), BLUE)), [path]) == path
    db.session.expunge_all()
    photo = db.session.execute(select(Photo)).scalar_one()
    # The row's kept version is the old content's: its URL is refused...
    assert photo.file.variant(100).url == old_url
    assert fetch(rows, old_url)[0] == 404
    # ...and a fresh handle of the path gets the new image's thumbnail.
    status, picture = fetch(rows, store_provider()(path).variant(100).url)
    assert status == 200 and close_to(centre(picture), BLUE)


def test_a_page_of_s3_rows_sends_no_request_for_its_thumbnails(
    s3_rows: Flask,
) -> None:
    for colour in (RED, BLUE, RED):
        db.session.add(Photo(file=upload(png((300, 200), colour), "cover.png")))
    db.session.commit()
    db.session.expunge_all()
    sent = s3_support.Requests(s3_rows)
    photos = db.session.execute(select(Photo)).scalars().all()
    urls = [photo.file.variant(100).url for photo in photos]
    assert sent.sent == []
    assert len(set(urls)) == 3
    for url, colour in zip(urls, (RED, BLUE, RED), strict=True):
        status, picture = fetch(s3_rows, url)
        assert status == 200 and close_to(centre(picture), colour)


def test_a_storage_failing_to_tell_the_version_never_fails_the_flush(
    rows: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = store_state(rows).backend

    def unanswered(path: str) -> Any:
        raise StorageError("The storage did not answer.")

    monkeypatch.setattr(backend, "stat", unanswered)
    path = add_photo(png((200, 100), RED))
    meta = db.session.execute(select(Photo.meta)).scalar_one()
    assert meta["width"] == 200 and "version" not in meta
    monkeypatch.undo()
    db.session.expunge_all()
    photo = db.session.execute(select(Photo)).scalar_one()
    # The row's thumbnail then costs one stat, and works.
    url = photo.file.variant(100).url
    assert url == store_provider()(path).variant(100).url
    assert fetch(rows, url)[0] == 200
