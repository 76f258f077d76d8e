"""Symlinks planted inside the local store, pointing inside or out, are refused
alike by every entry point: the provider's operations, the admin's download,
delete, upload and new-folder views, and ``flask store rm``. A link is never
followed to its target, and deleting never removes the target."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask

from flask_store.exceptions import FolderConflict, StoredFileNotFound

from .conftest import ADMIN, admin_app, csrf_token, tree

#: Stored paths that reach a file through a symlink, inside or out.
LINKED_FILES = [
    "inside-link.txt",
    "linked-folder/a.txt",
    "out-link.txt",
    "out-folder/precious.txt",
    "sub/up-link.txt",
]

#: Locations that are symlinks to folders, inside or out.
LINKED_FOLDERS = ["linked-folder", "out-folder", "linked-folder/deeper"]


@pytest.fixture
def linked(tmp_path: Path) -> Flask:
    """A local store holding ``sub/a.txt`` and symlinks to it and out of it."""
    app = admin_app(tmp_path, "local")
    root = Path(app.config["STORE_PATH"])
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.txt").write_bytes(b"PUBLIC-BYTES")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_bytes(b"PRECIOUS-BYTES")
    (root / "inside-link.txt").symlink_to(root / "sub" / "a.txt")
    (root / "linked-folder").symlink_to(root / "sub")
    (root / "out-link.txt").symlink_to(outside / "precious.txt")
    (root / "out-folder").symlink_to(outside)
    (root / "sub" / "up-link.txt").symlink_to("../sub/a.txt")
    return app


def assert_untouched(app: Flask) -> None:
    root = Path(app.config["STORE_PATH"])
    assert (root / "sub" / "a.txt").read_bytes() == b"PUBLIC-BYTES"
    assert (
        root.parent.parent / "outside" / "precious.txt"
    ).read_bytes() == b"PRECIOUS-BYTES"
    assert tree(root.parent.parent / "outside") == {"precious.txt"}
    for link in ("inside-link.txt", "linked-folder", "out-link.txt", "out-folder"):
        assert (root / link).is_symlink(), link
    assert sorted(p.name for p in (root / "sub").iterdir()) == ["a.txt", "up-link.txt"]


@pytest.mark.parametrize("path", LINKED_FILES)
def test_provider_operations_refuse_a_linked_file(linked: Flask, path: str) -> None:
    provider_class = linked.extensions["store"].provider
    with linked.app_context():
        provider = provider_class(path)
        assert not provider.exists()
        with pytest.raises(StoredFileNotFound):
            provider.open()
        with pytest.raises(StoredFileNotFound):
            provider.read()
        with pytest.raises(StoredFileNotFound):
            provider.size  # noqa: B018 - the property reads the file's size
        with pytest.raises(StoredFileNotFound):
            provider.delete()
        assert not provider_class("unrelated.txt").exists(path)
    assert_untouched(linked)


def test_listings_show_no_link_and_walk_none(linked: Flask) -> None:
    provider = linked.extensions["store"].provider
    with linked.app_context():
        assert [e.path for e in provider.list_folder().entries] == ["sub"]
        assert [e.path for e in provider.list_folder("sub").entries] == ["sub/a.txt"]
        for folder in LINKED_FOLDERS:
            assert provider.list_folder(folder).entries == []
            assert list(provider.iter_files(folder)) == []
        assert [f.path for f in provider.iter_files()] == ["sub/a.txt"]


@pytest.mark.parametrize("folder", LINKED_FOLDERS)
def test_nothing_is_saved_or_created_through_a_linked_folder(
    linked: Flask, folder: str
) -> None:
    provider = linked.extensions["store"].provider
    with linked.app_context():
        with pytest.raises(FolderConflict):
            provider(io.BytesIO(b"new"), filename="new.txt", location=folder).save()
        with pytest.raises(FolderConflict):
            provider(
                io.BytesIO(b"new"), filename="new.txt", location=folder + "/x"
            ).save()
        with pytest.raises(FolderConflict):
            provider.create_folder(folder + "/made")
    assert_untouched(linked)


@pytest.mark.parametrize("path", LINKED_FILES)
def test_the_admin_neither_downloads_nor_deletes_a_linked_file(
    linked: Flask, path: str
) -> None:
    client = linked.test_client()
    with client.get(f"{ADMIN}/file/{path}") as response:
        assert response.status_code == 404
        assert (
            b"PUBLIC-BYTES" not in response.data
            and b"PRECIOUS-BYTES" not in response.data
        )
    token = csrf_token(client)
    for confirmed in ("", "yes"):
        response = client.post(
            ADMIN + "/delete",
            data={"path": path, "confirmed": confirmed, "csrf_token": token},
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 404, response.get_data(as_text=True)
    assert_untouched(linked)
    # The real file is still downloadable.
    with client.get(f"{ADMIN}/file/sub/a.txt") as response:
        assert response.get_data() == b"PUBLIC-BYTES"


@pytest.mark.parametrize("folder", LINKED_FOLDERS)
def test_the_admin_uploads_nothing_and_makes_no_folder_through_a_link(
    linked: Flask, folder: str
) -> None:
    client = linked.test_client()
    token = csrf_token(client)
    response = client.post(
        ADMIN + "/upload",
        data={
            "location": folder,
            "file": (io.BytesIO(b"new"), "new.txt"),
            "csrf_token": token,
        },
        headers={"Accept": "application/json"},
    )
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    response = client.post(
        ADMIN + "/folder",
        data={"location": folder, "name": "made", "csrf_token": token},
        headers={"Accept": "application/json"},
    )
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    assert_untouched(linked)


@pytest.mark.parametrize("path", LINKED_FILES)
def test_cli_rm_refuses_a_linked_file(linked: Flask, path: str) -> None:
    result = linked.test_cli_runner().invoke(args=["store", "rm", path])
    assert result.exit_code != 0
    assert path in result.output
    assert f"Not stored, so not deleted: {path}" in result.output
    assert_untouched(linked)


def test_cli_rm_still_deletes_the_real_file_and_leaves_the_links(linked: Flask) -> None:
    result = linked.test_cli_runner().invoke(args=["store", "rm", "sub/a.txt"])
    assert result.exit_code == 0, result.output
    root = Path(linked.config["STORE_PATH"])
    assert not (root / "sub" / "a.txt").exists()
    assert (root / "inside-link.txt").is_symlink()


@pytest.mark.parametrize("folder", LINKED_FOLDERS)
def test_a_move_into_a_linked_folder_is_a_conflict_naming_it(
    linked: Flask, folder: str
) -> None:
    client = linked.test_client()
    response = client.post(
        ADMIN + "/move",
        data={
            "path": "sub/a.txt",
            "folder": folder,
            "name": "a.txt",
            "csrf_token": csrf_token(client),
        },
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 409, response.get_data(as_text=True)
    assert f"{folder!r} is not a folder inside STORE_PATH" in response.json["error"]
    result = linked.test_cli_runner().invoke(args=["store", "mv", "sub/a.txt", folder])
    assert result.exit_code == 1
    assert f"{folder!r} is not a folder inside STORE_PATH" in result.output
    assert "'sub/a.txt' was not moved" in result.output
    assert "is not a stored file" not in result.output
    assert "409" not in result.output  # an HTTP status means nothing in a shell
    assert_untouched(linked)
