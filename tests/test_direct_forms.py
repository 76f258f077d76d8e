"""The server side of uploads a page's script sends itself: the upload
macro's ``data-`` attributes, and forms that take receipts as files.

Receipts come from real uploads: tus through the test client for the local
disk, a multipart upload to moto's ThreadedMotoServer for S3.
"""

from __future__ import annotations

import base64
import html
import io
import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner
from moto import mock_aws
from werkzeug.datastructures import FileStorage, MultiDict

from flask_store import Store
from flask_store.direct import tus_uploads, upload_grant
from flask_store.direct.grants import read_grant
from flask_store.forms import StoreFileField, UploadForm
from flask_store.providers import Provider

from . import s3_support
from .conftest import make_app
from .s3_support import create_bucket, s3_app, s3_config

moto_server = s3_support.moto_server

ROOT = "/_flask_store/uploads/"
TUS = {"Tus-Resumable": "1.0.0"}
MACRO = (
    '{% from "flask_store/macros.html" import upload_form %}'
    "{{ upload_form(form, action='/up', direct=direct) }}"
)


def local_app(tmp_path: Path, **config: Any) -> Flask:
    app = make_app(tmp_path, WTF_CSRF_ENABLED=False, **config)
    Store(app)
    return app


def tus_receipt(
    app: Flask, data: bytes, filename: str = "notes.txt", location: str = ""
) -> str:
    """Upload ``data`` through the tus endpoint as a page would; its receipt."""
    client = app.test_client()
    with app.app_context():
        grant = upload_grant(location)
    meta = f"filename {base64.b64encode(filename.encode()).decode()}"
    created = client.post(
        ROOT,
        headers={
            "Upload-Length": str(len(data)),
            "Upload-Metadata": meta,
            "Flask-Store-Grant": grant,
            **TUS,
        },
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    if not data:
        return created.headers["Flask-Store-Receipt"]
    url = created.headers["Location"].removeprefix("http://localhost")
    done = client.patch(
        url,
        data=data,
        headers={
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
            **TUS,
        },
    )
    assert done.status_code == 204, done.get_data(as_text=True)
    return done.headers["Flask-Store-Receipt"]


def stored(app: Flask) -> dict[str, bytes]:
    root = Path(app.config["STORE_PATH"])
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.parts)
    }


def form_with(app: Flask, values: list[Any], location: str | None = None) -> Any:
    """A validated UploadForm posted with ``values`` as its files."""
    data = MultiDict([("file", value) for value in values])
    if location is not None:
        data.add("location", location)
    with app.test_request_context(method="POST"):
        form = UploadForm(formdata=data)
        valid = form.validate()
        return form, valid


def posted(data: bytes, name: str) -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name)


# -- the macro ----------------------------------------------------------------


def attributes(app: Flask, location: str = "", direct: bool = True) -> dict[str, str]:
    with app.test_request_context("/"):
        form = UploadForm(formdata=None, data={"location": location})
        body = render_template_string(MACRO, form=form, direct=direct)
    tag = re.search(r"<form[^>]*>", body)
    assert tag is not None
    assert " data-flask-store-upload" in tag.group(0)
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'(data-[a-z-]+)="([^"]*)"', tag.group(0))
    }


def test_the_macro_hands_the_tus_endpoint_to_its_script(tmp_path: Path) -> None:
    app = local_app(tmp_path)
    found = attributes(app, "team")
    assert found["data-direct"] == "tus"
    assert found["data-direct-url"] == ROOT
    assert found["data-direct-min"] == "8000000"
    assert found["data-chunk-size"] == str(4 * 1024 * 1024)
    assert read_grant(found["data-upload-grant"], app=app) == "team"


def test_the_chunks_fit_under_max_content_length(tmp_path: Path) -> None:
    app = local_app(tmp_path, MAX_CONTENT_LENGTH=1_000_000, STORE_TUS_MIN_SIZE=100)
    found = attributes(app)
    assert found["data-chunk-size"] == str(1_000_000 - 64 * 1024)
    assert found["data-direct-min"] == "100"
    small = local_app(tmp_path / "small", MAX_CONTENT_LENGTH=3_000_000)
    assert attributes(small)["data-direct-min"] == str(3_000_000 - 64 * 1024)


def test_the_macro_hands_the_s3_endpoints_to_its_script(tmp_path: Path) -> None:
    with mock_aws():
        create_bucket("test-bucket")
        app = local_app(tmp_path, **s3_config("test-bucket"))
        found = attributes(app, "plans")
    assert found["data-direct"] == "s3"
    assert found["data-direct-url"] == ROOT
    assert found["data-direct-min"] == "0"
    assert found["data-chunk-size"] == str(8 * 1024 * 1024)
    assert read_grant(found["data-upload-grant"], app=app) == "plans"


def test_the_macro_uses_endpoints_the_app_registered(tmp_path: Path) -> None:
    app = local_app(tmp_path, STORE_DIRECT_UPLOADS=False)
    assert "data-direct" not in attributes(app)
    app.register_blueprint(tus_uploads, url_prefix="/tus")
    assert attributes(app)["data-direct-url"] == "/tus/"


@pytest.mark.parametrize(
    "case", ["no-secret-key", "direct-false", "memory-provider", "turned-off"]
)
def test_the_macro_posts_files_when_it_cannot_upload_them_itself(
    tmp_path: Path, case: str
) -> None:
    config: dict[str, Any] = {
        "memory-provider": {
            "STORE_PROVIDER": "flask_store.providers.memory.MemoryProvider"
        },
        "turned-off": {"STORE_DIRECT_UPLOADS": False},
    }.get(case, {})
    app = local_app(tmp_path, **config)
    if case == "no-secret-key":
        app.config["SECRET_KEY"] = None
    found = attributes(app, direct=case != "direct-false")
    assert not [name for name in found if "direct" in name or "grant" in name]


# -- UploadForm with receipts ------------------------------------------------


def test_a_receipt_is_a_file_of_the_form(tmp_path: Path) -> None:
    app = local_app(tmp_path)
    receipt = tus_receipt(app, b"sent by the page")
    form, valid = form_with(app, [receipt, posted(b"posted", "other.txt")])
    assert valid, form.errors
    received, upload = form.file.data
    assert isinstance(received, Provider)
    assert received.relative_path == "notes.txt"
    assert isinstance(upload, FileStorage)


def test_the_004_loop_saves_receipts_and_posted_files(tmp_path: Path) -> None:
    app = local_app(tmp_path)
    receipt = tus_receipt(app, b"sent by the page", location="team")
    data = MultiDict(
        [("file", receipt), ("file", posted(b"posted", "b.txt")), ("location", "team")]
    )
    store = app.extensions["store"].store
    with app.test_request_context(method="POST"):
        form = UploadForm(formdata=data)
        assert form.validate_on_submit(), form.errors
        saved = [
            store.Provider(upload, location=form.location.data).save()
            for upload in form.file.data
        ]
        assert [p.relative_path for p in saved] == ["team/notes.txt", "team/b.txt"]
        assert [p.absolute_url for p in saved] == [
            "http://localhost/uploads/team/notes.txt",
            "http://localhost/uploads/team/b.txt",
        ]
    assert stored(app) == {
        "team/notes.txt": b"sent by the page",
        "team/b.txt": b"posted",
    }


@pytest.mark.parametrize("kind", ["forged", "expired", "size-mismatch", "gone"])
def test_a_bad_receipt_is_the_fields_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    app = local_app(tmp_path)
    receipt = tus_receipt(app, b"hello")
    path = Path(app.config["STORE_PATH"]) / "notes.txt"
    if kind == "forged":
        receipt = receipt[:-2] + ("AA" if not receipt.endswith("AA") else "BB")
    elif kind == "expired":
        now = int(time.time())
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + 3602)
    elif kind == "size-mismatch":
        path.write_bytes(b"hello, changed by someone else")
    else:
        path.unlink()
    form, valid = form_with(app, [receipt])
    assert not valid
    message = {
        "forged": "The upload's token is not valid or has expired: upload the file again.",
        "expired": "The upload's token is not valid or has expired: upload the file again.",
        "size-mismatch": "'notes.txt' is not stored as it was uploaded: upload the file again.",
        "gone": "'notes.txt' is not stored as it was uploaded: upload the file again.",
    }[kind]
    assert form.file.errors == [message]
    if kind == "size-mismatch":  # not ours to delete: someone else wrote it
        assert stored(app) == {"notes.txt": b"hello, changed by someone else"}


def test_a_receipt_refused_by_its_content_is_deleted(tmp_path: Path) -> None:
    app = local_app(tmp_path)
    data = b"#!/bin/sh\necho hello\n"
    receipt = tus_receipt(app, data, "photo.txt")
    # The rules changed after the upload (the forms read them as they validate).
    app.config["STORE_ALLOWED_TYPES"] = {"image/*"}
    form, valid = form_with(app, [receipt])
    assert not valid
    same, _ = form_with(app, [posted(data, "photo.txt")])
    assert form.file.errors == same.file.errors
    assert (
        "photo.txt is not an allowed type: its content is text/plain"
        in (form.file.errors[0])
    )
    assert form.file_errors == {"photo.txt": form.file.errors}
    assert stored(app) == {}


def test_a_receipt_refused_by_the_rules_of_the_form_is_deleted(tmp_path: Path) -> None:
    app = local_app(tmp_path)
    receipt = tus_receipt(app, b"a" * 100, "big.txt")
    other = tus_receipt(app, b"tiny", "tiny.exe")
    app.config.update(STORE_MAX_SIZE=10, STORE_ALLOWED_EXTENSIONS={"pdf", "txt"})
    form, valid = form_with(app, [receipt])
    assert not valid
    assert form.file.errors == [
        "big.txt is larger than 10 bytes, the largest file allowed."
    ]
    assert stored(app) == {"tiny.exe": b"tiny"}
    form, valid = form_with(app, [other])
    assert form.file.errors == [
        "tiny.exe is not an allowed type (allowed: .pdf, .txt)."
    ]
    assert stored(app) == {}


def test_a_receipt_for_another_folder_is_refused(tmp_path: Path) -> None:
    app = local_app(tmp_path)
    receipt = tus_receipt(app, b"hello", location="team")
    form, valid = form_with(app, [receipt], location="elsewhere")
    assert not valid
    assert form.file.errors == [
        "notes.txt was uploaded to the folder 'team', not 'elsewhere': upload it again."
    ]
    assert stored(app) == {}


def test_only_refused_receipts_are_errors(tmp_path: Path) -> None:
    app = local_app(tmp_path)
    good = tus_receipt(app, b"good", "good.txt")
    form, valid = form_with(app, ["not-a-receipt", good])
    assert not valid
    assert form.file.errors == [
        "The upload's token is not valid or has expired: upload the file again."
    ]
    assert [p.relative_path for p in form.file.data] == ["good.txt"]


def test_a_form_with_nothing_still_asks_for_a_file(tmp_path: Path) -> None:
    app = local_app(tmp_path)
    form, valid = form_with(app, ["", posted(b"", "")])
    assert not valid
    assert form.file.errors == ["Choose at least one file to upload."]


def test_a_receipt_from_s3_is_a_file_of_the_form(
    tmp_path: Path, moto_server: str
) -> None:
    bucket = f"forms-{uuid.uuid4().hex[:12]}"
    raw = create_bucket(bucket, moto_server)
    app = s3_app(tmp_path, bucket, moto_server, WTF_CSRF_ENABLED=False)
    client = app.test_client()
    with app.app_context():
        headers = {"Flask-Store-Grant": upload_grant("plans")}
    started = client.post(
        ROOT + "s3/multipart", json={"filename": "plan.txt"}, headers=headers
    ).get_json()
    signed = client.get(
        ROOT + f"s3/multipart/{started['uploadId']}/1",
        query_string={"key": started["key"]},
        headers=headers,
    ).get_json()
    put = requests.put(signed["url"], data=b"the plan", timeout=30)
    done = client.post(
        ROOT + f"s3/multipart/{started['uploadId']}/complete",
        query_string={"key": started["key"]},
        json={"parts": [{"PartNumber": 1, "ETag": put.headers["ETag"]}]},
        headers=headers,
    )
    assert done.status_code == 200, done.get_json()
    receipt = done.get_json()["receipt"]
    assert done.headers["Flask-Store-Receipt"] == receipt
    form, valid = form_with(app, [receipt], location="plans")
    assert valid, form.errors
    with app.app_context():
        [saved] = [
            app.extensions["store"].provider(u, location="plans").save()
            for u in form.file.data
        ]
        assert saved.relative_path == "plans/plan.txt"
    app.config["STORE_ALLOWED_TYPES"] = {"image/*"}
    form, valid = form_with(app, [receipt], location="plans")
    assert not valid
    assert raw.list_objects_v2(Bucket=bucket).get("Contents", []) == []


# -- providers of received files ---------------------------------------------


def test_a_provider_of_a_stored_file_makes_a_handle_on_it(tmp_path: Path) -> None:
    app = local_app(tmp_path)
    with app.app_context():
        provider = app.extensions["store"].provider
        original = provider(io.BytesIO(b"x"), filename="a.txt", location="docs").save()
        same = provider(original, location="docs")
        assert same.relative_path == "docs/a.txt"
        assert provider(original).relative_path == "docs/a.txt"
        with pytest.raises(
            ValueError, match="stored in the folder 'docs', not 'other'"
        ):
            provider(original, location="other")
        # Only a received file is "saved" as it is; a stored one has nothing to save.
        with pytest.raises(ValueError, match="already stored"):
            same.save()
        with pytest.raises(TypeError, match="must be a stored file"):
            provider(provider(io.BytesIO(b"x"), filename="b.txt"))


# -- StoreFileField ----------------------------------------------------------


def field_form(app: Flask, value: Any, location: str | None = None) -> Any:
    from flask_wtf import FlaskForm

    class Attach(FlaskForm):  # type: ignore[misc]
        attachment = StoreFileField("Attachment", location=location)

    with app.test_request_context(method="POST"):
        form = Attach(formdata=MultiDict([("attachment", value)]))
        return form, form.validate()


def test_store_file_field_takes_a_receipt_or_a_file(tmp_path: Path) -> None:
    app = local_app(tmp_path)
    receipt = tus_receipt(app, b"hello", location="docs")
    form, valid = field_form(app, receipt, location="docs")
    assert valid, form.errors
    assert isinstance(form.attachment.data, Provider)
    assert form.attachment.data.received
    assert form.attachment.data.relative_path == "docs/notes.txt"
    form, valid = field_form(app, posted(b"posted", "p.txt"))
    assert valid
    assert isinstance(form.attachment.data, FileStorage)
    form, valid = field_form(app, "")
    assert valid
    assert form.attachment.data is None


def test_store_file_field_refuses_and_deletes(tmp_path: Path) -> None:
    app = local_app(tmp_path)
    receipt = tus_receipt(app, b"not a picture", "photo.png")
    app.config["STORE_ALLOWED_TYPES"] = {"image/*"}
    form, valid = field_form(app, receipt)
    assert not valid
    assert form.attachment.errors[0].startswith(
        "photo.png is not what its name says: the name says image/png"
    )
    assert stored(app) == {}
    same, valid = field_form(app, posted(b"not a picture", "photo.png"))
    assert not valid  # the rules apply to posted files too, with the same words
    assert same.attachment.errors == form.attachment.errors
    form, valid = field_form(app, receipt + "x")
    assert form.attachment.errors == [
        "The upload's token is not valid or has expired: upload the file again."
    ]


def test_store_file_field_keeps_received_files_in_its_folder(tmp_path: Path) -> None:
    app = local_app(tmp_path)
    receipt = tus_receipt(app, b"hello", location="elsewhere")
    form, valid = field_form(app, receipt, location="docs")
    assert not valid
    assert "uploaded to the folder 'elsewhere', not 'docs'" in form.attachment.errors[0]
    assert stored(app) == {}


def test_a_refused_receipt_a_row_uses_is_kept(tmp_path: Path) -> None:
    from flask_sqlalchemy import SQLAlchemy

    from flask_store.sqla import FlaskStoreType

    db = SQLAlchemy()

    class Note(db.Model):  # type: ignore[name-defined]
        __tablename__ = f"note_{uuid.uuid4().hex[:8]}"
        id = db.Column(db.Integer, primary_key=True)
        file = db.Column(FlaskStoreType(128))

    app = local_app(tmp_path, SQLALCHEMY_DATABASE_URI="sqlite://")
    db.init_app(app)
    receipt = tus_receipt(app, b"plain words", "words.txt")
    with app.app_context():
        db.create_all()
        form, valid = field_form(app, receipt)
        db.session.add(Note(file=form.attachment.data))
        db.session.commit()
        app.config["STORE_ALLOWED_EXTENSIONS"] = {"pdf"}
        form, valid = field_form(app, receipt)
        assert not valid
        db.session.remove()
    assert stored(app) == {"words.txt": b"plain words"}


# -- the admin and the example app --------------------------------------------


def csrf(client: FlaskClient, url: str) -> str:
    found = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', client.get(url).text
    )
    assert found is not None
    return found.group(1)


def test_the_admin_takes_receipts(tmp_path: Path) -> None:
    from flask_store.blueprint import blueprint

    app = make_app(tmp_path, STORE_ADMIN_ACCESS=True)
    Store(app)
    app.register_blueprint(blueprint, url_prefix="/admin/files")
    client = app.test_client()
    receipt = tus_receipt(app, b"from the page", location="team")
    refused_receipt = tus_receipt(app, b"x", "second.txt", location="team")
    page = client.get("/admin/files/?folder=team").text
    grant = re.search(r'data-upload-grant="([^"]+)"', page)
    assert grant is not None
    assert read_grant(grant.group(1), app=app) == "team"
    token = csrf(client, "/admin/files/")
    response = client.post(
        "/admin/files/upload",
        data={"csrf_token": token, "file": receipt, "location": "team"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {
        "files": [
            {
                "name": "notes.txt",
                "path": "team/notes.txt",
                "url": "http://localhost/uploads/team/notes.txt",
                "size": 13,
            }
        ]
    }
    app.config["STORE_ALLOWED_EXTENSIONS"] = {"pdf"}
    refused = client.post(
        "/admin/files/upload",
        data={"csrf_token": token, "file": refused_receipt, "location": "team"},
    )
    assert refused.status_code == 400
    assert "second.txt is not an allowed type (allowed: .pdf)." in html.unescape(
        refused.text
    )
    assert stored(app) == {"team/notes.txt": b"from the page"}


def test_the_example_app_takes_receipts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from example_app import create_app, settings

    for key in list(__import__("os").environ):
        if key.startswith(("STORE_", "EXAMPLE_", "FLASK_")):
            monkeypatch.delenv(key)
    app = create_app({"TESTING": True}, instance_path=str(tmp_path / "instance"))
    client = app.test_client()
    assert "data-upload-grant" not in client.get("/").text  # not logged in
    token = csrf(client, "/login")
    client.post(
        "/login",
        data={
            "csrf_token": token,
            "username": "admin",
            "password": settings.DEV_PASSWORD,
        },
    )
    page = client.get("/").text
    grant = re.search(r'data-upload-grant="([^"]+)"', page)
    assert grant is not None
    receipt = tus_receipt(app, b"a,b\n1,2\n", "table.csv", location="documents")
    response = client.post(
        "/documents",
        data={
            "csrf_token": csrf(client, "/"),
            "file": receipt,
            "location": "documents",
        },
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 201, response.get_json()
    [item] = response.get_json()["files"]
    assert item["path"] == "documents/table.csv"
    with client.get("/uploads/documents/table.csv") as served:
        assert served.data == b"a,b\n1,2\n"
    forged = client.post(
        "/documents",
        data={"csrf_token": csrf(client, "/"), "file": receipt + "x"},
        headers={"Accept": "application/json"},
    )
    assert forged.status_code == 400
    assert forged.get_json()["error"] == (
        "The upload's token is not valid or has expired: upload the file again."
    )
    # The edit form's StoreFileField takes a receipt too.
    doc_url = item["url"]
    replacement = tus_receipt(app, b"c,d\n3,4\n", "new.csv", location="documents")
    edited = client.post(
        doc_url,
        data={
            "csrf_token": csrf(client, doc_url),
            "title": "Table",
            "attachment": replacement,
        },
    )
    assert edited.status_code == 302, edited.text
    assert "/uploads/documents/new.csv" in client.get(doc_url).text
    wrong = tus_receipt(app, b"e,f\n", "elsewhere.csv")
    refused = client.post(
        doc_url,
        data={"csrf_token": csrf(client, doc_url), "title": "T", "attachment": wrong},
    )
    assert refused.status_code == 400
    assert "uploaded to the folder" in html.unescape(refused.text)


# -- the examples of docs/uploads.md --------------------------------------------


def test_docs_macro_example_takes_a_file_the_page_uploaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from .docs_examples import run_example

    monkeypatch.chdir(tmp_path)
    module = run_example("macro-direct", "docs_macro_direct_example")
    try:
        app: Flask = module.app
        client = app.test_client()
        page = client.get("/documents").text
        found = dict(re.findall(r'(data-[a-z-]+)="([^"]*)"', page))
        assert found["data-direct"] == "tus"
        assert read_grant(html.unescape(found["data-upload-grant"]), app=app) == (
            "documents"
        )
        receipt = tus_receipt(app, b"a large report", "report.pdf", "documents")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert token is not None
        response = client.post(
            "/documents",
            data={
                "csrf_token": token.group(1),
                "file": [receipt, (io.BytesIO(b"small"), "small.txt")],
                "location": "documents",
            },
        )
        assert response.status_code == 302
        assert stored(app) == {
            "documents/report.pdf": b"a large report",
            "documents/small.txt": b"small",
        }
    finally:
        sys.modules.pop("docs_macro_direct_example", None)


def test_docs_grant_example_hands_a_grant_to_a_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from .docs_examples import run_example

    monkeypatch.chdir(tmp_path)
    module = run_example("grant", "docs_grant_example")
    try:
        app: Flask = module.app
        page = app.test_client().get("/my-uploader").text
        grant = re.search(r'data-grant="([^"]+)"', page)
        assert grant is not None
        assert read_grant(grant.group(1), app=app) == "reports"
    finally:
        sys.modules.pop("docs_grant_example", None)


def test_docs_store_file_field_example(tmp_path: Path) -> None:
    import sys

    from .docs_examples import run_example

    module = run_example("store-file-field", "docs_store_file_field_example")
    try:
        app = local_app(tmp_path)
        receipt = tus_receipt(app, b"minutes", "minutes.txt", location="documents")
        elsewhere = tus_receipt(app, b"x", "x.txt")
        with app.test_request_context(method="POST"):
            form = module.DocumentForm(
                formdata=MultiDict([("title", "Minutes"), ("attachment", receipt)])
            )
            assert form.validate(), form.errors
            assert form.attachment.data.relative_path == "documents/minutes.txt"
            empty = module.DocumentForm(formdata=MultiDict([("title", "None")]))
            assert not empty.validate()
            assert empty.attachment.errors == ["This field is required."]
            wrong = module.DocumentForm(
                formdata=MultiDict([("title", "X"), ("attachment", elsewhere)])
            )
            assert not wrong.validate()
        assert stored(app) == {"documents/minutes.txt": b"minutes"}
    finally:
        sys.modules.pop("docs_store_file_field_example", None)


def test_the_example_app_reads_the_upload_settings_from_the_environment() -> None:
    from example_app import settings

    config = settings.from_environment(
        {"STORE_DIRECT_UPLOADS": "off", "STORE_TUS_MIN_SIZE": "1000000"}
    )
    assert config == {"STORE_DIRECT_UPLOADS": False, "STORE_TUS_MIN_SIZE": 1_000_000}
