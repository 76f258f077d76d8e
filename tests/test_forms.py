"""``flask_store.forms``: UploadForm validated against the app's config."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from werkzeug.datastructures import FileStorage, MultiDict

from flask_store import Store
from flask_store.forms import UploadForm, upload_rules

from .conftest import make_app


@pytest.fixture
def form_app(tmp_path: Any) -> Flask:
    app = make_app(tmp_path, WTF_CSRF_ENABLED=False)
    Store(app)
    return app


def validate(app: Flask, files: list[tuple[bytes, str]], **fields: str) -> UploadForm:
    data = MultiDict(
        [("file", FileStorage(io.BytesIO(b), filename=n)) for b, n in files]
        + list(fields.items())
    )
    with app.test_request_context(method="POST"):
        form = UploadForm(formdata=data)
        form.validate()
        return form


def test_accepts_one_or_more_files(form_app: Flask) -> None:
    form = validate(form_app, [(b"a", "a.txt")])
    assert form.errors == {}
    assert [f.filename for f in form.file.data] == ["a.txt"]
    form = validate(form_app, [(b"a", "a.txt"), (b"b", "b.png")])
    assert form.errors == {}
    assert [f.filename for f in form.file.data] == ["a.txt", "b.png"]


def test_a_file_is_required(form_app: Flask) -> None:
    form = validate(form_app, [])
    assert form.errors == {"file": ["Choose at least one file to upload."]}
    form = validate(form_app, [(b"", "")])  # the empty part browsers send
    assert form.errors == {"file": ["Choose at least one file to upload."]}


def test_allowed_extensions_are_read_at_validation_time(form_app: Flask) -> None:
    assert validate(form_app, [(b"x", "a.exe")]).errors == {}
    form_app.config["STORE_ALLOWED_EXTENSIONS"] = {"PNG", ".jpg"}
    png, jpeg = b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0"
    form = validate(form_app, [(png, "a.png"), (jpeg, "b.JPG"), (b"x", "c.exe")])
    assert form.errors == {
        "file": ["c.exe is not an allowed type (allowed: .jpg, .png)."]
    }
    assert form.file_errors == {
        "c.exe": ["c.exe is not an allowed type (allowed: .jpg, .png)."]
    }


def test_every_refused_file_is_named(form_app: Flask) -> None:
    form_app.config.update(STORE_ALLOWED_EXTENSIONS={"txt"}, STORE_MAX_SIZE=3)
    form = validate(form_app, [(b"1234", "a.txt"), (b"1", "b.exe"), (b"1", "ok.txt")])
    assert form.errors == {
        "file": [
            "a.txt is larger than 3 bytes, the largest file allowed.",
            "b.exe is not an allowed type (allowed: .txt).",
        ]
    }
    assert sorted(form.file_errors) == ["a.txt", "b.exe"]


def test_max_size(form_app: Flask) -> None:
    form_app.config["STORE_MAX_SIZE"] = 1024 * 1024
    assert validate(form_app, [(b"x" * 1024 * 1024, "a.bin")]).errors == {}
    form = validate(form_app, [(b"x" * (1024 * 1024 + 1), "a.bin")])
    assert form.errors == {
        "file": ["a.bin is larger than 1 MB, the largest file allowed."]
    }


def test_a_string_of_extensions_is_a_clear_error(form_app: Flask) -> None:
    form_app.config["STORE_ALLOWED_EXTENSIONS"] = "png"
    with pytest.raises(TypeError, match="must be a set of extensions"):
        validate(form_app, [(b"x", "a.png")])


@pytest.mark.parametrize(
    ("location", "cleaned", "error"),
    [
        ("", "", None),
        ("docs/2026/", "docs/2026", None),
        ("../up", None, "may not contain '..'"),
        ("/abs", None, "must be relative"),
        ("a\\b", None, "backslashes"),
    ],
)
def test_location(
    form_app: Flask, location: str, cleaned: str | None, error: str | None
) -> None:
    form = validate(form_app, [(b"x", "a.txt")], location=location)
    if error is None:
        assert form.errors == {}
        assert form.location.data == cleaned
    else:
        assert error in form.errors["location"][0]


def test_csrf_is_on_by_default(tmp_path: Any) -> None:
    app = make_app(tmp_path)
    Store(app)
    data = MultiDict([("file", FileStorage(io.BytesIO(b"x"), filename="a.txt"))])
    with app.test_request_context(method="POST"):
        form = UploadForm(formdata=data)
        assert not form.validate()
        assert "csrf_token" in form.errors


def test_upload_rules(form_app: Flask) -> None:
    assert upload_rules(form_app.config) == {
        "accept": None,
        "allowed": None,
        "types": None,
        "max_size": None,
        "hint": "",
    }
    form_app.config.update(STORE_ALLOWED_EXTENSIONS={"png", "jpg"}, STORE_MAX_SIZE=2048)
    assert upload_rules(form_app.config) == {
        "accept": ".jpg,.png",
        "allowed": ["jpg", "png"],
        "types": None,
        "max_size": 2048,
        "hint": "Allowed: .jpg, .png · up to 2 kB each",
    }


def test_sizes_and_rules_need_no_wtforms() -> None:
    import subprocess
    import sys

    from flask_store import forms, humanize, rules

    assert forms.human_size is humanize.human_size
    assert forms.upload_rules is rules.upload_rules
    code = (
        "import sys\n"
        "import flask_store.humanize, flask_store.rules, flask_store.assets\n"
        "import flask_store.admin, flask_store.serving\n"
        "loaded = {'wtforms', 'flask_wtf', 'sqlalchemy'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
