"""The admin blueprint under attack: access control and CSRF on every endpoint
(enumerated from the URL map, so a new endpoint cannot be missed), stored XSS
through names, open redirects and malformed request bodies."""

from __future__ import annotations

import html
import io
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask, request
from werkzeug.routing import Rule
from werkzeug.serving import make_server

from flask_store.spool import SPOOL_FOLDER, StoreRequest

from .conftest import ADMIN, admin_app, csrf_token, snapshot

# -- enumerating the blueprint ------------------------------------------------

#: Sample values for the URL converters of the blueprint's rules.
SAMPLE_ARGS = {"path": "a.txt", "filename": "flask_store.css"}


def admin_rules(app: Flask) -> list[Rule]:
    rules = [
        r for r in app.url_map.iter_rules() if r.endpoint.startswith("store_admin.")
    ]
    assert rules, "the admin blueprint registered no URL rules"
    return rules


def admin_requests(app: Flask, method: str) -> list[tuple[str, str]]:
    """(endpoint, URL) for each admin rule that accepts ``method``."""
    found = []
    for rule in admin_rules(app):
        if method in (rule.methods or ()):
            args = {name: SAMPLE_ARGS[name] for name in rule.arguments}
            found.append((rule.endpoint, rule.build(args)[1]))  # type: ignore[index]
    return found


def valid_form(endpoint: str, token: str | None) -> dict[str, Any]:
    """Form data a POST endpoint accepts, so only CSRF or access can stop it."""
    forms: dict[str, dict[str, Any]] = {
        "store_admin.upload": {"file": (io.BytesIO(b"new"), "new.txt")},
        "store_admin.delete": {"path": "a.txt", "confirmed": "yes"},
        "store_admin.new_folder": {"name": "fresh"},
        "store_admin.move": {"path": "a.txt", "folder": "", "name": "moved.txt"},
        "store_admin.delete_folder": {
            "folder": "box",
            "confirmed": "yes",
            "count": "1",
            "used_by": "[]",
        },
        "store_admin.selection": {
            "paths": "a.txt",
            "action": "delete",
            "confirmed": "yes",
            "count": "1",
            "used_by": "[]",
        },
    }
    assert endpoint in forms, (
        f"New POST endpoint {endpoint}: add valid form data for it here so the "
        "CSRF, access and redirect tests cover it."
    )
    data = dict(forms[endpoint])
    if token is not None:
        data["csrf_token"] = token
    return data


def seeded(app: Flask, location: str = "") -> dict[str, Any]:
    provider = app.extensions["store"].provider
    provider(io.BytesIO(b"keep"), filename="a.txt", location=location, app=app).save()
    return snapshot(app)


#: Where each POST endpoint's valid form expects a file to act on.
SEEDS = {
    "store_admin.delete": "",
    "store_admin.move": "",
    "store_admin.selection": "",
    "store_admin.delete_folder": "box",
}


# -- access control -------------------------------------------------------------


@pytest.mark.parametrize(
    "access",
    [None, False, "yes", 1, lambda: False, lambda: None],
    ids=["unset", "false", "truthy-string", "one", "callable-false", "callable-none"],
)
def test_every_view_refuses_without_access(tmp_path: Path, access: Any) -> None:
    app = admin_app(tmp_path, "memory", STORE_ADMIN_ACCESS=access)
    client = app.test_client()
    before = seeded(app)
    methods = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
    for rule in admin_rules(app):
        url = rule.build({n: SAMPLE_ARGS[n] for n in rule.arguments})[1]  # type: ignore[index]
        for method in methods:
            allowed = method in (rule.methods or ())
            data = (
                valid_form(rule.endpoint, None)
                if allowed and method == "POST"
                else None
            )
            with client.open(url, method=method, data=data) as response:
                body = response.get_data(as_text=True)
                if allowed:
                    assert response.status_code == 403, (method, url)
                    if method != "HEAD":
                        assert "STORE_ADMIN_ACCESS" in body
                else:  # not a method of this view at all
                    assert response.status_code == 405, (method, url)
                assert "keep" not in body
    assert snapshot(app) == before


def test_access_is_checked_on_every_request(tmp_path: Path) -> None:
    app = admin_app(
        tmp_path,
        "memory",
        STORE_ADMIN_ACCESS=lambda: request.headers.get("X-Admin") == "yes",
    )
    client = app.test_client()
    seeded(app)
    for _endpoint, url in admin_requests(app, "GET"):
        with client.get(url, headers={"X-Admin": "yes"}) as response:
            assert response.status_code == 200, url
        # The same session, no longer allowed: refused again.
        with client.get(url) as response:
            assert response.status_code == 403, url


def test_post_endpoints_do_their_job_with_access_and_token(admin: Flask) -> None:
    # The counterpart of the refusals above: the same requests do change the
    # store when allowed, so the refusals are not an accident of bad data.
    client = admin.test_client()
    for endpoint, url in admin_requests(admin, "POST"):
        before = (
            seeded(admin, SEEDS[endpoint]) if endpoint in SEEDS else snapshot(admin)
        )
        response = client.post(url, data=valid_form(endpoint, csrf_token(client)))
        assert response.status_code == 302, (url, response.get_data(as_text=True))
        assert snapshot(admin) != before, url


# -- CSRF -------------------------------------------------------------------------


def forged_tokens(admin: Flask) -> dict[str, str | None]:
    other = admin.test_client()
    return {
        "missing": None,
        "empty": "",
        "forged": "IjBhYmMi.ZmFrZQ.bad-signature",
        "another session's": csrf_token(other),
    }


@pytest.mark.parametrize("kind", ["missing", "empty", "forged", "another session's"])
def test_every_post_needs_this_sessions_csrf_token(admin: Flask, kind: str) -> None:
    client = admin.test_client()
    csrf_token(client)  # the session has a token of its own
    before = seeded(admin)
    token = forged_tokens(admin)[kind]
    posts = admin_requests(admin, "POST")
    assert {endpoint for endpoint, _ in posts} >= {
        "store_admin.upload",
        "store_admin.delete",
        "store_admin.new_folder",
    }
    for endpoint, url in posts:
        for headers in ({}, {"Accept": "application/json"}):
            response = client.post(
                url, data=valid_form(endpoint, token), headers=headers
            )
            assert response.status_code == 400, (kind, url)
            assert "CSRF" in response.get_data(as_text=True)
    assert snapshot(admin) == before


def test_a_json_body_does_not_bypass_csrf(admin: Flask) -> None:
    client = admin.test_client()
    before = seeded(admin)
    for endpoint, url in admin_requests(admin, "POST"):
        data = valid_form(endpoint, None)
        data.pop("file", None)
        response = client.post(url, json=data)
        assert response.status_code == 400, url
    assert snapshot(admin) == before


@pytest.mark.parametrize("body", ["[1]", '"x"', "true", "5"])
def test_a_json_body_that_is_no_object_is_a_400(admin: Flask, body: str) -> None:
    client = admin.test_client()
    before = seeded(admin)
    for _endpoint, url in admin_requests(admin, "POST"):
        response = client.post(
            url,
            data=body,
            content_type="application/json",
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 400, url
        assert response.json["error"], url
    assert snapshot(admin) == before


def test_a_json_body_is_not_read_as_the_form(tmp_path: Path) -> None:
    # With the token in it and the CSRF check off, a JSON body still is not
    # the form: its values (a number where a name goes) never reach the
    # checks, and the view says what is missing.
    app = admin_app(tmp_path, STORE_ADMIN_CSRF=False)
    client = app.test_client()
    before = seeded(app)
    for view, body, message in [
        ("/folder", {"name": 5}, "Give the new folder a name."),
        ("/folder", {"name": {"a": 1}}, "Give the new folder a name."),
        ("/move", {"path": "a.txt", "name": 5}, "the store's root cannot be moved"),
        ("/delete", {"path": "a.txt", "used_by": 5}, "This field is required."),
    ]:
        response = client.post(
            ADMIN + view, json=body, headers={"Accept": "application/json"}
        )
        assert response.status_code == 400, (view, response.json)
        assert message in response.json["error"]
    assert snapshot(app) == before


def test_a_used_by_nested_too_deep_to_read_names_no_row(tmp_path: Path) -> None:
    app = admin_app(tmp_path)
    client = app.test_client()
    before = seeded(app)
    deep = "[" * 100_000 + "]" * 100_000
    form = {"path": "a.txt", "confirmed": "yes", "used_by": deep}
    response = client.post(
        ADMIN + "/delete",
        data={**form, "csrf_token": csrf_token(client)},
        headers={"Accept": "application/json"},
    )
    # No row uses a.txt, so naming none is all the confirmation it needs.
    assert response.status_code == 200, response.json
    assert "a.txt" not in snapshot(app)
    assert before["a.txt"]


def test_the_admin_keeps_its_token_field_whatever_flask_wtf_calls_it(
    tmp_path: Path,
) -> None:
    app = admin_app(tmp_path, WTF_CSRF_FIELD_NAME="token")
    client = app.test_client()
    response = client.post(
        ADMIN + "/folder",
        data={"name": "fresh", "csrf_token": csrf_token(client)},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 201, response.json
    assert client.post(ADMIN + "/folder", data={"name": "other"}).status_code == 400


def test_no_get_changes_anything(admin: Flask) -> None:
    client = admin.test_client()
    before = seeded(admin)
    for _endpoint, url in admin_requests(admin, "GET"):
        query = valid_form("store_admin.delete", csrf_token(client))
        client.get(url, query_string=query).close()
    assert snapshot(admin) == before


# -- open redirects ---------------------------------------------------------------

HOSTILE_NEXT = [
    "//evil.com",
    "//evil.com/path",
    "https://evil.com",
    "http://evil.com/",
    "\\/\\/evil.com",
    "/\\evil.com",
    "\\\\evil.com",
    "/\\/evil.com",
    "///evil.com",
    "https:evil.com",
    "http://localhost@evil.com/",
    "http://evil.com\\@localhost/",
    "https://localhost.evil.com/",
    "javascript:alert(document.domain)",
    "data:text/html,<script>alert(1)</script>",
    "/\t/evil.com",
    "/\r\n/evil.com",
    " //evil.com",
    "%2F%2Fevil.com",
    "\u3002/evil.com",
]


def assert_same_site(location: str) -> None:
    parts = urlsplit(location)
    assert parts.netloc in ("", "localhost"), location
    assert parts.scheme in ("", "http"), location
    assert location.startswith(("/", "http://localhost/")), location
    assert not location.startswith("//") and "\\" not in location, location


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_next_never_leaves_the_site(tmp_path: Path, target: str) -> None:
    app = admin_app(tmp_path, "memory")
    client = app.test_client()
    for endpoint, url in admin_requests(app, "POST"):
        seeded(app, SEEDS.get(endpoint, ""))
        data = valid_form(endpoint, csrf_token(client))
        data["next"] = target
        response = client.post(url, data=data)
        assert response.status_code == 302, (url, response.get_data(as_text=True))
        assert_same_site(response.headers["Location"])


def test_a_same_site_next_is_followed(tmp_path: Path) -> None:
    app = admin_app(tmp_path, "memory")
    client = app.test_client()
    for endpoint, url in admin_requests(app, "POST"):
        seeded(app, SEEDS.get(endpoint, ""))
        data = valid_form(endpoint, csrf_token(client))
        data["next"] = ADMIN + "/?q=a"
        response = client.post(url, data=data)
        assert response.headers["Location"] == ADMIN + "/?q=a", url


# -- stored XSS through names ----------------------------------------------------

#: Names aimed at every context a name appears in: text, attributes (quoted
#: either way), URLs and script data.
XSS_NAMES = [
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    '" onmouseover="alert(1)',
    "' onmouseover='alert(1)",
    '"onmouseover=alert(1) x="',
    "</script><script>alert(1)</script>",
    "javascript:alert(1)",
    "</textarea><img src=x onerror=alert(1)>",
    "<!--<img src=x onerror=alert(1)>-->",
    "&lt;img src=x onerror=alert(1)&gt;",
    "\u2028\u2029';alert(1);x='",
]


class Elements(HTMLParser):
    """Every start tag and attribute of a page, as the browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def assert_no_injection(body: str) -> None:
    parser = Elements()
    parser.feed(body)
    for tag, attrs in parser.tags:
        names = [name for name, _ in attrs]
        assert tag != "svg" and not (tag == "img" and ("src", "x") in attrs), tag
        assert not any(name.startswith("on") for name in names), (tag, attrs)
        assert not any(name in ("x", 'x="') for name in names), (tag, attrs)
        if tag == "script":
            src = dict(attrs).get("src", "")
            assert src.endswith(("flask_store.js", "flask_store_admin.js")), attrs
        for name, value in attrs:
            if name in ("href", "src", "action", "formaction") and value:
                assert not value.strip().lower().startswith(("javascript:", "data:")), (
                    tag,
                    name,
                    value,
                )


@pytest.fixture
def hostile_store(tmp_path: Path) -> Iterator[Flask]:
    """A memory store holding files and folders with every XSS name."""
    from flask_store.backends.memory import _Blob

    app = admin_app(tmp_path, "memory")
    store = app.extensions["store"].backend
    for index, name in enumerate(XSS_NAMES):
        for path in (name, f"{name}/{name}", f"folder{index}/{name}.png"):
            store.files[path] = _Blob(b"x", datetime.now(timezone.utc))
    yield app


def test_hostile_names_are_inert_in_every_admin_page(hostile_store: Flask) -> None:
    client = hostile_store.test_client()
    token = csrf_token(client)
    pages = [ADMIN + "/", ADMIN + "/models"]
    for index, name in enumerate(XSS_NAMES):
        pages += [f"{ADMIN}/?folder={name}", f"{ADMIN}/?folder=folder{index}"]
        pages += [f"{ADMIN}/?q={name}", f"{ADMIN}/file/{name}x"]
    for url in pages:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert_no_injection(response.get_data(as_text=True))
    # The confirmation page names the file in text, a form field and a link.
    for name in XSS_NAMES:
        response = client.post(
            ADMIN + "/delete", data={"path": name, "csrf_token": token}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        assert_no_injection(response.get_data(as_text=True))
    # A refused folder name is echoed in the form and its error message.
    for name in XSS_NAMES:
        response = client.post(
            ADMIN + "/folder", data={"name": name + "/", "csrf_token": token}
        )
        assert response.status_code == 400
        assert_no_injection(response.get_data(as_text=True))


def test_hostile_names_are_shown_as_text(hostile_store: Flask) -> None:
    body = hostile_store.test_client().get(ADMIN + "/").get_data(as_text=True)
    parser = Elements()
    parser.feed(body)
    text: list[str] = []
    parser.handle_data = text.append  # type: ignore[method-assign]
    parser.feed(body)
    shown = "".join(text)
    for name in XSS_NAMES:
        # A name with a slash is a folder here: its first part is listed.
        assert name.split("/")[0] in shown, name


def test_json_answers_are_json_not_html(hostile_store: Flask) -> None:
    client = hostile_store.test_client()
    for name in XSS_NAMES:
        response = client.get(
            f"{ADMIN}/file/{name}x", headers={"Accept": "application/json"}
        )
        assert response.status_code == 404
        assert response.mimetype == "application/json"
        assert name + "x" in response.json["error"]


# -- malformed and oversized bodies ---------------------------------------------


def multipart(token: str, boundary: str = "XyZ", parts: int = 1) -> bytes:
    lines = [
        f"--{boundary}",
        'Content-Disposition: form-data; name="csrf_token"',
        "",
        token,
    ]
    for index in range(parts):
        lines += [
            f"--{boundary}",
            f'Content-Disposition: form-data; name="file"; filename="f{index}.txt"',
            "Content-Type: text/plain",
            "",
            "payload " * 50,
        ]
    lines.append(f"--{boundary}--")
    return "\r\n".join(lines).encode() + b"\r\n"


def malformed_requests(token: str) -> dict[str, dict[str, Any]]:
    good = multipart(token)
    ctype = "multipart/form-data; boundary=XyZ"
    return {
        "missing boundary": {"data": good, "content_type": "multipart/form-data"},
        "wrong boundary": {
            "data": good,
            "content_type": "multipart/form-data; boundary=Other",
        },
        "truncated body": {"data": good[: len(good) // 2], "content_type": ctype},
        "no closing boundary": {"data": good[:-9], "content_type": ctype},
        "content-length longer than the body": {
            "data": good,
            "content_type": ctype,
            "environ_overrides": {"CONTENT_LENGTH": str(len(good) + 500)},
        },
        "content-length shorter than the body": {
            "data": good,
            "content_type": ctype,
            "environ_overrides": {"CONTENT_LENGTH": str(len(good) - 120)},
        },
        "garbage content-length": {
            "data": good,
            "content_type": ctype,
            "environ_overrides": {"CONTENT_LENGTH": "lots"},
        },
        "too many parts": {
            "data": multipart(token, parts=1200),
            "content_type": ctype,
        },
        "not multipart": {"data": good, "content_type": "text/plain"},
        "binary garbage": {"data": bytes(range(256)) * 40, "content_type": ctype},
        "header without end": {
            "data": b'--XyZ\r\nContent-Disposition: form-data; name="file"; '
            + b'filename="a.txt"'
            + b"A" * 70000,
            "content_type": ctype,
        },
    }


#: Werkzeug's default parser leaves a part's SpooledTemporaryFile open when a
#: body breaks off midway; the file is anonymous and the GC frees it, with a
#: ResourceWarning. Flask-Store's own StoreRequest closes its files (tested).
werkzeug_leaves_part_open = pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <function SpooledTemporaryFile.__del__"
    ":pytest.PytestUnraisableExceptionWarning"
)


@werkzeug_leaves_part_open
@pytest.mark.parametrize(
    "case", sorted(malformed_requests("t")), ids=lambda c: c.replace(" ", "-")
)
def test_malformed_uploads_get_a_4xx_and_store_nothing(admin: Flask, case: str) -> None:
    admin.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    client = admin.test_client()
    token = csrf_token(client)
    before = seeded(admin)
    for headers in ({}, {"Accept": "application/json"}):
        kwargs = malformed_requests(token)[case]
        kwargs = {**kwargs, "headers": {**kwargs.get("headers", {}), **headers}}
        response = client.post(ADMIN + "/upload", **kwargs)
        assert 400 <= response.status_code < 500, (case, response.status_code)
        assert response.get_data(as_text=True).strip()
    assert snapshot(admin) == before


def test_oversized_body_is_refused_and_stores_nothing(admin: Flask) -> None:
    admin.config["MAX_CONTENT_LENGTH"] = 4096
    client = admin.test_client()
    before = seeded(admin)
    body = multipart(csrf_token(client), parts=40)
    response = client.post(
        ADMIN + "/upload",
        data=body,
        content_type="multipart/form-data; boundary=XyZ",
    )
    assert response.status_code == 413
    assert "MAX_CONTENT_LENGTH" in response.get_data(as_text=True)
    assert snapshot(admin) == before


@pytest.mark.parametrize(
    "spooled",
    [
        # A large part rolls over to a TemporaryFile, left open the same way.
        pytest.param(
            False,
            id="werkzeug",
            marks=[
                werkzeug_leaves_part_open,
                pytest.mark.filterwarnings(
                    "ignore:Exception ignored in. <_io.FileIO name=.* mode='rb[+]'"
                    ":pytest.PytestUnraisableExceptionWarning"
                ),
            ],
        ),
        pytest.param(True, id="StoreRequest"),
    ],
)
def test_a_client_that_hangs_up_mid_upload_leaves_nothing(
    tmp_path: Path, spooled: bool
) -> None:
    # Through a real server and socket: the body is cut off and the
    # connection closed, as when a browser tab is closed mid-upload.
    app = admin_app(tmp_path, "local")
    if spooled:
        app.request_class = StoreRequest
    client = app.test_client()
    token = csrf_token(client)
    cookie = client.get_cookie("session")
    assert cookie is not None
    before = seeded(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        body = multipart(token, parts=1)
        big = body.replace(b"payload " * 50, b"payload " * 200_000)
        head = (
            f"POST {ADMIN}/upload HTTP/1.1\r\nHost: localhost\r\n"
            f"Cookie: session={cookie.value}\r\n"
            "Content-Type: multipart/form-data; boundary=XyZ\r\n"
            f"Content-Length: {len(big)}\r\nConnection: close\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", server.server_port)) as sock:
            sock.sendall(head + big[: len(big) // 2])
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(10)
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
        assert reply.startswith(b"HTTP/1.1 4"), reply[:200]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    after = snapshot(app)
    # The spool folder may now exist, but it holds nothing.
    assert after.pop(SPOOL_FOLDER, "dir") == "dir"
    assert after == before


def test_json_errors_for_bad_requests_are_json(admin: Flask) -> None:
    client = admin.test_client()
    response = client.post(
        ADMIN + "/upload",
        data=b"junk",
        content_type="multipart/form-data",
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert response.is_json and response.json["error"]


# -- a folder where a file is ----------------------------------------------------


@pytest.mark.parametrize(
    ("url", "fields"),
    [
        ("/upload", {"location": "a.txt", "file": (io.BytesIO(b"y"), "b.txt")}),
        ("/upload", {"location": "a.txt/deeper", "file": (io.BytesIO(b"y"), "b.txt")}),
        ("/folder", {"name": "a.txt"}),
        ("/folder", {"location": "a.txt", "name": "inner"}),
    ],
)
def test_a_folder_where_a_file_is_gets_a_409_and_changes_nothing(
    tmp_path: Path, url: str, fields: dict[str, Any]
) -> None:
    app = admin_app(tmp_path, "local")
    app.testing = False  # a server error would be a 500 page, not an exception
    client = app.test_client()
    before = seeded(app)
    for headers in ({}, {"Accept": "application/json"}):
        data = {**fields, "csrf_token": csrf_token(client)}
        if "file" in data:
            data["file"] = (io.BytesIO(b"y"), "b.txt")
        response = client.post(ADMIN + url, data=data, headers=headers)
        assert response.status_code == 409
        message = html.unescape(response.get_data(as_text=True))
        assert "'a.txt" in message and "is not a folder" in message
    assert snapshot(app) == before


@pytest.mark.parametrize("location", ["\x85", "\t", " \x85 ", "\x85\u2028"])
@pytest.mark.parametrize("url", ["/upload", "/folder"])
def test_a_blank_looking_location_with_control_characters_is_refused(
    tmp_path: Path, url: str, location: str
) -> None:
    # Python counts NEL (U+0085) as whitespace, so a check that skips blank
    # values would let it through; it is a control character.
    app = admin_app(tmp_path, "local")
    app.testing = False
    client = app.test_client()
    before = seeded(app)
    data: dict[str, Any] = {"csrf_token": csrf_token(client), "location": location}
    if url == "/upload":
        data["file"] = (io.BytesIO(b"y"), "b.txt")
    else:
        data["name"] = "inner"
    response = client.post(
        ADMIN + url, data=data, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.json["error"]
    assert snapshot(app) == before


def test_hostile_row_keys_and_paths_are_inert_on_the_models_page(
    tmp_path: Path,
) -> None:
    # Rows name files and are named by their primary keys: both come from
    # users (a slug, an uploaded name) and appear in text, ids and links.
    from sqlalchemy import String, create_engine
    from sqlalchemy.orm import DeclarativeBase, mapped_column, sessionmaker

    from flask_store.sqla import FlaskStoreType, init_session

    class Base(DeclarativeBase):
        pass

    class HostileDoc(Base):
        __tablename__ = "security_hostile_doc"
        slug = mapped_column(String(200), primary_key=True)
        file = mapped_column(FlaskStoreType(300))

    app = admin_app(tmp_path, "memory")
    engine = create_engine(f"sqlite:///{tmp_path}/hostile.db")
    Base.metadata.create_all(engine)
    factory = sessionmaker(engine)
    init_session(factory, app)
    names = [n for n in XSS_NAMES if "/" not in n]
    with app.app_context():
        provider = app.extensions["store"].provider
        with factory() as session:
            for index, name in enumerate(names):
                stored = provider(io.BytesIO(b"x"), filename=f"{index}.png").save()
                session.add(HostileDoc(slug=name, file=stored.relative_path))
            session.commit()
    client = app.test_client()
    token = csrf_token(client)
    for url in (ADMIN + "/models", ADMIN + "/models?model=HostileDoc", ADMIN + "/"):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        assert_no_injection(body)
        # Every row is shown, by its key (as text) or its file.
        assert "HostileDoc" in body
        assert html.escape(names[0]) in body or "0.png" in body
    response = client.post(
        ADMIN + "/delete", data={"path": "0.png", "csrf_token": token}
    )
    assert response.status_code == 200
    assert_no_injection(response.get_data(as_text=True))
    engine.dispose()
