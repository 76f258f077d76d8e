"""The admin blueprint through the Flask test client, for every provider."""

from __future__ import annotations

import html
import io
import os
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from flask_wtf.csrf import CSRFProtect

from flask_store import Store
from flask_store.blueprint import blueprint
from flask_store.providers.local import LocalProvider
from flask_store.providers.memory import MemoryProvider

from .conftest import make_app

PREFIX = "/admin/files"


@pytest.fixture
def admin(storage: Flask) -> Flask:
    """The ``storage`` app with the admin mounted and open."""
    storage.config["STORE_ADMIN_ACCESS"] = True
    storage.register_blueprint(blueprint, url_prefix=PREFIX)
    return storage


@pytest.fixture
def browser(admin: Flask) -> FlaskClient:
    return admin.test_client()


def page(client: FlaskClient, url: str = PREFIX + "/") -> str:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def csrf_token(client: FlaskClient) -> str:
    """The CSRF token of the client's session, read from the browse page."""
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page(client))
    assert found is not None
    return found.group(1)


def stored(app: Flask, location: str = "") -> list[str]:
    """Names of the files directly in ``location``."""
    provider = app.extensions["store"].provider
    return [e.name for e in provider.list_folder(location, limit=1000, app=app).files]


def save(app: Flask, name: str, data: bytes = b"data", location: str = "") -> str:
    provider = app.extensions["store"].provider
    return str(
        provider(io.BytesIO(data), filename=name, location=location)
        .save()
        .relative_path
    )


def post_files(
    client: FlaskClient,
    files: list[tuple[bytes, str]],
    *,
    token: str | None = "fetch",
    json: bool = False,
    **fields: str,
) -> Any:
    data: dict[str, Any] = dict(fields)
    data["file"] = [(io.BytesIO(content), name) for content, name in files]
    if token == "fetch":
        token = csrf_token(client)
    if token is not None:
        data["csrf_token"] = token
    headers = {"Accept": "application/json"} if json else {}
    return client.post(PREFIX + "/upload", data=data, headers=headers)


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


# -- access -------------------------------------------------------------------

VIEWS = [
    ("get", "/"),
    ("get", "/models"),
    ("get", "/file/a.txt"),
    ("post", "/upload"),
    ("post", "/delete"),
    ("post", "/folder"),
]


@pytest.mark.parametrize(("method", "path"), VIEWS)
def test_admin_is_closed_by_default(tmp_path: Any, method: str, path: str) -> None:
    app = make_app(
        tmp_path, STORE_PROVIDER="flask_store.providers.memory.MemoryProvider"
    )
    Store(app)
    app.register_blueprint(blueprint, url_prefix=PREFIX)
    with app.app_context():
        save(app, "a.txt")
    response = getattr(app.test_client(), method)(PREFIX + path)
    assert response.status_code == 403
    body = text(response)
    assert "STORE_ADMIN_ACCESS" in body
    assert 'app.config["STORE_ADMIN_ACCESS"] = lambda' in body


def test_refused_upload_stores_nothing(tmp_path: Any) -> None:
    app = make_app(tmp_path)
    Store(app)
    app.register_blueprint(blueprint, url_prefix=PREFIX)
    client = app.test_client()
    response = client.post(
        PREFIX + "/upload", data={"file": (io.BytesIO(b"x"), "a.txt")}
    )
    assert response.status_code == 403
    assert not os.path.exists(app.config["STORE_PATH"]) or not os.listdir(
        app.config["STORE_PATH"]
    )


def test_access_callable_decides_per_request(tmp_path: Any) -> None:
    app = make_app(tmp_path)
    app.config["STORE_ADMIN_ACCESS"] = lambda: request.headers.get("X-Admin") == "yes"
    Store(app)
    app.register_blueprint(blueprint, url_prefix=PREFIX)
    client = app.test_client()
    assert client.get(PREFIX + "/").status_code == 403
    assert client.get(PREFIX + "/", headers={"X-Admin": "yes"}).status_code == 200


def test_access_refused_as_json(tmp_path: Any) -> None:
    app = make_app(tmp_path, STORE_ADMIN_ACCESS=lambda: False)
    Store(app)
    app.register_blueprint(blueprint, url_prefix=PREFIX)
    response = app.test_client().get(
        PREFIX + "/", headers={"Accept": "application/json"}
    )
    assert response.status_code == 403
    assert "STORE_ADMIN_ACCESS" in response.json["error"]


def test_mounts_at_any_prefix(tmp_path: Any) -> None:
    app = make_app(tmp_path, STORE_ADMIN_ACCESS=True)
    Store(app)
    app.register_blueprint(blueprint, url_prefix="/x/y/files")
    body = app.test_client().get("/x/y/files/").get_data(as_text=True)
    assert 'action="/x/y/files/upload"' in body
    # The stylesheet and script are served, whatever the prefix.
    for asset in re.findall(r'(?:href|src)="(/[^"]+\.(?:css|js))"', body):
        with app.test_client().get(asset) as response:
            assert response.status_code == 200


# -- CSRF ---------------------------------------------------------------------


def test_upload_without_csrf_token_is_refused(
    admin: Flask, browser: FlaskClient
) -> None:
    response = post_files(browser, [(b"x", "a.txt")], token=None)
    assert response.status_code == 400
    assert "security token (CSRF)" in text(response)
    assert stored(admin) == []


def test_upload_with_a_forged_token_is_refused_as_json(
    admin: Flask, browser: FlaskClient
) -> None:
    response = post_files(browser, [(b"x", "a.txt")], token="forged", json=True)
    assert response.status_code == 400
    assert "CSRF" in response.json["error"]
    assert stored(admin) == []


def test_delete_and_folder_without_csrf_token_change_nothing(
    admin: Flask, browser: FlaskClient
) -> None:
    path = save(admin, "keep.txt")
    response = browser.post(PREFIX + "/delete", data={"path": path, "confirmed": "yes"})
    assert response.status_code == 400
    assert "CSRF" in text(response)
    response = browser.post(PREFIX + "/folder", data={"name": "new"})
    assert response.status_code == 400
    assert "CSRF" in text(response)
    assert stored(admin) == ["keep.txt"]
    assert [
        e.name for e in admin.extensions["store"].provider.list_folder().folders
    ] == []


def test_gets_never_change_anything(admin: Flask, browser: FlaskClient) -> None:
    path = save(admin, "keep.txt")
    for url in ("/delete?path=" + path + "&confirmed=yes", "/upload", "/folder?name=x"):
        assert browser.get(PREFIX + url).status_code == 405
    assert stored(admin) == ["keep.txt"]


def test_works_with_app_wide_csrf_protection(tmp_path: Any) -> None:
    app = make_app(
        tmp_path,
        STORE_PROVIDER="flask_store.providers.memory.MemoryProvider",
        STORE_ADMIN_ACCESS=True,
    )
    Store(app)
    CSRFProtect(app)
    app.register_blueprint(blueprint, url_prefix=PREFIX)
    client = app.test_client()
    refused = post_files(client, [(b"x", "a.txt")], token=None)
    assert refused.status_code == 400
    assert "security token (CSRF)" in text(refused)
    accepted = post_files(client, [(b"x", "a.txt")])
    assert accepted.status_code == 302
    with app.app_context():
        assert stored(app) == ["a.txt"]


# -- upload -------------------------------------------------------------------


def test_upload_several_files(admin: Flask, browser: FlaskClient) -> None:
    response = post_files(browser, [(b"one", "one.txt"), (b"two", "two.txt")])
    assert response.status_code == 302
    assert response.headers["Location"] == PREFIX + "/"
    assert sorted(stored(admin)) == ["one.txt", "two.txt"]
    provider = admin.extensions["store"].provider
    assert provider("two.txt").read() == b"two"
    assert "Uploaded one.txt, two.txt." in text(browser.get(PREFIX + "/"))


def test_upload_into_a_folder(admin: Flask, browser: FlaskClient) -> None:
    response = post_files(browser, [(b"x", "a.txt")], location="docs/2026")
    assert response.status_code == 302
    assert response.headers["Location"] == PREFIX + "/?folder=docs/2026"
    assert stored(admin, "docs/2026") == ["a.txt"]
    body = page(browser, PREFIX + "/?folder=docs/2026")
    assert "a.txt" in body
    # Breadcrumbs lead back up.
    assert f'href="{PREFIX}/?folder=docs"' in body
    assert f'href="{PREFIX}/"' in body


def test_upload_json(admin: Flask, browser: FlaskClient) -> None:
    response = post_files(browser, [(b"12345", "a.txt"), (b"1", "b.txt")], json=True)
    assert response.status_code == 201
    files = response.json["files"]
    assert [(f["name"], f["size"]) for f in files] == [("a.txt", 5), ("b.txt", 1)]
    assert all(f["url"].endswith("/" + f["name"]) for f in files)


def test_refused_extension_stores_nothing(admin: Flask, browser: FlaskClient) -> None:
    admin.config["STORE_ALLOWED_EXTENSIONS"] = {"png", "JPG"}
    response = post_files(browser, [(b"ok", "fine.png"), (b"MZ", "tool.exe")])
    assert response.status_code == 400
    assert "tool.exe is not an allowed type (allowed: .jpg, .png)." in text(response)
    assert stored(admin) == []


def test_refused_files_as_json_name_each_file(
    admin: Flask, browser: FlaskClient
) -> None:
    admin.config.update(STORE_ALLOWED_EXTENSIONS={"txt"}, STORE_MAX_SIZE=4)
    response = post_files(
        browser,
        [(b"ok", "fine.txt"), (b"too long", "big.txt"), (b"x", "x.exe")],
        json=True,
    )
    assert response.status_code == 400
    assert response.json["files"] == [
        {
            "name": "big.txt",
            "errors": ["big.txt is larger than 4 bytes, the largest file allowed."],
        },
        {"name": "x.exe", "errors": ["x.exe is not an allowed type (allowed: .txt)."]},
    ]
    assert stored(admin) == []


def test_too_large_for_store_max_size(admin: Flask, browser: FlaskClient) -> None:
    admin.config["STORE_MAX_SIZE"] = 1024
    response = post_files(browser, [(b"x" * 1025, "big.bin")])
    assert response.status_code == 400
    assert "big.bin is larger than 1 kB, the largest file allowed." in text(response)
    assert stored(admin) == []


@pytest.mark.parametrize("json", [False, True])
def test_too_large_for_max_content_length(
    admin: Flask, browser: FlaskClient, json: bool
) -> None:
    admin.config["MAX_CONTENT_LENGTH"] = 2048
    response = post_files(browser, [(b"x" * 5000, "big.bin")], json=json)
    assert response.status_code == 413
    message = response.json["error"] if json else text(response)
    assert "The upload is too large: this site accepts at most 2 kB" in message
    assert "MAX_CONTENT_LENGTH" in message
    assert stored(admin) == []


def test_upload_without_a_file(admin: Flask, browser: FlaskClient) -> None:
    response = post_files(browser, [])
    assert response.status_code == 400
    assert "Choose at least one file to upload." in text(response)


def test_upload_to_a_bad_location(admin: Flask, browser: FlaskClient) -> None:
    response = post_files(browser, [(b"x", "a.txt")], location="../outside", json=True)
    assert response.status_code == 400
    assert "may not contain '..'" in response.json["errors"]["location"][0]
    assert stored(admin) == []
    response = post_files(browser, [(b"x", "a.txt")], location="/etc")
    assert response.status_code == 400
    assert "must be relative" in text(response)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/somewhere?x=1", "/somewhere?x=1"),
        ("https://evil.example/", PREFIX + "/"),
        ("//evil.example/", PREFIX + "/"),
        ("/\\evil.example", PREFIX + "/"),
        ("javascript:alert(1)", PREFIX + "/"),
        ("http://localhost/fine", "http://localhost/fine"),
    ],
)
def test_next_stays_on_the_site(
    admin: Flask, browser: FlaskClient, target: str, expected: str
) -> None:
    response = post_files(browser, [(b"x", "a.txt")], next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == expected


# -- delete and new folder -----------------------------------------------------


def test_delete_asks_for_confirmation_first(admin: Flask, browser: FlaskClient) -> None:
    path = save(admin, "report.txt", location="docs")
    token = csrf_token(browser)
    response = browser.post(
        PREFIX + "/delete", data={"csrf_token": token, "path": path}
    )
    assert response.status_code == 200
    body = text(response)
    assert "Delete report.txt?" in body
    assert 'name="confirmed" value="yes"' in body
    assert stored(admin, "docs") == ["report.txt"]

    response = browser.post(
        PREFIX + "/delete",
        data={"csrf_token": token, "path": path, "confirmed": "yes"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == PREFIX + "/?folder=docs"
    assert stored(admin, "docs") == []
    assert "Deleted report.txt." in text(browser.get(response.headers["Location"]))


def test_delete_json_and_missing_file(admin: Flask, browser: FlaskClient) -> None:
    path = save(admin, "a.txt")
    data = {"csrf_token": csrf_token(browser), "path": path}
    json = {"Accept": "application/json"}
    response = browser.post(PREFIX + "/delete", data=data, headers=json)
    assert response.status_code == 400
    assert response.json["error"] == "Send confirmed=yes to delete the file."
    assert stored(admin) == ["a.txt"]
    data["confirmed"] = "yes"
    response = browser.post(PREFIX + "/delete", data=data, headers=json)
    assert response.status_code == 200
    assert response.json == {"deleted": "a.txt"}
    response = browser.post(PREFIX + "/delete", data=data, headers=json)
    assert response.status_code == 404
    assert "a.txt is not stored" in response.json["error"]


@pytest.mark.parametrize("path", ["../etc/passwd", "", "a/../../b.txt", "/etc/passwd"])
def test_delete_refuses_bad_paths(
    admin: Flask, browser: FlaskClient, path: str
) -> None:
    save(admin, "keep.txt")
    data = {"csrf_token": csrf_token(browser), "path": path, "confirmed": "yes"}
    response = browser.post(PREFIX + "/delete", data=data)
    assert response.status_code == 400
    assert "<h1>Bad Request</h1>" in response.get_data(as_text=True)
    assert stored(admin) == ["keep.txt"]


def test_new_folder(admin: Flask, browser: FlaskClient) -> None:
    token = csrf_token(browser)
    response = browser.post(
        PREFIX + "/folder", data={"csrf_token": token, "location": "a", "name": "b c"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == PREFIX + "/?folder=a/b+c"
    body = page(browser, PREFIX + "/?folder=a")
    assert "b c" in html.unescape(body)
    # A new folder can receive uploads right away.
    post_files(browser, [(b"x", "in.txt")], location="a/b c")
    assert stored(admin, "a/b c") == ["in.txt"]


def test_new_folder_that_exists_says_so(admin: Flask, browser: FlaskClient) -> None:
    save(admin, "mail.txt", b"x", location="inbox")
    token = csrf_token(browser)
    response = browser.post(
        PREFIX + "/folder",
        data={"csrf_token": token, "name": "inbox"},
        follow_redirects=True,
    )
    assert "Folder inbox already exists: nothing was changed." in text(response)
    assert "Created folder" not in text(response)
    assert stored(admin, "inbox") == ["mail.txt"]
    json = browser.post(
        PREFIX + "/folder",
        data={"csrf_token": token, "name": "inbox"},
        headers={"Accept": "application/json"},
    )
    assert (json.status_code, json.json) == (200, {"folder": "inbox"})


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Give the new folder a name."),
        ("a/b", "may not contain slashes"),
        (".hidden", "may not start with a dot"),
        ("..", "may not start with a dot"),
        ("bad\x01", "control characters"),
    ],
)
def test_new_folder_refuses_bad_names(
    admin: Flask, browser: FlaskClient, name: str, message: str
) -> None:
    token = csrf_token(browser)
    response = browser.post(
        PREFIX + "/folder", data={"csrf_token": token, "name": name}
    )
    assert response.status_code == 400
    assert message in text(response)
    provider = admin.extensions["store"].provider
    assert provider.list_folder().entries == []


# -- browsing -----------------------------------------------------------------


def test_browse_shows_folders_and_files(admin: Flask, browser: FlaskClient) -> None:
    save(admin, "notes.txt", b"x" * 2048)
    save(admin, "pic.png", b"\x89PNG")
    save(admin, "inner.txt", location="sub")
    body = page(browser)
    assert f'href="{PREFIX}/?folder=sub"' in body
    assert "2 kB" in body
    assert "text/plain" in body
    assert "image/png" in body
    # Images get a lazy thumbnail, a small variant; other files an icon.
    assert re.search(
        r'<img src="/_flask_store/variants/[^"]+" alt="" loading="lazy"', body
    )
    assert f'<img src="{PREFIX}/file/notes.txt"' not in body
    assert f'href="{PREFIX}/models"' in body


def test_browse_escapes_names_from_storage(admin: Flask, browser: FlaskClient) -> None:
    evil = "<img src=x onerror=alert(1)>"
    provider = admin.extensions["store"].provider
    provider.create_folder(evil)
    save(admin, "a.txt", location=evil)
    body = page(browser)
    assert evil not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    body = page(browser, PREFIX + "/?folder=" + evil)
    assert evil not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body


def test_browse_escapes_file_names_on_disk(tmp_path: Any) -> None:
    app = make_app(tmp_path, STORE_ADMIN_ACCESS=True)
    Store(app)
    app.register_blueprint(blueprint, url_prefix=PREFIX)
    os.makedirs(app.config["STORE_PATH"])
    evil = "<img src=x onerror=alert(1)>.png"
    with open(os.path.join(app.config["STORE_PATH"], evil), "wb") as f:
        f.write(b"x")
    body = page(app.test_client())
    assert "<img src=x" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;.png" in body


def follow(client: FlaskClient, url: str, rel: str) -> tuple[list[str], str | None]:
    """The names on a page and the URL of its ``rel`` link."""
    body = page(client, url)
    names = re.findall(r'<span class="fs-name-text">([^<]*)</span>', body)
    link = re.search(rf'rel="{rel}" href="([^"]+)"', body)
    return [html.unescape(n) for n in names], (
        html.unescape(link.group(1)) if link else None
    )


def test_pagination_shows_every_entry_once(admin: Flask, browser: FlaskClient) -> None:
    expected = sorted([f"f{i:02}.txt" for i in range(23)] + ["d1", "d2"])
    for name in expected:
        if name.startswith("d"):
            save(admin, "x.txt", location=name)
        else:
            save(admin, name)
    pages: list[list[str]] = []
    url: str | None = PREFIX + "/?per_page=5"
    while url is not None:
        names, url = follow(browser, url, "next")
        pages.append(names)
    assert [len(p) for p in pages] == [5, 5, 5, 5, 5]
    seen = [n for p in pages for n in p]
    assert sorted(seen) == expected
    assert len(set(seen)) == len(seen)

    # Previous links walk back through the same pages.
    last = PREFIX + "/?per_page=5"
    for _ in range(4):
        last = follow(browser, last, "next")[1] or ""
    back: list[list[str]] = []
    url = last
    while url is not None:
        names, url = follow(browser, url, "prev")
        back.append(names)
    assert back == pages[::-1]


def test_filter_by_name(admin: Flask, browser: FlaskClient) -> None:
    for name in ("Report-2026.pdf", "report-2025.pdf", "photo.png"):
        save(admin, name)
    names, _ = follow(browser, PREFIX + "/?q=REPORT", "next")
    assert names == ["Report-2026.pdf", "report-2025.pdf"]
    body = page(browser, PREFIX + "/?q=nothing")
    assert "No names contain “nothing” here." in html.unescape(body)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("per_page=abc", "per_page must be a whole number from 1 to 1000"),
        ("per_page=0", "per_page must be a whole number"),
        ("per_page=5000", "per_page must be a whole number"),
        ("folder=../up", "may not contain '..'"),
    ],
)
def test_bad_browse_arguments(browser: FlaskClient, query: str, message: str) -> None:
    response = browser.get(PREFIX + "/?" + query)
    assert response.status_code == 400
    assert message in text(response)


def test_page_size_setting_is_kept_in_links(admin: Flask, browser: FlaskClient) -> None:
    for i in range(30):
        save(admin, f"{i:02}.txt")
    names, next_url = follow(browser, PREFIX + "/?per_page=25", "next")
    assert len(names) == 25
    assert next_url is not None
    assert parse_qs(urlsplit(next_url).query)["per_page"] == ["25"]
    assert '<option value="25" selected>' in page(browser, PREFIX + "/?per_page=25")


# -- download -----------------------------------------------------------------


def test_download_serves_files(admin: Flask, browser: FlaskClient) -> None:
    path = save(admin, "pic.png", b"\x89PNG data", location="img")
    with browser.get(f"{PREFIX}/file/{path}") as response:
        check_download(admin, response)


def check_download(admin: Flask, response: Any) -> None:
    if hasattr(admin.extensions["store"].provider, "presigned_url"):
        assert response.status_code == 302
        assert "img/pic.png" in response.headers["Location"]
        assert "Signature" in response.headers["Location"]
        return
    assert response.status_code == 200
    assert response.data == b"\x89PNG data"
    assert response.mimetype == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.fixture
def sent(admin: Flask) -> Flask:
    """The admin app, for providers whose files the admin sends itself."""
    if hasattr(admin.extensions["store"].provider, "presigned_url"):
        pytest.skip("the object store serves it")
    return admin


def test_download_sends_active_content_as_sandboxed_attachment(
    sent: Flask, browser: FlaskClient
) -> None:
    path = save(sent, "page.html", b"<script>alert(1)</script>")
    with browser.get(f"{PREFIX}/file/{path}") as response:
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert response.headers["Content-Security-Policy"] == "sandbox"


def test_download_has_a_length_and_answers_ranges(
    sent: Flask, browser: FlaskClient
) -> None:
    path = save(sent, "notes.txt", b"0123456789")
    with browser.get(f"{PREFIX}/file/{path}") as response:
        assert response.headers["Content-Length"] == "10"
        assert response.headers["Accept-Ranges"] == "bytes"
        etag = response.headers.get("ETag")
    headers = {"Range": "bytes=2-4"}
    with browser.get(f"{PREFIX}/file/{path}", headers=headers) as response:
        assert response.status_code == 206
        assert response.data == b"234"
        assert response.headers["Content-Range"] == "bytes 2-4/10"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    if issubclass(sent.extensions["store"].provider, LocalProvider):
        assert etag is not None  # a file on disk: conditional requests too
        headers = {"If-None-Match": etag}
        with browser.get(f"{PREFIX}/file/{path}", headers=headers) as response:
            assert response.status_code == 304


@pytest.mark.parametrize("path", ["missing.txt", "../etc/passwd", ".hidden", "a/.b/c"])
def test_download_missing_or_bad_paths(browser: FlaskClient, path: str) -> None:
    response = browser.get(f"{PREFIX}/file/{path}")
    assert response.status_code == 404


class PresignedMemoryProvider(MemoryProvider):
    def presigned_url(self, expires_in: int = 3600) -> str:
        return f"https://bucket.example/{self.relative_path}?signed=1"


def test_download_redirects_to_presigned_urls(tmp_path: Any) -> None:
    app = make_app(
        tmp_path,
        STORE_PROVIDER=f"{__name__}.PresignedMemoryProvider",
        STORE_ADMIN_ACCESS=True,
    )
    Store(app)
    app.register_blueprint(blueprint, url_prefix=PREFIX)
    with app.app_context():
        save(app, "a.png")
    response = app.test_client().get(PREFIX + "/file/a.png")
    assert response.status_code == 302
    assert response.headers["Location"] == "https://bucket.example/a.png?signed=1"


def test_hidden_files_are_never_deleted(admin: Flask, browser: FlaskClient) -> None:
    data = {"csrf_token": csrf_token(browser), "path": ".flask-store-x.part"}
    data["confirmed"] = "yes"
    response = browser.post(PREFIX + "/delete", data=data)
    assert response.status_code == 404
    assert ".flask-store-x.part is not a stored file." in text(response)


def test_new_folder_json(admin: Flask, browser: FlaskClient) -> None:
    token = csrf_token(browser)
    json = {"Accept": "application/json"}
    response = browser.post(
        PREFIX + "/folder", data={"csrf_token": token, "name": "inbox"}, headers=json
    )
    assert response.status_code == 201
    assert response.json == {"folder": "inbox"}
    response = browser.post(
        PREFIX + "/folder", data={"csrf_token": token, "name": "a/b"}, headers=json
    )
    assert response.status_code == 400
    assert response.json["error"] == "A folder name may not contain slashes."


class UnlistableProvider(MemoryProvider):
    @classmethod
    def list_folder(cls, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError


def test_a_provider_that_cannot_list(tmp_path: Any) -> None:
    app = make_app(
        tmp_path,
        STORE_PROVIDER=f"{__name__}.UnlistableProvider",
        STORE_ADMIN_ACCESS=True,
    )
    Store(app)
    app.register_blueprint(blueprint, url_prefix=PREFIX)
    response = app.test_client().get(PREFIX + "/")
    assert response.status_code == 501
    assert "UnlistableProvider cannot list folders" in text(response)


class BackgroundProvider(MemoryProvider):
    """Like a background uploader: the file is not readable right after save."""

    @property
    def size(self) -> int:
        raise FileNotFoundError(self.relative_path)


def test_upload_json_does_not_wait_for_background_uploads(tmp_path: Any) -> None:
    app = make_app(
        tmp_path,
        STORE_PROVIDER=f"{__name__}.BackgroundProvider",
        STORE_ADMIN_ACCESS=True,
    )
    Store(app)
    app.register_blueprint(blueprint, url_prefix=PREFIX)
    response = post_files(app.test_client(), [(b"12345", "a.txt")], json=True)
    assert response.status_code == 201
    assert response.json["files"][0]["size"] == 5
