"""Hostile URLs against the two routes that send stored files: the local
serving route (``STORE_URL_PREFIX``) and the admin's download view.

Nothing outside ``STORE_PATH`` is ever sent, nor a hidden file, a folder or
anything reached through a symlink that leaves the store; content a browser
would run is never sent inline."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import ADMIN, admin_app

SECRET = b"TOP-SECRET-OUTSIDE"
HIDDEN = b"HIDDEN-INSIDE"

#: Spellings of "go up and read secret.txt" (and of hidden names), each as it
#: appears in the request line.
TRAVERSALS = [
    "../secret.txt",
    "..%2fsecret.txt",
    "..%2Fsecret.txt",
    "%2e%2e/secret.txt",
    "%2e%2e%2fsecret.txt",
    ".%2e/secret.txt",
    "%252e%252e/secret.txt",
    "%252e%252e%252fsecret.txt",
    "..%5csecret.txt",
    "..\\secret.txt",
    "sub%5c..%5c..%5csecret.txt",
    "sub/..%5c..%5csecret.txt",
    "sub/../../secret.txt",
    "sub/%2e%2e/%2e%2e/secret.txt",
    "sub/..%2f..%2fsecret.txt",
    "%c0%ae%c0%ae/secret.txt",
    "%c0%ae%c0%ae%c0%afsecret.txt",
    "%e0%80%ae%e0%80%ae/secret.txt",
    "%c0%2e%c0%2e/secret.txt",
    "%uff0e%uff0e/secret.txt",
    "\uff0e\uff0e/secret.txt",
    "..%00/secret.txt",
    "secret.txt%00.png",
    "sub/a.txt%00",
    "sub/a.txt%00.png",
    "%00",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "..%2f..%2f..%2f..%2fetc%2fpasswd",
    "C:%5cWindows%5cwin.ini",
    "file:///etc/passwd",
    ".hidden",
    "%2ehidden",
    "sub/.hidden",
    "sub/%2ehidden",
    ".flask-store-x.part",
    ".flask-store-spool/x.upload",
    "dir",
    "dir/",
    "sub",
    "",
    "escape/secret.txt",
    "escape%2fsecret.txt",
    "secret-link.txt",
    "sub/a.txt/..%2f..%2f..%2fsecret.txt",
]


@pytest.fixture
def planted(tmp_path: Path) -> Flask:
    """A local store with a secret next to it, and traps planted inside it."""
    app = admin_app(tmp_path, "local")
    root = Path(app.config["STORE_PATH"])
    (root / "sub").mkdir(parents=True)
    (root / "dir").mkdir()
    (root / "sub" / "a.txt").write_bytes(b"public")
    for secret in (tmp_path / "secret.txt", tmp_path / "instance" / "secret.txt"):
        secret.write_bytes(SECRET)
    (root / ".hidden").write_bytes(HIDDEN)
    (root / "sub" / ".hidden").write_bytes(HIDDEN)
    (root / ".flask-store-x.part").write_bytes(HIDDEN)
    (root / ".flask-store-spool").mkdir()
    (root / ".flask-store-spool" / "x.upload").write_bytes(HIDDEN)
    (root / "escape").symlink_to(tmp_path)
    (root / "secret-link.txt").symlink_to(tmp_path / "secret.txt")
    return app


def fetch(client: FlaskClient, url: str) -> tuple[int, bytes, str]:
    with client.get(url, follow_redirects=True) as response:
        return response.status_code, response.get_data(), response.request.path


@pytest.mark.parametrize("prefix", ["/uploads/", ADMIN + "/file/"])
@pytest.mark.parametrize("spelling", TRAVERSALS)
def test_traversal_spellings_never_leave_the_store(
    planted: Flask, prefix: str, spelling: str
) -> None:
    status, body, path = fetch(planted.test_client(), prefix + spelling)
    assert status == 404, (spelling, status)
    assert SECRET not in body and HIDDEN not in body
    # A redirect (a merged slash) stays on the route.
    assert path.startswith(prefix.rstrip("/"))


def test_raw_request_lines_never_leave_the_store(planted: Flask) -> None:
    # Werkzeug's test client normalises some paths; a raw WSGI environ does
    # not. PATH_INFO is what a server decodes from the request line.
    for prefix in ("/uploads/", ADMIN + "/file/"):
        for raw in ("../secret.txt", "sub/../../secret.txt", "..\\secret.txt"):
            environ: dict[str, Any] = {"PATH_INFO": prefix + raw}
            with planted.test_client().get(environ_overrides=environ) as response:
                assert response.status_code == 404, raw
                assert SECRET not in response.get_data()


def test_a_symlink_planted_inside_is_never_served_by_the_serving_route(
    planted: Flask,
) -> None:
    root = Path(planted.config["STORE_PATH"])
    (root / "inside-link.txt").symlink_to(root / "sub" / "a.txt")
    (root / "linked-folder").symlink_to(root / "sub")
    client = planted.test_client()
    for url in ("/uploads/inside-link.txt", "/uploads/linked-folder/a.txt"):
        assert fetch(client, url)[0] == 404
    # The real file is served.
    assert fetch(client, "/uploads/sub/a.txt")[:2] == (200, b"public")


def test_the_admin_follows_no_symlink_out_of_the_store(planted: Flask) -> None:
    client = planted.test_client()
    for url in ("escape/secret.txt", "secret-link.txt", "escape/instance/secret.txt"):
        status, body, _ = fetch(client, f"{ADMIN}/file/{url}")
        assert status == 404 and SECRET not in body


def test_a_symlink_swapped_in_after_saving_is_not_followed(planted: Flask) -> None:
    # A file replaced by a symlink to a secret (by another local user or a
    # compromised process) stops being served.
    root = Path(planted.config["STORE_PATH"])
    with planted.app_context():
        provider = planted.extensions["store"].provider
        saved = provider(io.BytesIO(b"mine"), filename="mine.txt").save()
    client = planted.test_client()
    assert fetch(client, saved.relative_url)[:2] == (200, b"mine")
    (root / "mine.txt").unlink()
    (root / "mine.txt").symlink_to(root.parent / "secret.txt")
    for url in (saved.relative_url, f"{ADMIN}/file/mine.txt"):
        status, body, _ = fetch(client, url)
        assert status == 404 and SECRET not in body


@pytest.mark.parametrize("provider", ["memory", "s3"])
def test_admin_download_refuses_hostile_paths_on_every_provider(
    tmp_path: Path, provider: str
) -> None:
    import contextlib

    with contextlib.ExitStack() as stack:
        config: dict[str, Any] = {}
        if provider == "s3":
            from ..s3_support import mocked_bucket

            config = stack.enter_context(mocked_bucket())
            config.pop("STORE_PROVIDER")
            config["STORE_PATH"] = "tenant"
        app = admin_app(tmp_path, provider, **config)
        with app.app_context():
            app.extensions["store"].provider(
                io.BytesIO(b"public"), filename="a.txt", location="sub"
            ).save()
        client = app.test_client()
        for spelling in TRAVERSALS:
            status, body, path = fetch(client, f"{ADMIN}/file/{spelling}")
            assert status == 404, spelling
            assert path.startswith(ADMIN + "/file") and b"public" not in body
        with client.get(f"{ADMIN}/file/sub/a.txt") as response:
            if provider == "s3":
                # A presigned URL for exactly that key under the prefix.
                assert response.status_code == 302
                assert "/tenant/sub/a.txt?" in response.headers["Location"]
            else:
                assert response.get_data() == b"public"


# -- active content ---------------------------------------------------------------

#: Names of content a browser would run or render as a document.
ACTIVE = [
    "page.html",
    "page.htm",
    "page.HTML",
    "page.shtml",
    "page.xhtml",
    "page.xht",
    "image.svg",
    "image.svgz",
    "image.svg.gz",
    "data.xml",
    "style.xsl",
    "feed.rdf",
    "script.js",
    "module.mjs",
    "page.html.gz",
    "page.htm.br",
    "page.html.bz2",
    "page.html.xz",
    "archive.mht",
    "archive.mhtml",
    "movie.swf",
    "style.css",
    "app.wasm",
    "page.php",
    "no-extension",
    "page.html.",
]

PAYLOAD = b"<html><script>document.title='pwned'</script><svg onload=alert(1)/>"


@pytest.mark.parametrize("name", ACTIVE)
def test_active_content_is_never_inline(tmp_path: Path, name: str) -> None:
    app = admin_app(tmp_path, "local")
    with app.app_context():
        provider = app.extensions["store"].provider
        saved = provider(io.BytesIO(PAYLOAD), filename=name).save()
    client = app.test_client()
    for url in (saved.relative_url, f"{ADMIN}/file/{saved.relative_path}"):
        for method in ("GET", "HEAD"):
            with client.open(url, method=method) as response:
                assert response.status_code == 200
                headers = response.headers
                assert headers["X-Content-Type-Options"] == "nosniff"
                assert headers["Content-Disposition"].startswith("attachment"), url
                assert headers["Content-Security-Policy"] == "sandbox", url


@pytest.mark.parametrize("name", ["photo.png", "notes.txt", "data.json"])
def test_passive_content_stays_inline_with_nosniff(tmp_path: Path, name: str) -> None:
    # The counterpart: the check above is not "everything is an attachment".
    app = admin_app(tmp_path, "local")
    with app.app_context():
        provider = app.extensions["store"].provider
        saved = provider(io.BytesIO(PAYLOAD), filename=name).save()
    with app.test_client().get(saved.relative_url) as response:
        assert response.headers["Content-Disposition"].startswith("inline")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.mimetype in ("image/png", "text/plain", "application/json")


def test_a_range_request_gets_the_same_protections(tmp_path: Path) -> None:
    app = admin_app(tmp_path, "local")
    with app.app_context():
        provider = app.extensions["store"].provider
        saved = provider(io.BytesIO(PAYLOAD), filename="page.html").save()
    with app.test_client().get(
        saved.relative_url, headers={"Range": "bytes=0-5"}
    ) as response:
        assert response.status_code == 206
        assert response.headers["Content-Security-Policy"] == "sandbox"
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert response.headers["X-Content-Type-Options"] == "nosniff"


# -- any path at all ----------------------------------------------------------------


PIECES = [
    "..",
    ".",
    "/",
    "\\",
    "%2e",
    "%2f",
    "%5c",
    "%00",
    "%252e",
    "%c0%ae",
    "%c0%af",
    "sub",
    "a.txt",
    "secret.txt",
    "escape",
    "secret-link.txt",
    ".hidden",
    "instance",
    "uploads",
    "%",
    "?",
    "#",
    ";",
]

hostile_paths = st.lists(
    st.one_of(st.sampled_from(PIECES), st.text(max_size=4)), max_size=12
).map("".join)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(path=hostile_paths)
def test_no_path_reaches_anything_but_the_public_file(
    planted: Flask, path: str
) -> None:
    client = planted.test_client()
    for prefix in ("/uploads/", ADMIN + "/file/"):
        try:
            status, body, _ = fetch(client, prefix + path)
        except UnicodeEncodeError:
            return  # not a URL a client can send
        assert SECRET not in body and HIDDEN not in body
        assert status in (200, 404, 405), (path, status)
        if status == 200:
            assert body == b"public", path
