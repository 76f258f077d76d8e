"""Image variants never outlive their original, nor pass for another file.

On local, memory and S3 (moto): whatever moves or deletes an original (code,
the admin, the command line), its variants go with it, and an image saved
later at the same path gets variants (and URLs) of its own.
"""

from __future__ import annotations

import html
import io
import json
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from PIL import Image

from flask_store import store_provider, variants
from flask_store.backends import variant_files
from flask_store.blueprint import blueprint
from flask_store.contrib.flask_admin.storage import StoreFileStorage
from flask_store.signing import stable_serializer
from flask_store.sqla import FlaskStoreType
from flask_store.state import store_state

from . import s3_support

moto_server = s3_support.moto_server
s3rver = s3_support.s3rver

RED = (200, 30, 30)
BLUE = (20, 40, 210)
ADMIN = "/admin"


def png(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def save(data: bytes, filename: str = "photo.png", location: str = "pics") -> Any:
    return store_provider()(io.BytesIO(data), location, filename=filename).save()


def fetch(app: Flask, url: str) -> tuple[int, Image.Image | None]:
    """The status of a variant's URL and, when it is sent, the decoded image."""
    with app.test_client().get(url) as response:
        if response.status_code != 200:
            return response.status_code, None
        picture = Image.open(io.BytesIO(response.data))
        picture.load()
        return 200, picture.convert("RGB")


def centre(picture: Image.Image | None) -> Any:
    assert picture is not None
    return picture.getpixel((picture.width // 2, picture.height // 2))


def close_to(found: Any, colour: tuple[int, int, int]) -> bool:
    """Whether a decoded pixel is ``colour``, give or take lossy WebP."""
    return all(abs(a - b) <= 12 for a, b in zip(found, colour, strict=True))


def stored_variants(app: Flask) -> list[str]:
    """Every file in the hidden variants folder, listed through the backend."""
    backend = store_state(app).backend
    return sorted(e.path for e in variant_files.walk(backend, variants.VARIANTS_FOLDER))


def test_a_new_image_at_a_moved_ones_path_gets_its_own_variant(storage: Flask) -> None:
    first = save(png((800, 600), RED))
    old_url = first.variant(200).url
    status, picture = fetch(storage, old_url)
    assert status == 200 and picture is not None
    assert picture.size == (200, 150) and close_to(centre(picture), RED)

    backend = store_state(storage).backend
    assert backend.move("pics/photo.png", "archive") == "archive/photo.png"
    assert stored_variants(storage) == []
    assert fetch(storage, old_url)[0] == 404  # nothing at that path now

    second = save(png((400, 100), BLUE))
    assert second.relative_path == "pics/photo.png"
    new_url = second.variant(200).url
    assert new_url != old_url
    status, picture = fetch(storage, new_url)
    assert status == 200 and picture is not None
    assert picture.size == (200, 50) and close_to(centre(picture), BLUE)
    # The first image's URL never shows the second image.
    assert fetch(storage, old_url)[0] == 404
    # The moved image has variants of its own, at its new path.
    status, picture = fetch(
        storage, store_provider()("archive/photo.png").variant(200).url
    )
    assert status == 200 and close_to(centre(picture), RED)


def test_a_variant_url_of_a_replaced_original_is_refused(storage: Flask) -> None:
    first = save(png((300, 300), RED))
    old_url = first.variant(100).url
    assert fetch(storage, old_url)[0] == 200
    # Deleted from the storage alone (another tool): its stored variant stays.
    store_state(storage).backend.delete_file(first.relative_path)
    save(png((300, 300), BLUE))
    assert fetch(storage, old_url)[0] == 404
    assert len(stored_variants(storage)) == 1  # the stale one, never sent again


@pytest.mark.parametrize(
    "value",
    [
        ["pics/photo.png", 100, None, "webp", "contain"],  # before versions
        ["pics/photo.png", 7, 100, None, "webp", "contain"],  # not a version
        ["pics/photo.png", "0123456789ab", 100, None, "webp", "contain"],
    ],
    ids=["before versions", "bad version", "another version"],
)
def test_a_signed_token_of_no_current_version_is_refused(
    storage: Flask, value: list[Any]
) -> None:
    save(png((300, 300), RED))
    token = stable_serializer(storage, "variant").dumps(value)
    with storage.test_client().get(f"/_flask_store/variants/{token}") as response:
        assert response.status_code == 404
        assert "variant" in response.get_data(as_text=True)
    assert stored_variants(storage) == []


@pytest.mark.parametrize(
    "operation",
    [
        lambda backend: backend.delete("pics/photo.png"),
        lambda backend: backend.move("pics/photo.png", "", name="renamed.png"),
        lambda backend: backend.delete_folder("pics"),
    ],
    ids=["delete", "move", "delete_folder"],
)
def test_backend_operations_leave_no_variants(storage: Flask, operation: Any) -> None:
    save(png((300, 200), RED)).variant(100).generate()
    save(png((300, 200), RED), "kept.png", "other").variant(100).generate()
    assert len(stored_variants(storage)) == 2
    operation(store_state(storage).backend)
    kept = stored_variants(storage)
    assert len(kept) == 1 and kept[0].startswith(
        ".flask-store-variants/other/kept.png/"
    )


@pytest.fixture
def admin(storage: Flask) -> Any:
    storage.config.update(STORE_ADMIN_ACCESS=True, STORE_ADMIN_CSRF=False)
    storage.register_blueprint(blueprint, url_prefix=ADMIN)
    for path in ("pics/photo.png", "pics/sub/deep.png", "other/kept.png"):
        location, _, name = path.rpartition("/")
        save(png((300, 200), RED), name, location).variant(100).generate()
    assert len(stored_variants(storage)) == 3
    return storage.test_client()


def only_kept(app: Flask) -> bool:
    return [p.rsplit("/", 1)[0] for p in stored_variants(app)] == [
        ".flask-store-variants/other/kept.png"
    ]


def test_admin_rename_leaves_no_variants(storage: Flask, admin: Any) -> None:
    data = {"path": "pics/photo.png", "folder": "pics", "name": "new.png"}
    assert admin.post(f"{ADMIN}/move", data=data).status_code == 302
    assert {p.rsplit("/", 1)[0] for p in stored_variants(storage)} == {
        ".flask-store-variants/pics/sub/deep.png",
        ".flask-store-variants/other/kept.png",
    }


def test_admin_folder_move_leaves_no_variants(storage: Flask, admin: Any) -> None:
    data = {"path": "pics", "folder": "", "name": "moved"}
    assert admin.post(f"{ADMIN}/move", data=data).status_code == 302
    assert store_state(storage).backend.exists("moved/sub/deep.png")
    assert only_kept(storage)


def test_admin_folder_delete_leaves_no_variants(storage: Flask, admin: Any) -> None:
    confirm = {"folder": "pics", "confirmed": "yes", "count": "2", "used_by": "[]"}
    assert admin.post(f"{ADMIN}/delete-folder", data=confirm).status_code == 302
    assert only_kept(storage)


def test_admin_selection_delete_leaves_no_variants(storage: Flask, admin: Any) -> None:
    data = {
        "paths": ["pics/photo.png", "pics/sub/deep.png"],
        "action": "delete",
        "confirmed": "yes",
        "count": "2",
        "used_by": "[]",
    }
    assert admin.post(f"{ADMIN}/selection", data=data).status_code == 302
    assert only_kept(storage)


@pytest.mark.parametrize(
    "args",
    [
        ["mv", "pics/photo.png", "pics/sub/deep.png", "elsewhere"],
        ["rm", "pics/photo.png", "pics/sub/deep.png"],
        ["rm", "-r", "pics"],
    ],
    ids=["mv", "rm", "rm -r"],
)
def test_cli_leaves_no_variants(storage: Flask, admin: Any, args: list[str]) -> None:
    result = storage.test_cli_runner().invoke(args=["store", *args])
    assert result.exit_code == 0, result.output
    assert only_kept(storage)


db = SQLAlchemy()


class Album(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "variants_lifecycle_album"
    id = db.Column(db.Integer, primary_key=True)
    cover = db.Column(FlaskStoreType(128))


@pytest.fixture
def gone_original(storage: Flask, tmp_path: Path) -> Iterator[Flask]:
    """Two images with variants, one used by a row; the other's file deleted
    by another tool, leaving its variants behind."""
    storage.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'db.sqlite'}"
    db.init_app(storage)
    db.create_all()
    kept = save(png((300, 200), RED), "kept.png", "")
    kept.variant(100).generate()
    db.session.add(Album(cover=kept.relative_path))
    db.session.commit()
    gone = save(png((300, 200), BLUE), "gone.png", "")
    gone.variant(100).generate()
    gone.variant(50, format="png").generate()
    store_state(storage).backend.delete_file("gone.png")
    yield storage
    db.session.remove()


def test_orphans_finds_and_deletes_variants_of_a_gone_original(
    gone_original: Flask,
) -> None:
    runner = gone_original.test_cli_runner()
    args = ["store", "orphans", "--older-than", "0s", "--json"]
    listed = json.loads(runner.invoke(args=args).stdout)
    found = sorted(item["path"] for item in listed["orphaned_variants"])
    assert [p.rsplit("/", 1)[0] for p in found] == [
        ".flask-store-variants/gone.png"
    ] * 2
    assert listed["orphans"] == []  # kept.png is a row's
    assert len(stored_variants(gone_original)) == 3  # listing deletes nothing

    result = runner.invoke(args=[*args, "--delete", "--yes"])
    assert result.exit_code == 0, result.output
    assert sorted(json.loads(result.stdout)["deleted_variants"]) == found
    kept = stored_variants(gone_original)
    assert [p.rsplit("/", 1)[0] for p in kept] == [".flask-store-variants/kept.png"]
    status, picture = fetch(
        gone_original, store_provider()("kept.png").variant(100).url
    )
    assert status == 200 and close_to(centre(picture), RED)


def test_cleanup_removes_variants_of_a_gone_original(gone_original: Flask) -> None:
    runner = gone_original.test_cli_runner()
    dry = runner.invoke(args=["store", "cleanup", "--older-than", "0s", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.count(variant_files.KIND) == 2
    assert len(stored_variants(gone_original)) == 3
    result = runner.invoke(args=["store", "cleanup", "--older-than", "0s", "--yes"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("removed: .flask-store-variants/gone.png/") == 2
    kept = stored_variants(gone_original)
    assert [p.rsplit("/", 1)[0] for p in kept] == [".flask-store-variants/kept.png"]


def test_cleanup_keeps_recent_variants_and_those_of_a_living_original(
    gone_original: Flask,
) -> None:
    runner = gone_original.test_cli_runner()
    result = runner.invoke(args=["store", "cleanup", "--yes"])  # default grace
    assert result.exit_code == 0, result.output
    assert len(stored_variants(gone_original)) == 3
    # An original stored again at the path keeps the variants found before.
    backend = store_state(gone_original).backend
    found = list(backend.leftovers(older_than=timedelta(0)))
    save(png((10, 10), BLUE), "gone.png", "")
    outcomes = {
        backend.clean_leftover(item)
        for item in found
        if item.kind == variant_files.KIND
    }
    assert outcomes == {"kept (its original is stored again)"}


@pytest.mark.parametrize(
    "change",
    [
        lambda files: files.delete_tree("pics"),
        lambda files: files.rename_path("pics", "renamed"),
        lambda files: files.rename_path("pics/photo.png", "pics/new.png"),
        lambda files: files.delete_file("pics/photo.png"),
    ],
    ids=["delete_tree", "rename folder", "rename file", "delete_file"],
)
def test_flask_admin_changes_leave_no_variants(storage: Flask, change: Any) -> None:
    save(png((300, 200), RED)).variant(100).generate()
    save(png((300, 200), RED), "kept.png", "other").variant(100).generate()
    change(StoreFileStorage())
    assert only_kept(storage)


@pytest.fixture(params=["moto", "s3rver"])
def s3_server_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """An S3 app on moto's HTTP server or on s3rver, with the admin."""
    request.applymarker(pytest.mark.s3server)
    endpoint = request.getfixturevalue(
        "moto_server" if request.param == "moto" else "s3rver"
    )
    name = f"variants-{uuid.uuid4().hex[:12]}"
    s3_support.create_bucket(name, endpoint)
    app = s3_support.s3_app(
        tmp_path, name, endpoint, STORE_ADMIN_ACCESS=True, STORE_ADMIN_CSRF=False
    )
    app.register_blueprint(blueprint, url_prefix=ADMIN)
    with app.app_context():
        yield app


def test_on_real_s3_servers_listed_thumbnails_and_moves_hold(
    s3_server_app: Flask,
) -> None:
    app = s3_server_app
    save(png((800, 600), RED), "photo.png", "")
    # The admin's thumbnail, signed from the listing's ETag, is the one the
    # route accepts after its HEAD.
    page = app.test_client().get(f"{ADMIN}/").get_data(as_text=True)
    (thumbnail,) = re.findall(r'src="(/_flask_store/variants/[^"]+)"', page)
    status, picture = fetch(app, html.unescape(thumbnail))
    assert status == 200 and picture is not None
    assert picture.size == (80, 80) and close_to(centre(picture), RED)

    old_url = store_provider()("photo.png").variant(200).url
    assert fetch(app, old_url)[0] == 200
    store_state(app).backend.move("photo.png", "archive")
    assert stored_variants(app) == []
    assert save(png((400, 100), BLUE), "photo.png", "").relative_path == "photo.png"
    assert fetch(app, html.unescape(thumbnail))[0] == 404
    assert fetch(app, old_url)[0] == 404
    status, picture = fetch(app, store_provider()("photo.png").variant(200).url)
    assert status == 200 and picture is not None
    assert picture.size == (200, 50) and close_to(centre(picture), BLUE)
