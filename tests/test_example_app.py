"""The example app, driven like a user would: pages, login, uploads, admin."""

from __future__ import annotations

import io
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from flask import Flask
from flask.testing import FlaskClient
from moto import mock_aws

from example_app import create_app, settings
from example_app.models import Document, db
from flask_store.providers.memory import MemoryProvider

from . import s3_support

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"
    b"\x00\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01"
    b"\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests set the environment they need; nothing leaks in from outside."""
    for key in list(os.environ):
        if key.startswith(("STORE_", "EXAMPLE_", "FLASK_")):
            monkeypatch.delenv(key)


def example(tmp_path: Path, **config: Any) -> Flask:
    return create_app(
        {"TESTING": True, **config}, instance_path=str(tmp_path / "instance")
    )


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    # No app context is kept pushed: requests must each get their own ``g``,
    # as they do in a server (Flask-WTF keeps the CSRF token there).
    return example(tmp_path)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def without_tags(html: str) -> str:
    """A page's text, roughly as a browser shows it (one space between words)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def log_in(client: FlaskClient, password: str = settings.DEV_PASSWORD) -> Any:
    token = csrf_token(client.get("/login").text)
    return client.post(
        "/login",
        data={"csrf_token": token, "username": "admin", "password": password},
    )


def upload_files(client: FlaskClient, *files: tuple[bytes, str], **headers: str) -> Any:
    """Post files through the upload form embedded on the home page."""
    token = csrf_token(client.get("/").text)
    return client.post(
        "/documents",
        data={
            "csrf_token": token,
            "file": [(io.BytesIO(data), name) for data, name in files],
        },
        headers=headers,
    )


def stored_paths(app: Flask) -> set[str]:
    provider = app.extensions["store"].provider
    return {entry.path for entry in provider.iter_files(app=app)}


def documents(app: Flask) -> list[dict[str, Any]]:
    """Every document's title and the stored paths of its files."""
    with app.app_context():
        return [
            {
                "title": doc.title,
                "attachment": doc.attachment and doc.attachment.relative_path,
                "image": doc.image and doc.image.relative_path,
            }
            for doc in db.session.scalars(db.select(Document).order_by(Document.id))
        ]


# -- first run ------------------------------------------------------------------


def test_first_run_creates_its_database_and_folders(tmp_path: Path) -> None:
    app = example(tmp_path)
    instance = tmp_path / "instance"
    assert (instance / "example.sqlite").is_file()
    assert (instance / "uploads").is_dir()
    assert app.config["STORE_PATH"] == str(instance / "uploads")
    page = app.test_client().get("/")
    assert page.status_code == 200
    assert "No documents yet." in page.text
    assert "Log in to add documents" in page.text


def test_start_announces_the_development_login(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create_app(instance_path=str(tmp_path / "instance"))
    err = capsys.readouterr().err
    assert "log in as admin / flask-store" in err
    assert "development SECRET_KEY" in err


def test_start_keeps_real_credentials_quiet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXAMPLE_PASSWORD", "correct horse")
    monkeypatch.setenv("FLASK_SECRET_KEY", "a-real-secret")
    app = create_app(instance_path=str(tmp_path / "instance"))
    err = capsys.readouterr().err
    assert "correct horse" not in err
    assert "log in as" not in err
    assert "SECRET_KEY" not in err
    assert app.config["SECRET_KEY"] == "a-real-secret"
    assert app.config["EXAMPLE_PASSWORD"] == "correct horse"


# -- configuration from the environment -------------------------------------------


def test_store_settings_from_the_environment() -> None:
    config = settings.from_environment(
        {
            "STORE_PROVIDER": "s3",
            "STORE_S3_BUCKET": "2026",
            "STORE_FSYNC": "off",
            "STORE_DELETE_ORPHANS": "true",
            "STORE_MAX_SIZE": "1048576",
            "STORE_ALLOWED_EXTENSIONS": "PDF, .png,,txt",
            "STORE_ADMIN_ACCESS": "true",
            "EXAMPLE_USERNAME": "ada",
            "HOME": "/root",
        }
    )
    assert config == {
        "STORE_PROVIDER": "flask_store.providers.s3.S3Provider",
        "STORE_S3_BUCKET": "2026",  # stays a string, unlike from_prefixed_env
        "STORE_FSYNC": False,
        "STORE_DELETE_ORPHANS": True,
        "STORE_MAX_SIZE": 1048576,
        "STORE_ALLOWED_EXTENSIONS": {"pdf", "png", "txt"},
        "EXAMPLE_USERNAME": "ada",
    }


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("STORE_FSYNC", "maybe", "use true or false"),
        ("STORE_MAX_SIZE", "10MB", "use a number of bytes"),
    ],
)
def test_bad_environment_values_are_named(key: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"{key}='{value}': {message}"):
        settings.from_environment({key: value})


def test_environment_picks_the_provider(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORE_PROVIDER", "memory")
    app = example(tmp_path)
    assert app.extensions["store"].provider is MemoryProvider


# -- login ----------------------------------------------------------------------


def test_login_with_the_wrong_password(client: FlaskClient) -> None:
    response = log_in(client, password="guess")
    assert response.status_code == 401
    assert "Wrong username or password." in response.text
    assert "Log out" not in client.get("/").text


def test_login_returns_to_next_but_never_off_site(client: FlaskClient) -> None:
    def log_in_to(target: str) -> str:
        token = csrf_token(client.get("/login").text)
        response = client.post(
            "/login",
            data={
                "csrf_token": token,
                "username": "admin",
                "password": settings.DEV_PASSWORD,
                "next": target,
            },
        )
        assert response.status_code == 302
        return response.headers["Location"]

    assert log_in_to("/documents/7") == "/documents/7"
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        assert log_in_to(target) == "/"


def test_login_without_csrf_token_is_refused(client: FlaskClient) -> None:
    response = client.post(
        "/login", data={"username": "admin", "password": settings.DEV_PASSWORD}
    )
    assert response.status_code == 400
    assert "Log out" not in client.get("/").text


def test_logout(client: FlaskClient) -> None:
    log_in(client)
    page = client.get("/").text
    assert "Log out admin" in without_tags(page)
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert "Log out" not in client.get("/").text


# -- the file admin ---------------------------------------------------------------


def test_admin_is_behind_the_login(client: FlaskClient) -> None:
    response = client.get("/admin/files/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/admin/files/"

    log_in(client)
    upload_files(client, (b"hello", "notes.txt"))
    admin = client.get("/admin/files/", query_string={"folder": "documents"})
    assert admin.status_code == 200
    assert "notes.txt" in admin.text


def test_admin_posts_are_behind_the_login(app: Flask, client: FlaskClient) -> None:
    response = client.post("/admin/files/upload", data={})
    assert response.status_code == 302
    assert stored_paths(app) == set()


@pytest.mark.parametrize("path", ["/documents", "/admin/files/upload"])
def test_a_script_logged_out_gets_a_401_that_says_so(
    app: Flask, client: FlaskClient, path: str
) -> None:
    """An upload form's script (it asks for JSON) left open until the session
    ended is told to log in again, not sent the login page as if all went well."""
    response = client.post(
        path,
        data={"file": (io.BytesIO(b"late"), "late.txt")},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 401
    assert response.json is not None
    assert response.json["error"].startswith("You are not logged in any more")
    assert "Nothing was stored." in response.json["error"]
    assert stored_paths(app) == set()


# -- uploads through the embedded macro ---------------------------------------------


def test_home_page_embeds_the_upload_macro(client: FlaskClient) -> None:
    log_in(client)
    page = client.get("/").text
    assert 'class="fs-upload"' in page
    assert 'action="/documents"' in page
    assert 'enctype="multipart/form-data"' in page
    assert "data-flask-store-upload" in page
    assert "/_flask_store/static/flask_store.js" in page


@pytest.mark.parametrize("page", ["2", "99999999999999999999", "-3", "two"])
def test_any_page_number_gets_a_page(client: FlaskClient, page: str) -> None:
    log_in(client)
    upload_files(client, (b"hello world", "notes.txt"))
    response = client.get("/", query_string={"page": page})
    assert response.status_code == 200
    # A number that is no page is page 1; past the last page, a way back.
    text = without_tags(response.text)
    if page in ("-3", "two"):
        assert "notes" in text
    else:
        assert "notes" not in text and "No documents yet" not in text
        assert "This page is past the last one: see the newest documents." in text


def test_upload_makes_one_document_per_file(app: Flask, client: FlaskClient) -> None:
    log_in(client)
    response = upload_files(client, (b"hello world", "notes.txt"), (PNG, "dot.png"))

    assert response.status_code == 302
    assert documents(app) == [
        {"title": "notes", "attachment": "documents/notes.txt", "image": None},
        {"title": "dot", "attachment": None, "image": "images/dot.png"},
    ]
    assert stored_paths(app) == {"documents/notes.txt", "images/dot.png"}
    listing = client.get("/").text
    assert "notes" in listing
    # The image shows as a thumbnail: a variant rendered on first request.
    thumbnail = re.search(r'<img src="(/_flask_store/variants/[^"]+)"', listing)
    assert thumbnail
    with client.get(thumbnail.group(1)) as response:
        assert response.status_code == 200
        assert response.mimetype == "image/webp"


def test_upload_as_json_like_the_macro_script(client: FlaskClient) -> None:
    log_in(client)
    response = upload_files(
        client, (b"a,b\n1,2\n", "table.csv"), Accept="application/json"
    )
    assert response.status_code == 201
    [item] = response.json["files"]
    assert item["path"] == "documents/table.csv"
    assert client.get(item["url"]).status_code == 200


def test_refused_upload_stores_nothing(app: Flask, client: FlaskClient) -> None:
    log_in(client)
    page = upload_files(client, (b"MZ...", "setup.exe"))
    assert page.status_code == 400
    assert "setup.exe is not an allowed type" in page.text

    as_json = upload_files(client, (b"MZ...", "setup.exe"), Accept="application/json")
    assert as_json.status_code == 400
    assert "setup.exe is not an allowed type" in as_json.json["error"]
    assert documents(app) == []
    assert stored_paths(app) == set()


def test_too_large_upload_stores_nothing(tmp_path: Path) -> None:
    app = example(tmp_path, STORE_MAX_SIZE=10)
    client = app.test_client()
    log_in(client)
    response = upload_files(client, (b"x" * 11, "big.txt"))
    assert response.status_code == 400
    assert "big.txt is larger than" in response.text
    with app.app_context():
        assert documents(app) == []
        assert stored_paths(app) == set()


def test_a_body_over_max_content_length_gets_a_413_page_naming_the_limit(
    tmp_path: Path,
) -> None:
    # A form post without JavaScript: the browser sends the whole body, and
    # the answer is the app's own page, logged-in layout and all.
    app = example(tmp_path, MAX_CONTENT_LENGTH=2048)
    client = app.test_client()
    log_in(client)
    response = upload_files(client, (b"x" * 4096, "big.txt"))
    assert response.status_code == 413
    assert "this site accepts at most 2 kB per upload" in response.text
    assert "Nothing was stored" in response.text
    assert "Paperwork Documents File admin Log out admin" in without_tags(response.text)
    as_json = upload_files(client, (b"x" * 4096, "big.txt"), Accept="application/json")
    assert as_json.status_code == 413
    assert "at most 2 kB" in as_json.json["error"]
    assert documents(app) == []
    assert stored_paths(app) == set()


def test_storage_failure_adds_nothing(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flask_store.exceptions import UploadFailed
    from flask_store.providers.local import LocalProvider

    log_in(client)
    token = csrf_token(client.get("/").text)
    real_write = LocalProvider._write

    def disk_full_on_images(self: Any, stream: Any, candidates: list[str]) -> str:
        if candidates[0].startswith("images/"):
            raise UploadFailed("No space left on device")
        return real_write(self, stream, candidates)

    monkeypatch.setattr(LocalProvider, "_write", disk_full_on_images)
    response = client.post(
        "/documents",
        data={
            "csrf_token": token,
            "file": [(io.BytesIO(b"x"), "a.txt"), (io.BytesIO(PNG), "b.png")],
        },
    )
    assert response.status_code == 502
    assert "nothing was added: No space left on device" in response.text
    assert documents(app) == []
    assert stored_paths(app) == set()  # a.txt, stored first, was removed again


def test_upload_needs_csrf_and_login(app: Flask, client: FlaskClient) -> None:
    anonymous = client.post("/documents", data={"file": [(io.BytesIO(b"x"), "a.txt")]})
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login")

    log_in(client)
    forged = client.post(
        "/documents",
        data={"file": [(io.BytesIO(b"x"), "a.txt")]},
        headers={"Accept": "application/json"},
    )
    assert forged.status_code == 400
    assert documents(app) == []
    assert stored_paths(app) == set()


# -- the detail page ---------------------------------------------------------------


def test_detail_shows_the_image(app: Flask, client: FlaskClient) -> None:
    log_in(client)
    upload_files(client, (PNG, "dot.png"))
    page = client.get("/documents/1").text

    src = re.search(r'<img src="([^"]+)" alt="dot">', page)
    assert src and src.group(1) == "http://localhost/uploads/images/dot.png"
    with client.get(src.group(1)) as image:
        assert image.status_code == 200
        assert image.data == PNG
        assert image.mimetype == "image/png"


def test_detail_shows_the_attachment(app: Flask, client: FlaskClient) -> None:
    upload = (b"line one\nline <two>\n", "notes.txt")
    log_in(client)
    upload_files(client, upload)
    page = client.get("/documents/1").text

    assert "Download notes.txt" in page
    assert "20 bytes" in page
    assert "text/plain" in page
    assert "line one\nline &lt;two&gt;" in page  # a preview, escaped
    link = re.search(r'<a class="button" href="([^"]+)" download>', page)
    assert link
    with client.get(link.group(1)) as download:
        assert download.data == upload[0]


def test_detail_is_public_but_editing_is_not(app: Flask, client: FlaskClient) -> None:
    log_in(client)
    upload_files(client, (b"x", "a.txt"))
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").text)})

    page = client.get("/documents/1")
    assert page.status_code == 200
    assert "Download a.txt" in page.text
    assert "Edit" not in page.text
    assert client.post("/documents/1/delete").status_code == 302
    assert len(documents(app)) == 1


def test_detail_of_a_file_deleted_behind_the_apps_back(
    app: Flask, client: FlaskClient
) -> None:
    log_in(client)
    upload_files(client, (b"x", "a.txt"))
    os.unlink(os.path.join(app.config["STORE_PATH"], "documents", "a.txt"))
    page = client.get("/documents/1")
    assert page.status_code == 200
    assert "documents/a.txt is no longer in the store." in page.text
    # Deleting it asks first too, and says the file is already gone.
    confirm = client.get("/documents/1/delete")
    assert confirm.status_code == 200
    assert "already missing from the store" in confirm.text
    client.post("/documents/1/delete", data={"csrf_token": csrf_token(confirm.text)})
    assert documents(app) == []


def test_unknown_document(client: FlaskClient) -> None:
    page = client.get("/documents/99")
    assert page.status_code == 404
    assert "Back to the documents" in page.text
    as_json = client.get("/documents/99", headers={"Accept": "application/json"})
    assert as_json.status_code == 404
    assert as_json.json["status"] == 404


# -- editing and deleting -------------------------------------------------------------


def test_replacing_a_file_deletes_the_old_one_after_commit(
    app: Flask, client: FlaskClient
) -> None:
    log_in(client)
    upload_files(client, (b"first", "notes.txt"))
    token = csrf_token(client.get("/documents/1").text)

    response = client.post(
        "/documents/1",
        data={
            "csrf_token": token,
            "title": "Meeting notes",
            "attachment": (io.BytesIO(b"second"), "minutes.txt"),
            "image": (io.BytesIO(PNG), "cover.png"),
        },
    )

    assert response.status_code == 302
    assert documents(app) == [
        {
            "title": "Meeting notes",
            "attachment": "documents/minutes.txt",
            "image": "images/cover.png",
        }
    ]
    with client.get("/uploads/documents/minutes.txt") as minutes:
        assert minutes.data == b"second"
    assert stored_paths(app) == {"documents/minutes.txt", "images/cover.png"}


def test_edit_keeps_everything_when_storage_fails(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flask_store.exceptions import UploadFailed
    from flask_store.providers.local import LocalProvider

    log_in(client)
    upload_files(client, (b"first", "notes.txt"))
    token = csrf_token(client.get("/documents/1").text)

    def fail(self: Any, stream: Any, candidates: list[str]) -> str:
        raise UploadFailed("the disk went away")

    monkeypatch.setattr(LocalProvider, "_write", fail)
    response = client.post(
        "/documents/1",
        data={
            "csrf_token": token,
            "title": "Renamed",
            "attachment": (io.BytesIO(b"second"), "minutes.txt"),
        },
    )
    assert response.status_code == 502
    assert "The file could not be stored: the disk went away" in response.text
    assert documents(app) == [
        {"title": "notes", "attachment": "documents/notes.txt", "image": None}
    ]
    assert stored_paths(app) == {"documents/notes.txt"}


def test_edit_refuses_a_non_image_as_image(app: Flask, client: FlaskClient) -> None:
    log_in(client)
    upload_files(client, (b"first", "notes.txt"))
    token = csrf_token(client.get("/documents/1").text)
    response = client.post(
        "/documents/1",
        data={
            "csrf_token": token,
            "title": "x",
            "image": (io.BytesIO(b"%PDF"), "paper.pdf"),
        },
    )
    assert response.status_code == 400
    assert "Choose a PNG, JPEG, GIF or WebP image." in response.text
    assert documents(app)[0]["title"] == "notes"
    assert stored_paths(app) == {"documents/notes.txt"}


def test_delete_removes_the_document_and_its_files(
    app: Flask, client: FlaskClient
) -> None:
    log_in(client)
    upload_files(client, (PNG, "dot.png"))
    token = csrf_token(client.get("/documents/1").text)

    without_token = client.post("/documents/1/delete")
    assert without_token.status_code == 302
    assert len(documents(app)) == 1

    client.post("/documents/1/delete", data={"csrf_token": token})
    assert documents(app) == []
    assert stored_paths(app) == set()


def test_sizes_are_written_as_everywhere_else(app: Flask, client: FlaskClient) -> None:
    log_in(client)
    assert "up to 16 MB each" in without_tags(client.get("/").text)
    upload_files(client, (b"x" * 1600, "sheet.csv"), (b"x", "one.txt"))
    assert "<dt>Size</dt><dd>1.6 kB</dd>" in client.get("/documents/1").text
    assert "<dt>Size</dt><dd>1 byte</dd>" in client.get("/documents/2").text


def test_delete_asks_first(app: Flask, client: FlaskClient) -> None:
    log_in(client)
    upload_files(client, (b"x" * 1600, "budget.csv"))
    detail = client.get("/documents/1").text
    # The detail page links to a confirmation, it does not delete.
    assert 'href="/documents/1/delete"' in detail
    assert 'action="/documents/1/delete"' not in detail

    page = client.get("/documents/1/delete")
    assert page.status_code == 200
    text = without_tags(page.text)
    assert "Delete “budget”?" in text
    assert "documents/budget.csv, its attachment, 1.6 kB" in text
    assert "Its files go with it, unless another document uses them" in text
    assert "Kept" not in text
    assert 'action="/documents/1/delete"' in page.text
    assert len(documents(app)) == 1  # asking deletes nothing

    client.post("/documents/1/delete", data={"csrf_token": csrf_token(page.text)})
    assert documents(app) == []
    assert stored_paths(app) == set()


def test_delete_names_the_documents_that_keep_a_shared_file(
    app: Flask, client: FlaskClient
) -> None:
    log_in(client)
    upload_files(client, (b"shared", "budget.csv"))
    with app.app_context():
        db.session.add(Document(title="Budget copy", attachment="documents/budget.csv"))
        db.session.commit()

    page = client.get("/documents/1/delete").text
    assert re.search(
        r"<strong>Kept:</strong> also used by\s*"
        r'<a href="/documents/2">Budget copy</a> \(its attachment\)\.',
        page,
    )
    response = client.post("/documents/1/delete", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    index = client.get("/").text
    assert "Deleted budget. Kept budget.csv: other documents use it." in index
    assert documents(app) == [
        {"title": "Budget copy", "attachment": "documents/budget.csv", "image": None}
    ]
    assert stored_paths(app) == {"documents/budget.csv"}


def test_delete_says_files_stay_without_store_delete_orphans(tmp_path: Path) -> None:
    app = example(tmp_path, STORE_DELETE_ORPHANS=False)
    client = app.test_client()
    log_in(client)
    upload_files(client, (PNG, "dot.png"))
    page = client.get("/documents/1/delete").text
    assert "Its files stay in the store" in page
    assert "STORE_DELETE_ORPHANS" in page
    client.post("/documents/1/delete", data={"csrf_token": csrf_token(page)})
    assert documents(app) == []
    assert stored_paths(app) == {"images/dot.png"}


def test_delete_confirmation_needs_a_login_and_a_document(
    app: Flask, client: FlaskClient
) -> None:
    log_in(client)
    upload_files(client, (b"x", "a.txt"))
    assert client.get("/documents/99/delete").status_code == 404
    visitor = app.test_client().get("/documents/1/delete")
    assert (visitor.status_code, visitor.location) == (
        302,
        "/login?next=/documents/1/delete",
    )
    # An expired form goes back to the question, nothing deleted.
    expired = client.post("/documents/1/delete")
    assert expired.location == "/documents/1/delete"
    assert "nothing was deleted" in client.get(expired.location).text
    assert len(documents(app)) == 1


# -- the commands on the example app ------------------------------------------------


def test_flask_store_commands_work_on_the_example_app(
    app: Flask, client: FlaskClient
) -> None:
    log_in(client)
    upload_files(client, (b"kept", "kept.txt"))
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["store", "put", __file__, "-l", "documents"])
    assert refused.exit_code == 1  # .py is not among the app's allowed types
    assert "test_example_app.py is not an allowed type" in refused.output
    notes = Path(app.instance_path) / "notes.md"
    notes.write_bytes(b"# notes")
    put = runner.invoke(args=["store", "put", str(notes), "-l", "documents"])
    assert put.exit_code == 0, put.output

    orphans = runner.invoke(args=["store", "orphans", "--older-than", "0s"])

    assert orphans.exit_code == 0, orphans.output
    assert orphans.stdout.split()[-1] == "documents/notes.md"


# -- S3 ------------------------------------------------------------------------------


def test_the_s3_switch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """STORE_* variables move the files to S3; images are shown presigned."""
    with s3_support.mocked_bucket() as config:
        for key, value in config.items():
            if value is not None:
                monkeypatch.setenv(key, value)
        monkeypatch.setenv("STORE_PROVIDER", "s3")
        app = example(tmp_path)
        client = app.test_client()
        log_in(client)
        upload_files(client, (PNG, "dot.png"))
        page = client.get("/documents/1").text
        keys = s3_support.object_keys(
            boto3.client("s3", region_name=s3_support.REGION),
            config["STORE_S3_BUCKET"],
        )

    assert keys == ["images/dot.png"]
    src = re.search(r'<img src="([^"]+)" alt="dot">', page)
    assert src and "images/dot.png" in src.group(1)
    assert "Signature=" in src.group(1) or "X-Amz-Signature=" in src.group(1)


def test_make_bucket_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with mock_aws():
        config = s3_support.s3_config("fresh-bucket")
        # The bucket does not exist yet, so Store must not need it to start.
        app = example(
            tmp_path, **{k: v for k, v in config.items() if k != "STORE_PROVIDER"}
        )
        runner = app.test_cli_runner()
        first = runner.invoke(args=["make-bucket"])
        second = runner.invoke(args=["make-bucket"])
        client = boto3.client("s3", region_name=s3_support.REGION)
        buckets = [b["Name"] for b in client.list_buckets()["Buckets"]]

    assert first.exit_code == 0, first.output
    assert "Created bucket fresh-bucket." in first.output
    assert second.exit_code == 0
    assert "already exists" in second.output
    assert buckets == ["fresh-bucket"]


def test_make_bucket_needs_a_bucket(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["make-bucket"])
    assert result.exit_code == 1
    assert "Set STORE_PROVIDER=s3 and STORE_S3_BUCKET first." in result.stderr


# -- in a real browser ----------------------------------------------------------------


def drive_upload_in_chromium(chromium: str, base: str, folder: Path) -> dict[str, Any]:
    """Log in, choose files on the home page, then a refused one; report what shows."""
    from playwright.sync_api import sync_playwright

    from .browser.conftest import CHROMIUM_ARGS

    seen: dict[str, Any] = {"errors": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS
        )
        page = browser.new_page()
        page.set_default_timeout(15_000)
        page.on(
            "console", lambda m: m.type == "error" and seen["errors"].append(m.text)
        )
        page.on("pageerror", lambda exc: seen["errors"].append(str(exc)))

        page.goto(f"{base}/admin/files/")
        page.fill("#username", "admin")
        page.fill("#password", settings.DEV_PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
        seen["after_login"] = page.url

        page.goto(base)
        page.set_input_files(
            "input[type=file]", [folder / "notes.txt", folder / "dot.png"]
        )
        page.wait_for_selector(".document img")
        seen["titles"] = sorted(page.locator(".document .title").all_inner_texts())
        seen["image_width"] = page.eval_on_selector(
            ".document img", "i => i.naturalWidth"
        )

        page.set_input_files("input[type=file]", [folder / "setup.exe"])
        refusal = page.locator("text=setup.exe is not an allowed type").first
        refusal.wait_for()
        seen["refusal"] = refusal.inner_text()
        browser.close()
    return seen


@pytest.mark.browser
def test_upload_by_the_macro_in_chromium(tmp_path: Path) -> None:
    """Choose files: the macro's script uploads them and the list shows them."""
    from werkzeug.serving import make_server

    from .browser.conftest import find_chromium

    chromium = find_chromium()
    (tmp_path / "notes.txt").write_bytes(b"hello")
    (tmp_path / "dot.png").write_bytes(PNG)
    (tmp_path / "setup.exe").write_bytes(b"MZ")
    app = example(tmp_path)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        # Playwright's sync API refuses to start on a thread where another
        # instance runs (the browser tests' session-wide Chromium): use a fresh one.
        with ThreadPoolExecutor(max_workers=1) as pool:
            seen = pool.submit(
                drive_upload_in_chromium, chromium, base, tmp_path
            ).result()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

    assert seen["after_login"] == f"{base}/admin/files/"
    assert seen["titles"] == ["dot", "notes"]
    assert seen["image_width"] == 1
    assert "setup.exe is not an allowed type" in seen["refusal"]
    assert stored_paths(app) == {"documents/notes.txt", "images/dot.png"}
    # The refused upload is answered with 400, which Chromium logs; nothing else.
    assert [e for e in seen["errors"] if "400" not in e] == []
