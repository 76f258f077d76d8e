"""Renaming, moving and deleting folders and selections from the admin.

Every change goes through the test client on local, memory and S3 (moto);
every refusal answers 4xx with a message and changes nothing.
"""

from __future__ import annotations

import html
import io
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_store import Store
from flask_store.blueprint import blueprint
from flask_store.sqla import FlaskStoreType
from flask_store.state import store_state

from .conftest import make_app

ADMIN = "/admin"
JSON = {"Accept": "application/json"}

pytestmark = pytest.mark.store_config(STORE_ADMIN_ACCESS=True, STORE_ADMIN_CSRF=False)


def stored(app: Flask) -> dict[str, bytes]:
    backend = store_state(app).backend
    found = {}
    for entry in backend.iter_files(""):
        with backend.open(entry.path) as f:
            found[entry.path] = f.read()
    return found


def setup(app: Flask) -> Any:
    backend = store_state(app).backend
    for path in ["a.txt", "b.txt", "docs/x.txt", "docs/sub/y.txt"]:
        backend.write(io.BytesIO(path.encode()), [path])
    app.register_blueprint(blueprint, url_prefix=ADMIN)
    return app.test_client()


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_rename_a_file(storage: Flask) -> None:
    client = setup(storage)
    form = text(client.get(f"{ADMIN}/move/a.txt"))
    assert 'value="a.txt"' in form
    response = client.post(
        f"{ADMIN}/move",
        data={"path": "a.txt", "folder": "", "name": "renamed.txt"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Moved a.txt to renamed.txt." in text(response)
    files = stored(storage)
    assert files["renamed.txt"] == b"a.txt"
    assert "a.txt" not in files


def test_move_a_file_into_a_new_folder(storage: Flask) -> None:
    client = setup(storage)
    response = client.post(
        f"{ADMIN}/move",
        data={"path": "a.txt", "folder": "archive/2024", "name": "a.txt"},
        headers=JSON,
    )
    assert response.json == {"moved": {"from": "a.txt", "to": "archive/2024/a.txt"}}
    assert stored(storage)["archive/2024/a.txt"] == b"a.txt"


def test_rename_a_folder_moves_its_files(storage: Flask) -> None:
    client = setup(storage)
    response = client.post(
        f"{ADMIN}/move", data={"path": "docs", "folder": "", "name": "papers"}
    )
    assert response.status_code == 302
    files = stored(storage)
    assert files["papers/x.txt"] == b"docs/x.txt"
    assert files["papers/sub/y.txt"] == b"docs/sub/y.txt"
    assert not any(p.startswith("docs/") for p in files)
    assert client.get(f"{ADMIN}/?folder=docs").status_code == 404


def test_moving_a_folder_keeps_its_empty_folders(storage: Flask) -> None:
    client = setup(storage)
    backend = store_state(storage).backend
    backend.create_folder("docs/empty/deeper")
    backend.create_folder("docs/sub/nothing")
    response = client.post(
        f"{ADMIN}/move", data={"path": "docs", "folder": "", "name": "papers"}
    )
    assert response.status_code == 302
    assert sorted(backend.iter_folders("papers")) == [
        "papers/empty",
        "papers/empty/deeper",
        "papers/sub",
        "papers/sub/nothing",
    ]
    listing = text(client.get(f"{ADMIN}/?folder=papers/empty"))
    assert "deeper" in listing
    assert client.get(f"{ADMIN}/?folder=docs").status_code == 404


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"path": "a.txt", "name": "b.txt"}, 409, "b.txt already exists"),
        ({"path": "a.txt", "name": "docs"}, 409, "docs already exists"),
        ({"path": "docs", "name": "b.txt"}, 409, "b.txt already exists"),
        ({"path": "a.txt", "name": "a.txt"}, 400, "already there"),
        ({"path": "docs", "folder": "docs/sub", "name": "docs"}, 400, "into itself"),
        ({"path": "a.txt", "name": ""}, 400, "Give the new name."),
        ({"path": "a.txt", "name": "x/y.txt"}, 400, "may not contain slashes"),
        ({"path": "a.txt", "name": ".hidden"}, 400, "may not start with a dot"),
        ({"path": "a.txt", "folder": "../up", "name": "a.txt"}, 400, ".."),
        ({"path": "../etc/passwd", "name": "x"}, 400, ".."),
        ({"path": "missing.txt", "name": "x.txt"}, 404, "missing.txt is not stored"),
        ({"path": "", "name": "x"}, 400, "root"),
    ],
)
def test_refused_moves_change_nothing(
    storage: Flask, data: dict[str, str], status: int, message: str
) -> None:
    client = setup(storage)
    before = stored(storage)
    data = {"folder": "", **data}
    response = client.post(f"{ADMIN}/move", data=data)
    assert response.status_code == status
    assert message in text(response)
    response = client.post(f"{ADMIN}/move", data=data, headers=JSON)
    assert response.status_code == status
    assert message in response.json["error"]
    assert stored(storage) == before


@pytest.mark.parametrize(
    ("name", "status", "message"),
    [
        ("x.txt", 409, "docs/x.txt already exists"),
        (".x.txt", 400, "may not start with a dot"),
    ],
)
def test_a_refused_rename_gets_the_form_again(
    storage: Flask, name: str, status: int, message: str
) -> None:
    """With what was typed and why it was refused, so another name can be
    chosen; nothing changed."""
    client = setup(storage)
    before = stored(storage)
    data = {"path": "a.txt", "folder": "docs", "name": name, "next": "/admin/?x=1"}
    response = client.post(f"{ADMIN}/move", data=data)
    assert response.status_code == status
    page = text(response)
    assert "<h1>Rename or move file a.txt</h1>" in page
    assert message in page
    for field, value in data.items():
        assert re.search(rf'name="{field}"[^>]* value="{re.escape(value)}"', page)
    assert 'aria-invalid="true"' in page
    assert stored(storage) == before


def test_moves_need_a_csrf_token(tmp_path: Any) -> None:
    app = make_app(tmp_path, STORE_ADMIN_ACCESS=True)
    Store(app)
    client = setup(app)
    before = stored(app)
    for url, data in [
        ("/move", {"path": "a.txt", "folder": "", "name": "z.txt"}),
        ("/delete-folder", {"folder": "docs", "confirmed": "yes"}),
        ("/selection", {"paths": "a.txt", "action": "delete", "confirmed": "yes"}),
    ]:
        response = client.post(ADMIN + url, data=data)
        assert response.status_code == 400
        assert "session expired" in text(response) or "CSRF" in text(response)
    assert stored(app) == before


def test_delete_an_empty_folder_at_once(storage: Flask) -> None:
    client = setup(storage)
    store_state(storage).backend.create_folder("empty")
    response = client.post(
        f"{ADMIN}/delete-folder", data={"folder": "empty"}, follow_redirects=True
    )
    assert "Deleted folder empty." in text(response)
    assert client.get(f"{ADMIN}/?folder=empty").status_code == 404


def test_delete_a_folder_after_confirming(storage: Flask) -> None:
    client = setup(storage)
    page = text(client.post(f"{ADMIN}/delete-folder", data={"folder": "docs"}))
    assert "It holds <strong>2 files</strong>" in page
    assert "docs/x.txt" in stored(storage)
    # A confirmation for fewer files than there are now asks again.
    store_state(storage).backend.write(io.BytesIO(b"new"), ["docs/new.txt"])
    confirm = {"folder": "docs", "confirmed": "yes", "count": "2", "used_by": "[]"}
    page = text(client.post(f"{ADMIN}/delete-folder", data=confirm))
    assert "It holds <strong>3 files</strong>" in page
    assert "changed since you confirmed" in page
    assert "docs/new.txt" in stored(storage)
    response = client.post(
        f"{ADMIN}/delete-folder",
        data={**confirm, "count": "3"},
        follow_redirects=True,
    )
    assert "Deleted folder docs and the 3 files in it." in text(response)
    assert sorted(stored(storage)) == ["a.txt", "b.txt"]


@pytest.mark.parametrize(
    ("folder", "status", "message"),
    [
        ("nope", 404, "There is no folder nope"),
        ("", 400, "root"),
        ("../x", 400, ".."),
    ],
)
def test_refused_folder_deletions(
    storage: Flask, folder: str, status: int, message: str
) -> None:
    client = setup(storage)
    before = stored(storage)
    data = {"folder": folder, "confirmed": "yes", "count": "0", "used_by": "[]"}
    response = client.post(f"{ADMIN}/delete-folder", data=data, headers=JSON)
    assert response.status_code == status
    assert message in response.json["error"]
    assert stored(storage) == before


def test_json_folder_deletion_needs_confirmation(storage: Flask) -> None:
    client = setup(storage)
    response = client.post(
        f"{ADMIN}/delete-folder", data={"folder": "docs"}, headers=JSON
    )
    assert response.status_code == 400
    assert "Delete folder docs and the 2 files in it?" in response.json["error"]
    assert "docs/x.txt" in stored(storage)


def test_selection_delete_and_move(storage: Flask) -> None:
    client = setup(storage)
    page = text(client.get(f"{ADMIN}/"))
    assert page.count('name="paths"') == 2  # a checkbox per file
    assert 'form="fs-selection"' in page
    data = {"paths": ["a.txt", "b.txt"], "action": "move", "target": "old"}
    response = client.post(f"{ADMIN}/selection", data=data, follow_redirects=True)
    assert "Moved 2 files to old." in text(response)
    assert {"old/a.txt", "old/b.txt"} <= set(stored(storage))
    data = {"paths": ["old/a.txt", "old/b.txt"], "action": "delete"}
    page = text(client.post(f"{ADMIN}/selection", data=data))
    assert "Delete 2 files?" in page
    assert {"old/a.txt", "old/b.txt"} <= set(stored(storage))
    data.update(confirmed="yes", count="2", used_by="[]")
    response = client.post(f"{ADMIN}/selection", data=data, follow_redirects=True)
    assert "Deleted 2 files." in text(response)
    assert not {"old/a.txt", "old/b.txt"} & set(stored(storage))


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"action": "delete"}, 400, "Select at least one file"),
        ({"paths": ["a.txt", "nope.txt"], "action": "delete"}, 404, "nope.txt"),
        ({"paths": ["a.txt", "nope.txt"], "action": "move"}, 404, "nope.txt"),
        ({"paths": ["a.txt"], "action": "burn"}, 400, "Choose delete or move"),
        ({"paths": ["a.txt"], "action": "move", "target": "../x"}, 400, ".."),
        # b.txt would be taken in "": nothing moves, a.txt neither.
        ({"paths": ["docs/x.txt", "a.txt"], "action": "move"}, 400, "already there"),
        ({"paths": ["../etc/passwd"], "action": "delete"}, 404, "not a stored"),
    ],
)
def test_refused_selections_change_nothing(
    storage: Flask, data: dict[str, Any], status: int, message: str
) -> None:
    client = setup(storage)
    before = stored(storage)
    response = client.post(
        f"{ADMIN}/selection", data={"confirmed": "yes", **data}, headers=JSON
    )
    assert response.status_code == status
    assert message in response.json["error"]
    assert stored(storage) == before


# -- files that rows use --------------------------------------------------

db = SQLAlchemy()


class Contract(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "changes_contract"
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(40))
    scan = db.Column(FlaskStoreType(128))

    def __str__(self) -> str:
        return f"Contract {self.title}"


@pytest.fixture
def with_rows(tmp_path: Any) -> Iterator[tuple[Flask, Any]]:
    app = make_app(tmp_path, STORE_ADMIN_ACCESS=True, STORE_ADMIN_CSRF=False)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path}/rows.db"
    Store(app)
    db.init_app(app)
    with app.app_context():
        db.create_all()
        client = setup(app)
        db.session.add(Contract(title="ACME", scan="docs/x.txt"))
        db.session.commit()
        yield app, client
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def test_a_used_file_is_not_moved(with_rows: tuple[Flask, Any]) -> None:
    app, client = with_rows
    before = stored(app)
    for url, data in [
        ("/move", {"path": "docs/x.txt", "folder": "docs", "name": "z.txt"}),
        ("/move", {"path": "docs", "folder": "", "name": "papers"}),
        ("/selection", {"paths": ["docs/x.txt"], "action": "move", "target": "o"}),
    ]:
        response = client.post(ADMIN + url, data=data)
        assert response.status_code == 409
        assert "rows use docs/x.txt (used by Contract ACME.scan)" in text(response)
    assert stored(app) == before


def test_deleting_used_files_names_the_rows(with_rows: tuple[Flask, Any]) -> None:
    app, client = with_rows
    page = text(client.post(f"{ADMIN}/delete-folder", data={"folder": "docs"}))
    assert "Rows use 1 of these files" in page
    assert "docs/x.txt: Contract ACME.scan" in page
    # A confirmation that did not name the row asks again.
    confirm = {"folder": "docs", "confirmed": "yes", "count": "2", "used_by": "[]"}
    page = text(client.post(f"{ADMIN}/delete-folder", data=confirm))
    assert "Contract ACME.scan" in page
    assert "docs/x.txt" in stored(app)
    data = {"paths": ["docs/x.txt", "a.txt"], "action": "delete"}
    page = text(client.post(f"{ADMIN}/selection", data=data))
    assert "used by Contract ACME.scan" in page
    assert re.search(r'name="used_by" value=\'\["Contract ACME.scan"\]\'', page)
    data.update(confirmed="yes", count="2", used_by='["Contract ACME.scan"]')
    client.post(f"{ADMIN}/selection", data=data)
    assert "docs/x.txt" not in stored(app)
    assert os.path.exists(os.path.join(app.config["STORE_PATH"], "b.txt"))


@pytest.mark.parametrize("storage", ["s3"], indirect=True)
def test_s3_rename_is_a_copy_with_new_headers(
    storage: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = setup(storage)
    backend = store_state(storage).backend
    calls: list[dict[str, Any]] = []
    real = backend.client.upload_part_copy

    def upload_part_copy(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(**kwargs)

    # S3 copies the parts itself: no byte of the file goes through the app.
    monkeypatch.setattr(backend.client, "upload_part_copy", upload_part_copy)
    response = client.post(
        f"{ADMIN}/move", data={"path": "a.txt", "folder": "", "name": "a.html"}
    )
    assert response.status_code == 302
    assert [c["Key"] for c in calls] == [backend.key("a.html")]
    head = backend.client.head_object(Bucket=backend.bucket, Key=backend.key("a.html"))
    assert head["ContentType"] == "text/html"
    assert head["ContentDisposition"] == "attachment"  # never served inline
    assert stored(storage) == {
        "a.html": b"a.txt",
        "b.txt": b"b.txt",
        "docs/x.txt": b"docs/x.txt",
        "docs/sub/y.txt": b"docs/sub/y.txt",
    }
    # A taken name: the copy is refused (If-None-Match), nothing replaced.
    response = client.post(
        f"{ADMIN}/move", data={"path": "a.html", "folder": "", "name": "b.txt"}
    )
    assert response.status_code == 409
    assert stored(storage)["b.txt"] == b"b.txt"
    assert stored(storage)["a.html"] == b"a.txt"
