"""Folder deletes and moves never act on an entry spelt another way.

An entry another tool wrote under a spelling that is not canonical (a name
in NFD on disk, an S3 key ``a//b.txt`` or ``a/./c.txt``) is neither deleted
nor moved with its folder: it stays, keeps the folder, and is named. A row
whose value is any spelling canonically equivalent to a path uses its file.
"""

from __future__ import annotations

import sys
import threading
import unicodedata
from typing import Any

import pytest

from flask_store.admin import changes
from flask_store.providers.base import store_state
from flask_store.sqla import references

from .test_canonical_paths import (
    ADMIN,
    Paper,
    keys,
    on_disk,
    read,
    s3_app,
    save,
    store_app,
)

NFD_NAME = unicodedata.normalize("NFD", "docs/résumé.pdf")
LEFT = (
    "Folder docs was not removed: it holds entries another tool wrote under a "
    "spelling that is not canonical, which Flask-Store does not act on"
)


def test_admin_folder_deletion_leaves_an_entry_in_nfd() -> None:
    with store_app(STORE_ADMIN_CSRF=False) as (app, factory):
        kept = save(app, b"other", "kept.txt")
        twin = on_disk(app, NFD_NAME)
        twin.write_bytes(b"used")
        with factory() as session:
            session.add(Paper(file=NFD_NAME))  # stored canonical: the NFC path
            session.commit()
        client = app.test_client()
        json = {"Accept": "application/json"}
        asked = client.post(
            ADMIN + "/delete-folder", data={"folder": "docs"}, headers=json
        )
        assert asked.status_code == 400  # kept.txt: the deletion is confirmed
        assert "1 files in it" in asked.json["error"]  # not the NFD entry

        response = client.post(
            ADMIN + "/delete-folder",
            data={"folder": "docs", "confirmed": "yes", "count": "1"},
            headers=json,
        )

        assert response.status_code == 200
        assert response.json["deleted"] == [kept]
        assert response.json["deleted_folder"] is None
        assert response.json["kept"] == [NFD_NAME]
        assert response.json["message"].startswith(LEFT)
        assert twin.read_bytes() == b"used"


def test_rm_recursive_leaves_an_entry_in_nfd_and_says_so() -> None:
    with store_app() as (app, _):
        kept = save(app, b"other", "kept.txt")
        twin = on_disk(app, NFD_NAME)
        twin.write_bytes(b"used")

        result = app.test_cli_runner().invoke(args=["store", "rm", "-r", "docs"])

        assert result.exit_code == 1
        assert f"deleted {kept}" in result.output
        assert "deleted folder docs" not in result.output
        assert "Not stored, so not deleted" not in result.output
        assert LEFT in " ".join(result.output.split())
        assert twin.read_bytes() == b"used"


def test_admin_folder_move_leaves_a_used_entry_in_nfd() -> None:
    with store_app(STORE_ADMIN_CSRF=False) as (app, factory):
        moved = save(app, b"other", "kept.txt")
        twin = on_disk(app, NFD_NAME)
        twin.write_bytes(b"used")
        with factory() as session:
            session.add(Paper(file=NFD_NAME))
            session.commit()

        response = app.test_client().post(
            ADMIN + "/move",
            data={"path": "docs", "folder": "", "name": "archive"},
            headers={"Accept": "application/json"},
        )

        assert response.status_code == 200
        assert response.json["moved"] == {"from": "docs", "to": "archive"}
        assert response.json["kept"] == [NFD_NAME]
        assert response.json["message"].startswith(LEFT)
        assert twin.read_bytes() == b"used"
        assert read(app, "archive/" + moved.rpartition("/")[2]) == b"other"


@pytest.mark.parametrize(
    "raw",
    [
        "docs/e\u0301\u0323.pdf",  # decomposed, marks out of canonical order
        "docs/\u212bngstr\u00f6m.pdf",  # U+212B ANGSTROM SIGN
        "docs/\u212aelvin.pdf",  # U+212A KELVIN SIGN for an ASCII K
        "docs/\u00e9e\u0301_x.pdf",  # composed and decomposed, a LIKE wildcard
    ],
)
def test_a_row_with_any_equivalent_spelling_keeps_its_file(raw: str) -> None:
    with store_app(STORE_ADMIN_CSRF=False) as (app, factory):
        path = save(app, b"used", raw.rpartition("/")[2])
        assert path == unicodedata.normalize("NFC", raw) != raw
        with factory() as session:
            session.connection().exec_driver_sql(
                "INSERT INTO canonical_paper (file) VALUES (?)", (raw,)
            )
            session.commit()

        result = app.test_cli_runner().invoke(args=["store", "rm", path])
        response = app.test_client().post(
            ADMIN + "/delete",
            data={"path": path, "confirmed": "yes"},
            headers={"Accept": "application/json"},
        )

        assert result.exit_code == 1
        assert f"Nothing deleted: rows use {path} (Paper #1.file)" in result.output
        assert response.status_code == 409
        assert "Paper #1.file" in response.json["error"]
        assert read(app, path) == b"used"


def test_equivalents_pattern_knows_every_ascii_character_spelt_otherwise() -> None:
    respelt = {
        char
        for code in range(0x80, sys.maxunicode + 1)
        for char in unicodedata.normalize("NFC", chr(code))
        if char.isascii()
    }
    assert respelt == set(references.RESPELT_ASCII)
    assert references.equivalents_pattern("docs/a.txt") is None
    assert references.equivalents_pattern("docs/K_1%.txt") == "docs/%\\_1\\%.txt"


# -- S3 keys other tools wrote -------------------------------------------------


def test_s3_folder_move_with_a_dot_key_finishes_and_leaves_it() -> None:
    with s3_app() as (app, _, client):
        client.put_object(Bucket="canonical-bucket", Key="media/a/./c.txt", Body=b"x")
        client.put_object(Bucket="canonical-bucket", Key="media/a/b.txt", Body=b"y")
        backend = store_state(app).backend
        done: list[Any] = []
        walker = threading.Thread(
            target=lambda: done.append(list(backend.iter_folders("a"))), daemon=True
        )
        walker.start()
        walker.join(10)
        assert done == [[]]  # "a/." is "a" again: neither reported nor walked

        result = app.test_cli_runner().invoke(args=["store", "mv", "a", "t"])

        assert result.exit_code == 1
        assert "moved a/b.txt to t/a/b.txt" in result.output
        assert "Folder a was not removed" in result.output
        assert "a/./c.txt" in result.output
        objects = keys(client)
        assert objects["media/a/./c.txt"] == b"x"
        assert objects["media/t/a/b.txt"] == b"y"


def test_s3_folder_move_leaves_a_double_slash_key_alone() -> None:
    with s3_app() as (app, _, client):
        client.put_object(Bucket="canonical-bucket", Key="media/a//b.txt", Body=b"X")
        client.put_object(Bucket="canonical-bucket", Key="media/a/b.txt", Body=b"Y")
        backend = store_state(app).backend
        with pytest.raises(ValueError, match="not a canonical stored path"):
            backend.storage.key("a//b.txt")

        plan = changes.plan_move(app, backend, "a", "", "t", check_rows=False)
        changes.do_move(backend, plan)

        assert plan.files == [("a/b.txt", "t/b.txt")]
        assert plan.left is not None and plan.left.kept == ["a//b.txt"]
        objects = keys(client)
        assert objects["media/a//b.txt"] == b"X"
        assert objects["media/t/b.txt"] == b"Y"
        assert "media/a/b.txt" not in objects

        result = app.test_cli_runner().invoke(args=["store", "rm", "-r", "a"])
        assert result.exit_code == 1
        assert "Folder a was not removed" in result.output
        assert keys(client)["media/a//b.txt"] == b"X"
