"""STORE_EAGER_VARIANTS: an image's variants made when it is saved, by every
way of saving, and never at the cost of the save."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from PIL import Image

from flask_store import Store, store_provider, variants
from flask_store.backends.base import PageQuery
from flask_store.blueprint import blueprint
from flask_store.exceptions import NotConfiguredError, UploadFailed
from flask_store.providers.s3 import S3GeventProvider, wait_for_uploads
from flask_store.signals import variant_failed
from flask_store.sqla import FlaskStoreType

from . import s3_support
from .conftest import make_app, upload
from .hostile_files import GIF_HTML, HTML, huge_png, image
from .test_s3_gevent import gevent_app

# The S3 fixtures, used by name below.
moto_server = s3_support.moto_server
s3_endpoint = s3_support.s3_endpoint
bucket = s3_support.bucket

EAGER = [
    {"width": 200},
    {"width": 64, "height": 64, "fit": "cover", "format": "png"},
]
SPECS = [variants.VariantSpec(**options) for options in EAGER]

db = SQLAlchemy()


class Photo(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "eager_variants_photo"
    id = db.Column(db.Integer, primary_key=True)
    file = db.Column(FlaskStoreType(128, location="photos"))


def stored_bytes(app: Flask, path: str, spec: variants.VariantSpec) -> bytes | None:
    """The stored variant ``spec`` of ``path``, or None when none is stored."""
    backend = app.extensions["store"].backend
    folder = backend.list_page(variants.variants_location(path), PageQuery())
    found = [e.path for e in folder.files if e.name.endswith("-" + spec.name)]
    if not found:
        return None
    (target,) = found  # one version of the original only
    with backend.open(target) as stream:
        return bytes(stream.read())


def stored_variant(app: Flask, path: str, spec: variants.VariantSpec) -> Any:
    """The stored variant's format and size, or None when it is not stored."""
    data = stored_bytes(app, path, spec)
    if data is None:
        return None
    picture = Image.open(io.BytesIO(data))
    return picture.format, picture.size


@pytest.fixture
def failures() -> Iterator[list[dict[str, Any]]]:
    """What variant_failed was sent with, in order."""
    sent: list[dict[str, Any]] = []

    def receive(sender: Flask, **extra: Any) -> None:
        sent.append({"app": sender, **extra})

    with variant_failed.connected_to(receive):
        yield sent


@pytest.mark.store_config(STORE_EAGER_VARIANTS=EAGER)
def test_saving_an_image_makes_its_variants(
    storage: Flask, monkeypatch: pytest.MonkeyPatch, failures: list[Any]
) -> None:
    saved = store_provider()(upload(image("JPEG", 800, 600), "beach.jpg"), "pics")
    saved.save()
    assert stored_variant(storage, saved.relative_path, SPECS[0]) == (
        "WEBP",
        (200, 150),
    )
    assert stored_variant(storage, saved.relative_path, SPECS[1]) == ("PNG", (64, 64))
    assert failures == []
    # Their URLs send what the save made: nothing is rendered on request.
    monkeypatch.setattr(variants, "render", pytest.fail)
    with storage.test_client().get(saved.variant(200).url) as response:
        assert response.status_code == 200
        assert Image.open(io.BytesIO(response.data)).size == (200, 150)
    # The original is the upload, and listings still show it alone.
    assert saved.read() == image("JPEG", 800, 600)
    assert [f.path for f in saved.backend.iter_files()] == ["pics/beach.jpg"]


@pytest.mark.store_config(STORE_EAGER_VARIANTS=EAGER)
def test_files_that_are_not_images_get_none(
    storage: Flask, failures: list[Any]
) -> None:
    for data, name in [(b"plain words", "notes.txt"), (HTML, "page.html")]:
        saved = store_provider()(upload(data, name)).save()
        assert saved.read() == data
        assert [stored_variant(storage, saved.relative_path, s) for s in SPECS] == [
            None,
            None,
        ]
    assert failures == []


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (image("PNG", 800, 600)[:300], "truncated.png"),
        (b"GIF89a<html><script>alert(1)</script>", "script.gif"),
        (huge_png(), "bomb.png"),
        (HTML, "page.png"),
    ],
    ids=["truncated", "gif-header-html", "bomb", "html-named-png"],
)
@pytest.mark.store_config(STORE_EAGER_VARIANTS=EAGER)
def test_a_hostile_image_is_saved_without_variants(
    app: Flask,
    data: bytes,
    name: str,
    failures: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        saved = store_provider()(upload(data, name)).save()
    assert saved.read() == data
    assert [stored_variant(app, saved.relative_path, s) for s in SPECS] == [None, None]
    if not saved.metadata.content_type.startswith("image/"):
        assert failures == []  # not an image by content: nothing was tried
        return
    assert [(f["provider"], f["spec"]) for f in failures] == [
        (saved, spec) for spec in SPECS
    ]
    assert all(isinstance(f["exception"], variants.NotAnImage) for f in failures)
    assert "variant of '" + saved.relative_path + "' was not made" in caplog.text
    # Asked for later, the variant is refused as it would be without eager ones.
    with app.test_client().get(saved.variant(200).url) as response:
        assert response.status_code == 415


@pytest.mark.store_config(STORE_EAGER_VARIANTS=EAGER)
def test_a_gif_that_is_also_html_gets_clean_variants(app: Flask) -> None:
    saved = store_provider()(upload(GIF_HTML, "polyglot.gif")).save()
    for spec in SPECS:
        data = stored_bytes(app, saved.relative_path, spec)
        assert data is not None
        assert b"<script" not in data
        assert Image.open(io.BytesIO(data)).format == spec.format.upper()


@pytest.mark.store_config(
    STORE_EAGER_VARIANTS=EAGER,
    STORE_PROVIDER="flask_store.providers.memory.MemoryProvider",
)
def test_a_variant_the_storage_refuses_does_not_fail_the_save(
    app: Flask, monkeypatch: pytest.MonkeyPatch, failures: list[dict[str, Any]]
) -> None:
    backend = app.extensions["store"].backend
    real_write = backend.write

    def write(stream: Any, candidates: Any) -> str:
        if candidates[0].startswith(variants.VARIANTS_FOLDER):
            raise UploadFailed("the disk is full")
        return real_write(stream, candidates)

    monkeypatch.setattr(backend, "write", write)
    saved = store_provider()(upload(image("PNG", 300, 200), "cat.png")).save()
    assert saved.read() == image("PNG", 300, 200)
    assert [str(f["exception"]) for f in failures] == ["the disk is full"] * 2
    monkeypatch.undo()
    # The URL still works: it renders the variant on its first request.
    with app.test_client().get(saved.variant(200).url) as response:
        assert Image.open(io.BytesIO(response.data)).size == (200, 133)


class OneWay(io.RawIOBase):
    """An upload that can be read once only, as from a socket."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._data.readinto(buffer)


@pytest.mark.store_config(STORE_EAGER_VARIANTS=EAGER)
def test_an_upload_that_cannot_seek_is_read_back_from_the_store(
    storage: Flask,
) -> None:
    data = image("PNG", 400, 300)
    saved = store_provider()(OneWay(data), filename="once.png").save()
    assert stored_variant(storage, saved.relative_path, SPECS[0]) == (
        "WEBP",
        (200, 150),
    )


@pytest.mark.store_config(STORE_EAGER_VARIANTS=EAGER[:1])
def test_the_callers_stream_is_left_where_the_save_left_it(app: Flask) -> None:
    stream = io.BytesIO(image("PNG", 400, 300))
    store_provider()(stream, filename="a.png").save()
    assert not stream.closed
    assert stream.tell() == len(stream.getvalue())


def test_admin_uploads_make_them(tmp_path: Path) -> None:
    app = make_app(tmp_path, STORE_EAGER_VARIANTS=EAGER, STORE_ADMIN_ACCESS=True)
    app.config["WTF_CSRF_ENABLED"] = False
    app.config["STORE_ADMIN_CSRF"] = False
    Store(app)
    app.register_blueprint(blueprint, url_prefix="/admin/files")
    response = app.test_client().post(
        "/admin/files/upload",
        data={"file": [(io.BytesIO(image("PNG", 400, 300)), "dog.png")]},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert stored_variant(app, "dog.png", SPECS[1]) == ("PNG", (64, 64))


@pytest.fixture
def sqla_app(tmp_path: Path) -> Iterator[Flask]:
    app = make_app(
        tmp_path,
        STORE_EAGER_VARIANTS=EAGER,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'db.sqlite'}",
    )
    Store(app)
    db.init_app(app)
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()


def test_a_column_saves_them_and_a_rollback_deletes_them(sqla_app: Flask) -> None:
    db.session.add(Photo(file=upload(image("PNG", 400, 300), "kept.png")))
    db.session.commit()
    assert stored_variant(sqla_app, "photos/kept.png", SPECS[0]) == (
        "WEBP",
        (200, 150),
    )

    db.session.add(Photo(file=upload(image("PNG", 400, 300), "dropped.png")))
    db.session.flush()
    assert stored_variant(sqla_app, "photos/dropped.png", SPECS[0]) is not None
    db.session.rollback()
    backend = sqla_app.extensions["store"].backend
    assert not backend.exists("photos/dropped.png")
    assert [stored_variant(sqla_app, "photos/dropped.png", s) for s in SPECS] == [
        None,
        None,
    ]


def test_background_uploads_make_them_on_their_first_request(
    tmp_path: Path, bucket: str, s3_endpoint: str | None, failures: list[Any]
) -> None:
    # The version a variant belongs to is the uploaded object's: unknown
    # while the upload is under way, so none may be made then; none fails.
    app = gevent_app(tmp_path, bucket, s3_endpoint, STORE_EAGER_VARIANTS=EAGER)
    with app.app_context():
        saved = S3GeventProvider(upload(image("PNG", 400, 300), "sky.png")).save()
        assert wait_for_uploads(timeout=30)
        assert saved.read() == image("PNG", 400, 300)
        assert failures == []
        # The first request sends what it rendered, stored in the background.
        with app.test_client().get(saved.variant(200).url) as response:
            assert response.status_code == 200
            assert Image.open(io.BytesIO(response.data)).size == (200, 150)
        assert wait_for_uploads(timeout=30)
        assert stored_variant(app, "sky.png", SPECS[0]) == ("WEBP", (200, 150))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"width": 10}, "must be a list of variant options"),
        ("320x", "must be a list of variant options"),
        ([{"size": 10}], "must be a list of variant options"),
        ([{"width": 0}], "STORE_EAGER_VARIANTS: A variant's width"),
        ([{"width": 10, "format": "gif"}], "STORE_EAGER_VARIANTS: A variant's format"),
        ([{}], "STORE_EAGER_VARIANTS: Give a variant's width"),
    ],
    ids=["mapping", "string", "unknown-option", "zero", "format", "no-size"],
)
def test_impossible_settings_fail_at_init_app(
    tmp_path: Path, value: Any, message: str
) -> None:
    app = make_app(tmp_path, STORE_EAGER_VARIANTS=value)
    with pytest.raises(NotConfiguredError, match=message):
        Store(app)
    assert "store" not in app.extensions


def test_without_pillow_the_setting_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(variants, "readable_types", frozenset)
    app = make_app(tmp_path, STORE_EAGER_VARIANTS=EAGER)
    with pytest.raises(NotConfiguredError, match=r"needs Pillow.*\[images\]"):
        Store(app)
    # Without the setting, an app without Pillow starts as before.
    Store(make_app(tmp_path / "other"))


def test_docs_example_makes_them_on_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from .docs_examples import run_example

    monkeypatch.chdir(tmp_path)
    module = run_example("eager-variants", "docs_eager_variants_example")
    try:
        app: Flask = module.app
        with app.app_context():
            saved = store_provider()(upload(image("PNG", 1280, 960), "a.png")).save()
            made = [
                stored_variant(app, saved.relative_path, spec)
                for spec in app.extensions["store"].eager_variants
            ]
        assert made == [
            ("WEBP", (320, 240)),
            ("WEBP", (640, 480)),
            ("WEBP", (80, 80)),
        ]
    finally:
        sys.modules.pop("docs_eager_variants_example", None)


@pytest.mark.store_config(STORE_EAGER_VARIANTS=EAGER)
def test_flask_store_put_makes_them(storage: Flask, tmp_path: Path) -> None:
    source = tmp_path / "hill.png"
    source.write_bytes(image("PNG", 400, 300))
    result = storage.test_cli_runner().invoke(args=["store", "put", str(source)])
    assert result.exit_code == 0, result.output
    assert stored_variant(storage, "hill.png", SPECS[0]) == ("WEBP", (200, 150))


@pytest.mark.store_config(STORE_EAGER_VARIANTS=EAGER)
def test_variants_a_former_file_left_behind_are_replaced(storage: Flask) -> None:
    first = store_provider()(upload(image("PNG", 400, 300), "reused.png")).save()
    # Deleted from the storage alone (as another tool would): its variants stay.
    first.backend.delete_file(first.relative_path)
    assert stored_variant(storage, "reused.png", SPECS[0]) == ("WEBP", (200, 150))
    second = store_provider()(upload(image("PNG", 400, 100), "reused.png")).save()
    assert second.relative_path == "reused.png"
    assert stored_variant(storage, "reused.png", SPECS[0]) == ("WEBP", (200, 50))
    assert stored_variant(storage, "reused.png", SPECS[1]) == ("PNG", (64, 64))
