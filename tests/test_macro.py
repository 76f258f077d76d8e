"""The upload macro in an app's own page, without the admin blueprint.

The app is the forms guide's example, run as written.
"""

from __future__ import annotations

import html
import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient

from flask_store import Store
from flask_store.forms import UploadForm

from .conftest import make_app
from .docs_examples import example as docs_example


@pytest.fixture
def example(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Flask:
    # The example app's root, and so its instance folder and uploads, are here.
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    exec(docs_example("upload-macro"), namespace)
    app: Flask = namespace["app"]
    assert Path(app.config["STORE_PATH"]).is_relative_to(tmp_path)
    return app


def token(client: FlaskClient, url: str) -> str:
    body = client.get(url).get_data(as_text=True)
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body)
    assert found is not None
    return found.group(1)


def test_macro_renders_a_complete_form(example: Flask) -> None:
    assert "store_admin" not in example.blueprints
    client = example.test_client()
    body = client.get("/documents").get_data(as_text=True)
    form = re.search(r"<form[^>]*>", body)
    assert form is not None
    assert 'method="post"' in form.group(0)
    assert 'action="/documents"' in form.group(0)
    assert 'enctype="multipart/form-data"' in form.group(0)
    assert 'name="csrf_token" type="hidden" value="' in body
    assert re.search(
        r'<input accept="\.jpg,\.pdf,\.png"[^>]* multiple name="file"', body
    )
    assert '<label class="fs-dropzone-label" for="file">' in body
    assert "Allowed: .jpg, .pdf, .png · up to 10.5 MB each" in html.unescape(body)
    assert '<ul class="fs-progress" aria-live="polite" hidden></ul>' in body
    assert 'data-max-size="10485760"' in body
    assert 'data-allowed="jpg pdf png"' in body
    # No inline code: a strict CSP holds.
    assert "style=" not in body
    assert not re.search(r"<script(?![^>]*\ssrc=)", body)
    assets = re.findall(r'(?:href|src)="([^"]+)"', body)
    assert assets == [
        "/_flask_store/static/flask_store.css",
        "/_flask_store/static/flask_store.js",
    ]
    for url, mimetype in zip(assets, ["text/css", "text/javascript"], strict=True):
        with client.get(url) as response:
            assert response.status_code == 200
            assert response.mimetype == mimetype


def test_macro_form_uploads(example: Flask) -> None:
    client = example.test_client()
    data = {
        "csrf_token": token(client, "/documents"),
        "file": [
            (io.BytesIO(b"%PDF"), "a.pdf"),
            (io.BytesIO(b"\x89PNG\r\n\x1a\n"), "b.png"),
        ],
    }
    response = client.post("/documents", data=data)
    assert response.status_code == 302
    assert sorted(os.listdir(Path(example.config["STORE_PATH"]) / "documents")) == [
        "a.pdf",
        "b.png",
    ]


def test_macro_shows_refusals(example: Flask) -> None:
    client = example.test_client()
    data = {
        "csrf_token": token(client, "/documents"),
        "file": [(io.BytesIO(b"ok"), "a.pdf"), (io.BytesIO(b"MZ"), "tool.exe")],
    }
    body = html.unescape(client.post("/documents", data=data).get_data(as_text=True))
    assert re.search(r'<div role="alert">\s*<ul class="fs-errors">', body)
    assert "tool.exe is not an allowed type (allowed: .jpg, .pdf, .png)." in body
    assert not os.path.exists(example.config["STORE_PATH"])


def test_macro_shows_a_csrf_failure(example: Flask) -> None:
    client = example.test_client()
    data = {"file": (io.BytesIO(b"ok"), "a.pdf")}
    body = html.unescape(client.post("/documents", data=data).get_data(as_text=True))
    assert "The form's security token (CSRF) is missing or has expired." in body
    assert not os.path.exists(example.config["STORE_PATH"])


def test_macro_without_csrf_and_with_options(tmp_path: Any) -> None:
    app = make_app(tmp_path, WTF_CSRF_ENABLED=False)
    Store(app)
    with app.test_request_context("/"):
        form = UploadForm(location="inbox")
        body = render_template_string(
            '{% from "flask_store/macros.html" import upload_form %}'
            "{{ upload_form(form, action='/up', submit_label='Send', assets=False,"
            " next='/back') }}",
            form=form,
        )
    assert "csrf_token" not in body
    assert '<input type="hidden" name="location" value="inbox">' in body
    assert '<input type="hidden" name="next" value="/back">' in body
    assert ">Send</button>" in body
    assert "<link" not in body
    assert "<script" not in body
    assert "accept=" not in body
    assert "Any file type" in body
