"""Types by content: STORE_ALLOWED_TYPES and names that contradict the content,
through the forms and the admin, as a user meets them."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_store import Store
from flask_store.blueprint import blueprint
from flask_store.content import content_type, contradicts, renamed_type, sniff_type
from flask_store.exceptions import NotConfiguredError
from flask_store.forms import UploadForm
from flask_store.rules import content_refusal, type_allowed, upload_rules

from .conftest import make_app
from .hostile_files import GIF_HTML, HTML, huge_png, image

PREFIX = "/admin/files"


@pytest.fixture
def admin(storage: Flask) -> Flask:
    storage.config.update(STORE_ADMIN_ACCESS=True, STORE_ADMIN_CSRF=False)
    storage.register_blueprint(blueprint, url_prefix=PREFIX)
    return storage


def post(client: FlaskClient, files: list[tuple[bytes, str]], json: bool = True) -> Any:
    data = {"file": [(io.BytesIO(content), name) for content, name in files]}
    headers = {"Accept": "application/json"} if json else {}
    return client.post(PREFIX + "/upload", data=data, headers=headers)


def stored(app: Flask) -> list[str]:
    provider = app.extensions["store"].provider
    return sorted(s.path for s in provider.backend_of(app).iter_files())


# -- sniffing ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (image("PNG"), "a.png", "image/png"),
        (image("JPEG"), "a.jpg", "image/jpeg"),
        (image("GIF"), "a.gif", "image/gif"),
        (image("WEBP"), "a.webp", "image/webp"),
        (b"%PDF-1.7\n", "a.pdf", "application/pdf"),
        (HTML, "a.png", "text/html"),
        (b"\xef\xbb\xbf  <!-- c --><svg xmlns='x'>", "a.txt", "image/svg+xml"),
        (b"<?xml version='1.0'?><svg/>", "a.svg", "image/svg+xml"),
        (GIF_HTML, "a.html", "image/gif"),  # a signature wins over markup
        (b"hello world", "a.txt", None),
        (b"BM is how this note starts", "a.txt", None),  # two bytes: a guess
        (b"", "a.png", None),
    ],
)
def test_sniff_type(data: bytes, name: str, expected: str | None) -> None:
    assert sniff_type(data, name) == expected


def test_text_has_its_type_from_its_name_and_a_png_from_its_bytes() -> None:
    assert content_type(b"a,b\n1,2\n", "t.csv") == "text/csv"
    assert content_type(b"not a png", "a.png") == "application/octet-stream"
    assert contradicts("image/png", None)
    assert contradicts("image/png", "text/html")
    assert not contradicts("image/png", "image/jpeg")  # still an image
    assert not contradicts("application/octet-stream", "text/html")
    assert not contradicts("text/plain", None)


def test_type_patterns() -> None:
    assert type_allowed("image/png", ["image/*"])
    assert type_allowed("image/x-png", ["image/png"])
    assert not type_allowed("text/html", ["image/*", "application/pdf"])
    assert type_allowed("text/html", ["*/*"])


# -- the forms and the admin, for every provider ----------------------------


@pytest.mark.store_config(STORE_ALLOWED_TYPES={"image/*"})
def test_allowed_types_by_content(admin: Flask) -> None:
    client = admin.test_client()
    response = post(client, [(image("PNG"), "photo.png"), (b"%PDF-1.4", "doc.pdf")])
    assert response.status_code == 400
    assert response.json["files"] == [
        {
            "name": "doc.pdf",
            "errors": [
                "doc.pdf is not an allowed type: its content is application/pdf "
                "(allowed: image/*)."
            ],
        }
    ]
    assert stored(admin) == []
    response = post(client, [(image("PNG"), "photo.png"), (image("GIF"), "b.gif")])
    assert response.status_code == 201
    assert stored(admin) == ["b.gif", "photo.png"]


@pytest.mark.store_config(STORE_ALLOWED_EXTENSIONS={"png", "txt"})
def test_html_named_png_is_refused(admin: Flask) -> None:
    client = admin.test_client()
    response = post(client, [(HTML, "cat.png")], json=False)
    assert response.status_code == 400
    assert (
        "cat.png is not what its name says: the name says image/png, the content "
        "is text/html. Rename the file to match its content."
    ) in response.get_data(as_text=True)
    response = post(client, [(b"not an image at all", "fake.png")])
    assert response.status_code == 400
    assert "the content is not recognised" in response.json["files"][0]["errors"][0]
    assert stored(admin) == []


@pytest.mark.store_config(
    STORE_ALLOWED_EXTENSIONS={"png"}, STORE_CHECK_CONTENT_MATCHES_NAME=False
)
def test_the_name_check_can_be_turned_off(admin: Flask) -> None:
    response = post(admin.test_client(), [(HTML, "cat.png")])
    assert response.status_code == 201
    assert stored(admin) == ["cat.png"]


@pytest.mark.store_config(STORE_ALLOWED_TYPES={"image/*"})
def test_a_polyglot_is_an_image_and_never_served_as_html(admin: Flask) -> None:
    client = admin.test_client()
    response = post(client, [(GIF_HTML, "both.html")])
    assert response.status_code == 400  # an image named as a page
    assert "the name says text/html, the content is image/gif" in str(response.json)
    response = post(client, [(GIF_HTML, "both.gif")])
    assert response.status_code == 201
    url = response.json["files"][0]["url"]
    provider = admin.extensions["store"].provider("both.gif")
    assert provider.metadata.content_type == "image/gif"
    if admin.config["STORE_PROVIDER"].endswith("LocalProvider"):
        with client.get(url) as served:
            assert served.mimetype == "image/gif"
            assert served.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.store_config(STORE_ALLOWED_TYPES={"image/*"})
def test_hostile_images(admin: Flask) -> None:
    client = admin.test_client()
    response = post(client, [(huge_png(), "bomb.png")])
    assert response.status_code == 400
    message = response.json["files"][0]["errors"][0]
    assert message.startswith("bomb.png is too large an image to open safely: ")
    assert "decompression bomb" in message
    # A truncated image is still the type its first bytes say; its size is
    # unknown, and saving it is no error.
    truncated = image("PNG")[:30]
    response = post(client, [(truncated, "cut.png")])
    assert response.status_code == 201
    metadata = admin.extensions["store"].provider("cut.png").metadata
    assert (metadata.content_type, metadata.width, metadata.height) == (
        "image/png",
        None,
        None,
    )
    assert stored(admin) == ["cut.png"]


def test_rules_are_pure_functions_of_the_config() -> None:
    config = {"STORE_ALLOWED_TYPES": ["image/*"]}
    assert content_refusal("a.png", image("PNG"), config) is None
    assert content_refusal("a.png", HTML, {}) is None  # nothing restricted
    assert content_refusal("a.png", HTML, {"STORE_CHECK_CONTENT_MATCHES_NAME": True})
    assert upload_rules({"STORE_ALLOWED_TYPES": {"image/*", "application/pdf"}}) == {
        "accept": "application/pdf,image/*",
        "allowed": None,
        "types": ["application/pdf", "image/*"],
        "max_size": None,
        "hint": "Types: application/pdf, image/*",
    }
    with pytest.raises(TypeError, match="not a string"):
        upload_rules({"STORE_ALLOWED_TYPES": "image/*"})


def test_a_wrong_value_fails_at_init_app(tmp_path: Any) -> None:
    app = make_app(tmp_path, STORE_CHECK_CONTENT_MATCHES_NAME="yes")
    with pytest.raises(NotConfiguredError, match="STORE_CHECK_CONTENT_MATCHES_NAME"):
        Store(app)


def test_the_macro_hint_names_the_types(tmp_path: Any) -> None:
    app = make_app(tmp_path, STORE_ALLOWED_TYPES={"image/*"}, WTF_CSRF_ENABLED=False)
    Store(app)
    template = app.jinja_env.from_string(
        '{% from "flask_store/macros.html" import upload_form %}'
        "{{ upload_form(form, action='/up') }}"
    )
    with app.test_request_context():
        body = template.render(form=UploadForm())
    assert 'accept="image/*"' in body
    assert "Types: image/*" in body


def test_sniffing_hostile_markup_takes_no_time() -> None:
    import time

    started = time.perf_counter()
    assert sniff_type(b"<!---->" * 5000 + b"x", "a.txt") is None
    assert sniff_type(b"<!--" * 10000, "a.txt") is None
    assert sniff_type(b"<!-- a --> \n<!--b--><HTML>", "a.txt") == "text/html"
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize(
    ("known", "name", "expected"),
    [
        ("image/png", "photo.txt", "image/png"),
        ("application/pdf", "report.html", "application/pdf"),
        ("text/plain", "page.html", "text/html"),
        ("text/html", "notes.txt", "text/plain"),
        ("text/csv", "data", "application/octet-stream"),
    ],
    ids=["png-stays", "pdf-stays", "text-follows", "markup-follows", "no-extension"],
)
def test_a_renamed_file_keeps_the_type_its_bytes_show(
    known: str, name: str, expected: str
) -> None:
    assert renamed_type(known, name) == expected
