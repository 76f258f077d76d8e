"""The backend's copy, move and folder deletion, on every backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from flask_store import store_provider

from .conftest import upload


def backend_of(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["store"].backend


def test_copy_keeps_the_name_where_it_is_free(storage: Flask) -> None:
    saved = store_provider()(upload(b"one", "a.txt"), location="docs").save()
    copied = backend_of(storage).copy(saved.relative_path, "archive")
    assert copied == "archive/a.txt"
    assert store_provider()(copied).read() == b"one"
    assert saved.read() == b"one"  # the original stays


def test_copy_never_overwrites(storage: Flask) -> None:
    first = store_provider()(upload(b"one", "a.txt"), location="docs").save()
    store_provider()(upload(b"other", "a.txt"), location="archive").save()
    copied = backend_of(storage).copy(first.relative_path, "archive")
    assert copied != "archive/a.txt" and copied.startswith("archive/a_")
    assert store_provider()("archive/a.txt").read() == b"other"
    assert store_provider()(copied).read() == b"one"


def test_move_takes_the_file_away(storage: Flask) -> None:
    saved = store_provider()(upload(b"one", "a.txt"), location="docs").save()
    moved = backend_of(storage).move(saved.relative_path, "archive")
    assert moved == "archive/a.txt"
    assert not saved.exists()
    assert store_provider()(moved).read() == b"one"


def test_delete_folder_deletes_what_is_under_it_only(storage: Flask) -> None:
    backend = backend_of(storage)
    backend.create_folder("docs/empty")
    kept = store_provider()(upload(b"k", "keep.txt"), location="other").save()
    paths = [
        store_provider()(upload(b"x", name), location=folder).save().relative_path
        for folder, name in [("docs", "a.txt"), ("docs/deep", "b.txt")]
    ]
    assert sorted(backend.delete_folder("docs")) == sorted(paths)
    assert [e.name for e in backend.list_folder("").entries] == ["other"]
    assert kept.read() == b"k"


def test_delete_folder_refuses_the_root(storage: Flask) -> None:
    saved = store_provider()(upload(b"x", "a.txt")).save()
    with pytest.raises(ValueError, match="root"):
        backend_of(storage).delete_folder("")
    assert saved.exists()


def test_delete_folder_never_follows_a_symlink_out_of_the_store(
    app: Flask, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_bytes(b"keep")
    store_provider()(upload(b"x", "a.txt"), location="docs").save()
    root = Path(app.config["STORE_PATH"])
    (root / "docs" / "link").symlink_to(outside)
    (root / "docs" / "file-link.txt").symlink_to(outside / "precious.txt")
    assert backend_of(app).delete_folder("docs") == ["docs/a.txt"]
    assert (outside / "precious.txt").read_bytes() == b"keep"
    assert (root / "docs" / "link").is_symlink()  # left alone, not followed


def test_a_local_move_is_a_link_not_a_copy(app: Flask) -> None:
    saved = store_provider()(upload(b"one", "a.txt"), location="docs").save()
    root = Path(app.config["STORE_PATH"])
    inode = (root / "docs" / "a.txt").stat().st_ino
    moved = backend_of(app).move(saved.relative_path, "archive")
    assert moved == "archive/a.txt"
    assert (root / "archive" / "a.txt").stat().st_ino == inode
    assert not (root / "docs" / "a.txt").exists()


def test_a_local_move_never_moves_a_symlink(app: Flask, tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_bytes(b"secret")
    root = Path(app.config["STORE_PATH"])
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "link.txt").symlink_to(outside)
    with pytest.raises(FileNotFoundError):
        backend_of(app).move("docs/link.txt", "archive")
    assert not (root / "archive").exists()
    assert (root / "docs" / "link.txt").is_symlink()
