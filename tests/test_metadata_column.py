"""``FlaskStoreType(metadata_column=...)``: a row's file metadata without storage I/O."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, select

from flask_store import Store
from flask_store.sqla import FlaskStoreType

from .conftest import make_app, upload
from .hostile_files import image

db = SQLAlchemy()


class Photo(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "metadata_column_photo"
    id = db.Column(db.Integer, primary_key=True)
    file = db.Column(FlaskStoreType(128, location="photos", metadata_column="meta"))
    meta = db.Column(JSON)


class Plain(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "metadata_column_plain"
    id = db.Column(db.Integer, primary_key=True)
    file = db.Column(FlaskStoreType(128))


@pytest.fixture
def app(tmp_path: Any) -> Iterator[Flask]:
    app = make_app(
        tmp_path,
        STORE_PROVIDER="flask_store.providers.memory.MemoryProvider",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'db.sqlite'}",
    )
    Store(app)
    db.init_app(app)
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()


def storage_calls(app: Flask) -> list[str]:
    """The backend calls made from now on (a list that fills as they happen)."""
    backend = app.extensions["store"].backend
    calls: list[str] = []
    for name in ("metadata", "stat", "open", "exists"):
        original = getattr(backend, name)

        def spy(*args: Any, _name: str = name, _original: Any = original) -> Any:
            calls.append(_name)
            return _original(*args)

        setattr(backend, name, spy)
    return calls


def test_a_loaded_row_knows_its_file_without_the_storage(app: Flask) -> None:
    data = image("PNG", 40, 30)
    db.session.add(Photo(file=upload(data, "cat.png")))
    db.session.commit()
    row = db.session.execute(select(Photo.meta)).scalar_one()
    assert row["sha256"] == hashlib.sha256(data).hexdigest()
    db.session.expunge_all()

    calls = storage_calls(app)
    photo = db.session.execute(select(Photo)).scalar_one()
    metadata = photo.file.metadata
    assert (metadata.width, metadata.height, metadata.filename) == (40, 30, "cat.png")
    assert metadata.content_type == "image/png"
    assert calls == []  # nothing asked of the storage


def test_a_path_assigned_clears_the_metadata(app: Flask) -> None:
    photo = Photo(file=upload(image("GIF"), "a.gif"))
    db.session.add(photo)
    db.session.commit()
    other = app.extensions["store"].provider(upload(b"GIF89a", "b.gif")).save()
    photo.file = "b.gif"
    db.session.commit()
    assert photo.meta is None
    assert photo.file.relative_path == other.relative_path
    # Without a record in the row, the metadata comes from the storage.
    assert photo.file.metadata.sha256 == hashlib.sha256(b"GIF89a").hexdigest()


def test_the_plain_column_keeps_working(app: Flask) -> None:
    db.session.add(Plain(file=upload(b"hello", "a.txt")))
    db.session.commit()
    db.session.expunge_all()
    plain = db.session.execute(select(Plain)).scalar_one()
    assert plain.file.metadata.sha256 == hashlib.sha256(b"hello").hexdigest()
