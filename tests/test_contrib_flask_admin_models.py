"""StoreModelView's file columns and StoreFileAdmin's guarantees, through the
test client, as a user of Flask-Admin drives them."""

from __future__ import annotations

import html
import io
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_admin import Admin
from flask_admin.contrib.sqla import ModelView
from flask_sqlalchemy import SQLAlchemy

from flask_store.contrib.flask_admin import (
    StoreFileAdmin,
    StoreModelConverter,
    StoreModelView,
    StoreUploadField,
)
from flask_store.sqla import FlaskStoreType
from flask_store.state import current_state

from .conftest import marked_config
from .contrib.flask_admin_support import admin_app

db = SQLAlchemy()

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


class Sheet(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "fa_sheet"
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(40))
    file = db.Column(FlaskStoreType(128, location="sheets"))


class Poster(db.Model):  # type: ignore[name-defined,misc]
    """A model whose file is required (the column is not nullable)."""

    __tablename__ = "fa_poster"
    id = db.Column(db.Integer, primary_key=True)
    image = db.Column(FlaskStoreType(128, location="posters"), nullable=False)


class PosterView(ModelView):  # type: ignore[misc]
    """A plain ModelView that picks FlaskStoreType up with one line."""

    model_form_converter = StoreModelConverter


class OverriddenSheetView(ModelView):  # type: ignore[misc]
    """A plain ModelView using the field through form_overrides."""

    form_overrides = {"file": StoreUploadField}


class SmallPages(StoreFileAdmin):
    page_size = 2


@pytest.fixture(params=["local", "memory", "s3-mock"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    config = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/admin.db",
        **marked_config(request),
    }
    with admin_app(request.param, tmp_path, request, **config) as app:
        db.init_app(app)
        db.create_all()
        admin = Admin(app)
        admin.add_view(StoreModelView(Sheet, db, endpoint="sheet"))
        admin.add_view(PosterView(Poster, db, endpoint="poster"))
        admin.add_view(OverriddenSheetView(Sheet, db, endpoint="plain", name="Plain"))
        admin.add_view(StoreFileAdmin(name="Files", endpoint="files"))
        admin.add_view(SmallPages("paged", name="Paged", endpoint="paged"))
        yield app
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def stored() -> list[str]:
    """Every file in the store."""
    return sorted(f.path for f in current_state().backend.iter_files(""))


def content(path: str) -> bytes:
    """What the store holds at ``path``."""
    with current_state().backend.open(path) as stream:
        return stream.read()


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def create(client: FlaskClient, data: bytes, name: str, **form: Any) -> Any:
    return client.post(
        "/admin/sheet/new/",
        data={"title": "Q1", "file": (io.BytesIO(data), name), **form},
    )


def only_sheet() -> Sheet:
    db.session.expire_all()
    sheets = db.session.scalars(db.select(Sheet)).all()
    assert len(sheets) == 1
    return sheets[0]


def edit(client: FlaskClient, sheet_id: int, **form: Any) -> Any:
    return client.post(
        f"/admin/sheet/edit/?id={sheet_id}", data={"title": "Q1", **form}
    )


# -- StoreModelView -----------------------------------------------------------


def test_create_stores_the_upload_and_the_list_links_it(client: FlaskClient) -> None:
    response = create(client, b"numbers", "q1 report.csv")
    assert response.status_code == 302, text(response)
    sheet = only_sheet()
    assert sheet.file.relative_path == "sheets/q1_report.csv"
    assert stored() == ["sheets/q1_report.csv"]
    assert content("sheets/q1_report.csv") == b"numbers"

    listing = text(client.get("/admin/sheet/"))
    link = re.search(r'<a href="([^"]+)" rel="noopener">q1_report.csv</a>', listing)
    assert link is not None, listing
    assert "sheets/q1_report.csv" in link.group(1)


def test_the_edit_form_shows_the_file_with_size_thumbnail_and_remove(
    client: FlaskClient,
) -> None:
    create(client, PNG, "cover.png")
    page = text(client.get(f"/admin/sheet/edit/?id={only_sheet().id}"))
    assert re.search(
        r'<a href="[^"]*sheets/cover.png[^"]*" rel="noopener">cover.png', page
    )
    assert "(24 bytes)" in page
    assert re.search(r'<img src="[^"]*sheets/cover.png[^"]*"', page)
    assert '<input type="checkbox" name="file-remove" value="y">' in page
    assert '<input class="form-control-file" id="file" name="file" type="file">' in page


def test_no_thumbnail_for_a_file_that_is_not_an_image(client: FlaskClient) -> None:
    create(client, b"<svg/>", "logo.svg")
    page = text(client.get(f"/admin/sheet/edit/?id={only_sheet().id}"))
    assert "logo.svg" in page
    assert "<img src=" not in page


def test_keep_when_no_file_is_chosen(client: FlaskClient) -> None:
    create(client, b"one", "a.txt")
    sheet = only_sheet()
    response = edit(client, sheet.id, title="Renamed", file=(io.BytesIO(b""), ""))
    assert response.status_code == 302, text(response)
    sheet = only_sheet()
    assert sheet.title == "Renamed"
    assert sheet.file.relative_path == "sheets/a.txt"
    assert stored() == ["sheets/a.txt"]


@pytest.mark.store_config(STORE_DELETE_ORPHANS=True)
def test_replace_deletes_the_old_file_after_the_commit(client: FlaskClient) -> None:
    create(client, b"one", "a.txt")
    response = edit(client, only_sheet().id, file=(io.BytesIO(b"two"), "b.txt"))
    assert response.status_code == 302, text(response)
    assert only_sheet().file.relative_path == "sheets/b.txt"
    assert stored() == ["sheets/b.txt"]


def test_replace_keeps_the_old_file_without_delete_orphans(
    client: FlaskClient,
) -> None:
    create(client, b"one", "a.txt")
    edit(client, only_sheet().id, file=(io.BytesIO(b"two"), "a.txt"))
    replaced = only_sheet().file.relative_path
    assert replaced.startswith("sheets/a_") and replaced.endswith(".txt")
    assert stored() == sorted(["sheets/a.txt", replaced])
    assert content(replaced) == b"two"


@pytest.mark.store_config(STORE_DELETE_ORPHANS=True)
def test_remove_empties_the_column_and_deletes_the_orphan(
    client: FlaskClient,
) -> None:
    create(client, b"one", "a.txt")
    response = edit(client, only_sheet().id, **{"file-remove": "y"})
    assert response.status_code == 302, text(response)
    assert only_sheet().file is None
    assert stored() == []
    assert "a.txt" not in text(client.get("/admin/sheet/"))


@pytest.mark.store_config(STORE_ALLOWED_EXTENSIONS={"txt"})
def test_a_refused_type_gets_a_message_and_stores_nothing(
    client: FlaskClient,
) -> None:
    response = create(client, b"MZ", "tool.exe")
    assert response.status_code == 200
    assert "tool.exe is not an allowed type (allowed: .txt)." in text(response)
    assert db.session.scalars(db.select(Sheet)).all() == []
    assert stored() == []


@pytest.mark.store_config(STORE_MAX_SIZE=4)
def test_a_file_too_large_gets_a_message_and_stores_nothing(
    client: FlaskClient,
) -> None:
    create(client, b"tiny", "ok.txt")
    response = edit(client, only_sheet().id, file=(io.BytesIO(b"12345"), "big.txt"))
    assert response.status_code == 200
    assert "big.txt is larger than 4 bytes" in text(response)
    assert only_sheet().file.relative_path == "sheets/ok.txt"
    assert stored() == ["sheets/ok.txt"]


def test_a_required_file_column_asks_for_a_file(client: FlaskClient) -> None:
    response = client.post("/admin/poster/new/", data={})
    assert response.status_code == 200
    assert "Choose a file: this column needs one." in text(response)
    assert db.session.scalars(db.select(Poster)).all() == []

    response = client.post(
        "/admin/poster/new/", data={"image": (io.BytesIO(PNG), "p.png")}
    )
    assert response.status_code == 302, text(response)
    poster = db.session.scalars(db.select(Poster)).one()
    # Keeping works, removing a required file does not.
    response = client.post(f"/admin/poster/edit/?id={poster.id}", data={})
    assert response.status_code == 302, text(response)
    response = client.post(
        f"/admin/poster/edit/?id={poster.id}", data={"image-remove": "y"}
    )
    assert response.status_code == 200
    assert "Choose a file: this column needs one." in text(response)
    db.session.expire_all()
    assert db.session.get(Poster, poster.id).image.relative_path == "posters/p.png"


def test_form_overrides_use_the_field_in_a_plain_model_view(
    client: FlaskClient,
) -> None:
    response = client.post(
        "/admin/plain/new/",
        data={"title": "Q2", "file": (io.BytesIO(b"x"), "q2.txt")},
    )
    assert response.status_code == 302, text(response)
    sheet = only_sheet()
    assert sheet.file.relative_path == "sheets/q2.txt"
    page = text(client.get(f"/admin/plain/edit/?id={sheet.id}"))
    assert '<input type="checkbox" name="file-remove" value="y">' in page
    response = client.post(f"/admin/plain/edit/?id={sheet.id}", data={"title": "Q3"})
    assert response.status_code == 302, text(response)
    assert only_sheet().file.relative_path == "sheets/q2.txt"


# -- StoreFileAdmin: files rows use ---------------------------------------------


def flashed(client: FlaskClient, url: str = "/admin/files/") -> str:
    return text(client.get(url))


def test_deleting_a_file_a_row_uses_is_refused_naming_the_row(
    client: FlaskClient,
) -> None:
    create(client, b"one", "a.txt")
    sheet_id = only_sheet().id
    response = client.post("/admin/files/delete/", data={"path": "sheets/a.txt"})
    assert response.status_code == 302
    page = flashed(client, "/admin/files/b/sheets")
    assert f"Nothing deleted: rows use sheets/a.txt (Sheet #{sheet_id}.file)." in page
    assert stored() == ["sheets/a.txt"]

    # The folder holding it is refused too, and so is the bulk delete action.
    client.post("/admin/files/delete/", data={"path": "sheets"})
    assert "Nothing deleted: rows use sheets/a.txt" in flashed(client)
    client.post(
        "/admin/files/action/", data={"action": "delete", "rowid": "sheets/a.txt"}
    )
    assert "Nothing deleted: rows use sheets/a.txt" in flashed(client)
    assert stored() == ["sheets/a.txt"]


def test_renaming_a_file_a_row_uses_is_refused(client: FlaskClient) -> None:
    create(client, b"one", "a.txt")
    client.post(
        "/admin/files/rename/",
        data={"path": "sheets/a.txt", "name": "b.txt"},
    )
    page = flashed(client, "/admin/files/b/sheets")
    assert "Nothing renamed: rows use sheets/a.txt (Sheet #" in page
    client.post("/admin/files/rename/", data={"path": "sheets", "name": "other"})
    assert "Nothing renamed: rows use sheets/a.txt" in flashed(client)
    assert stored() == ["sheets/a.txt"]
    assert only_sheet().file.relative_path == "sheets/a.txt"


def test_files_no_row_uses_are_deleted_and_renamed(client: FlaskClient) -> None:
    backend = current_state().backend
    backend.write(io.BytesIO(b"x"), ["loose/x.txt"])
    backend.write(io.BytesIO(b"y"), ["loose/y.txt"])
    client.post("/admin/files/rename/", data={"path": "loose/x.txt", "name": "z.txt"})
    assert stored() == ["loose/y.txt", "loose/z.txt"]
    client.post("/admin/files/rename/", data={"path": "loose", "name": "tidy"})
    assert stored() == ["tidy/y.txt", "tidy/z.txt"]
    client.post("/admin/files/delete/", data={"path": "tidy/y.txt"})
    client.post("/admin/files/delete/", data={"path": "tidy"})
    assert stored() == []


# -- StoreFileAdmin: names and paths --------------------------------------------


def test_renaming_onto_a_taken_name_replaces_nothing(client: FlaskClient) -> None:
    backend = current_state().backend
    backend.write(io.BytesIO(b"a"), ["a.txt"])
    backend.write(io.BytesIO(b"b"), ["b.txt"])
    client.post("/admin/files/rename/", data={"path": "a.txt", "name": "b.txt"})
    assert 'File "b.txt" already exists.' in flashed(client)
    assert content("b.txt") == b"b"
    assert content("a.txt") == b"a"


def test_uploads_get_safe_names_and_follow_the_store_rules(
    client: FlaskClient,
) -> None:
    response = client.post(
        "/admin/files/upload/",
        data={"upload": (io.BytesIO(b"x"), "Résumé <2024>.txt")},
    )
    assert response.status_code == 302, text(response)
    response = client.post(
        "/admin/files/upload/",
        data={"upload": (io.BytesIO(b"x"), "../../etc/passwd.txt")},
    )
    assert response.status_code == 302, text(response)
    assert stored() == ["Résumé_2024.txt", "passwd.txt"]


@pytest.mark.store_config(STORE_ALLOWED_EXTENSIONS={"png"})
def test_an_upload_the_store_refuses_is_not_stored(client: FlaskClient) -> None:
    response = client.post(
        "/admin/files/upload/",
        data={"upload": (io.BytesIO(b"x"), "notes.txt")},
        follow_redirects=True,
    )
    assert "notes.txt is not an allowed type (allowed: .png)." in text(response)
    assert stored() == []


@pytest.mark.parametrize(
    "url",
    [
        "/admin/files/b/..",
        "/admin/files/b/../instance",
        "/admin/files/b/.hidden",
        "/admin/files/download/../admin.db",
        "/admin/files/download/sheets/missing.txt",
        "/admin/files/rename/?path=../admin.db",
    ],
)
def test_paths_outside_the_store_or_hidden_are_not_found(
    client: FlaskClient, url: str
) -> None:
    assert client.get(url).status_code == 404


def test_a_view_of_a_folder_stays_in_it(client: FlaskClient) -> None:
    backend = current_state().backend
    backend.write(io.BytesIO(b"in"), ["paged/in.txt"])
    backend.write(io.BytesIO(b"out"), ["out.txt"])
    page = text(client.get("/admin/paged/"))
    assert "path=in.txt" in page
    assert "out.txt" not in page
    assert client.get("/admin/paged/download/../out.txt").status_code == 404
    with client.get("/admin/paged/download/in.txt") as response:
        assert response.status_code == 200
        assert response.data == b"in"


def test_active_content_is_sent_as_a_sandboxed_attachment(
    client: FlaskClient,
) -> None:
    current_state().backend.write(io.BytesIO(b"<script>x</script>"), ["x.html"])
    with client.get("/admin/files/download/x.html") as response:
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert response.headers["Content-Security-Policy"] == "sandbox"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.data == b"<script>x</script>"


def test_a_long_folder_is_shown_a_page_at_a_time(client: FlaskClient) -> None:
    backend = current_state().backend
    for name in ("a.txt", "b.txt", "c.txt"):
        backend.write(io.BytesIO(b"x"), [f"paged/{name}"])
    first = text(client.get("/admin/paged/"))
    assert "path=a.txt" in first and "path=b.txt" in first
    assert "path=c.txt" not in first
    link = re.search(r'<a class="btn btn-secondary" rel="next" href="([^"]+)"', first)
    assert link is not None, first
    second = text(client.get(link.group(1)))
    assert "path=c.txt" in second
    assert "path=a.txt" not in second
    assert 'rel="next"' not in second


@pytest.mark.parametrize("after", ["a/b", "x" * 300, "a\x00b"])
def test_a_bad_page_cursor_is_a_clear_400(client: FlaskClient, after: str) -> None:
    response = client.get("/admin/paged/", query_string={"after": after})
    assert response.status_code == 400
    assert "is not a page of this folder: start again." in text(response)


def test_editing_a_text_file_leaves_no_copy_behind(app: Flask) -> None:
    class Editable(StoreFileAdmin):
        editable_extensions = ("txt",)

    Admin(app, url="/edit-admin", endpoint="edit_admin").add_view(
        Editable(name="Edit", endpoint="editable")
    )
    backend = current_state().backend
    backend.write(io.BytesIO(b"old"), ["notes.txt"])
    response = app.test_client().post(
        "/edit-admin/editable/edit/?path=notes.txt", data={"content": "new"}
    )
    assert response.status_code == 302
    assert stored() == ["notes.txt"]
    assert content("notes.txt") == b"new"


def test_the_file_view_needs_neither_sqlalchemy_nor_boto3() -> None:
    """An app that only manages files imports no SQLAlchemy and no boto3."""
    code = (
        "import sys\n"
        "from flask_store.contrib.flask_admin import StoreFileAdmin, StoreUploadField\n"
        "print(sorted(m for m in ('sqlalchemy', 'boto3', 'flask_store.sqla')"
        " if m in sys.modules))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == "[]"


def test_a_name_too_long_for_the_column_stores_nothing(client: FlaskClient) -> None:
    """The save at the flush is rolled back, and the file it stored deleted."""
    response = create(client, b"x", "n" * 200 + ".txt")
    assert response.status_code == 200
    assert "Failed to create record." in text(response)
    assert "is longer than the column's 128 characters" in text(response)
    assert db.session.scalars(db.select(Sheet)).all() == []
    assert stored() == []


@pytest.mark.parametrize("app", ["local"], indirect=True)
def test_a_symlink_out_of_the_store_is_never_followed(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    root = Path(app.config["STORE_PATH"])
    root.mkdir(parents=True, exist_ok=True)
    (root / "escape").symlink_to(outside)
    (root / "link.txt").symlink_to(outside / "secret.txt")

    listing = text(client.get("/admin/files/"))
    assert "escape" not in listing and "link.txt" not in listing
    for url in (
        "/admin/files/b/escape",
        "/admin/files/download/escape/secret.txt",
        "/admin/files/download/link.txt",
    ):
        assert client.get(url).status_code == 404, url
    client.post("/admin/files/delete/", data={"path": "escape"})
    client.post("/admin/files/rename/", data={"path": "link.txt", "name": "x.txt"})
    assert (outside / "secret.txt").read_bytes() == b"secret"
