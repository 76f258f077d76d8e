"""The serving route for locally stored files, and the 0.0.4 quick start."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from flask import Flask, request
from flask.testing import FlaskClient

from flask_store import Store, store_provider

from .conftest import make_app, upload


def test_quick_start_as_the_old_docs_show_it(tmp_path: Path) -> None:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config["STORE_DOMAIN"] = "http://127.0.0.1:5000"
    app.config["STORE_PATH"] = str(tmp_path / "some" / "path")
    store = Store(app)

    @app.route("/upload", methods=["POST"])
    def upload_view() -> str:
        provider = store.Provider(request.files.get("afile"))
        provider.save()
        return provider.absolute_url

    client = app.test_client()
    response = client.post(
        "/upload", data={"afile": (io.BytesIO(b"JPEGDATA"), "localfile.jpg")}
    )
    assert response.text == "http://127.0.0.1:5000/uploads/localfile.jpg"
    assert (tmp_path / "some" / "path" / "localfile.jpg").read_bytes() == b"JPEGDATA"
    with client.get("/uploads/localfile.jpg") as served:
        assert served.status_code == 200
        assert served.data == b"JPEGDATA"
        assert served.mimetype == "image/jpeg"


def test_readme_example_without_domain_gives_an_external_url(tmp_path: Path) -> None:
    from flask_store import Provider

    app = make_app(tmp_path)
    Store(app)

    @app.post("/upload")
    def upload_view() -> str:
        provider = Provider(request.files["afile"])
        provider.save()
        return provider.absolute_url

    response = app.test_client().post(
        "/upload", data={"afile": (io.BytesIO(b"x"), "my photo.png")}
    )
    assert response.text == "http://localhost/uploads/my_photo.png"


def save(name: str, data: bytes = b"content", location: str | None = None) -> str:
    return store_provider()(upload(data, name), location=location).save().relative_url


def get(
    client: FlaskClient, url: str, **kwargs: object
) -> tuple[int, dict[str, str], bytes]:
    with client.get(url, **kwargs) as response:  # type: ignore[arg-type]
        return response.status_code, dict(response.headers), response.data


def test_serves_saved_files_with_nosniff(app: Flask, client: FlaskClient) -> None:
    url = save("hello.txt", b"hi there", location="notes")
    status, headers, body = get(client, url)
    assert (status, body) == (200, b"hi there")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Type"].startswith("text/plain")
    assert "attachment" not in headers.get("Content-Disposition", "")


def test_etag_and_conditional_get(app: Flask, client: FlaskClient) -> None:
    url = save("a.png", b"\x89PNG....")
    status, headers, _ = get(client, url)
    etag = headers["ETag"]
    assert headers["Last-Modified"]
    status, _, body = get(client, url, headers={"If-None-Match": etag})
    assert (status, body) == (304, b"")
    status, _, _ = get(
        client, url, headers={"If-Modified-Since": headers["Last-Modified"]}
    )
    assert status == 304


def test_range_requests(app: Flask, client: FlaskClient) -> None:
    url = save("digits.txt", b"0123456789")
    status, headers, body = get(client, url, headers={"Range": "bytes=2-5"})
    assert (status, body) == (206, b"2345")
    assert headers["Content-Range"] == "bytes 2-5/10"
    assert headers["Accept-Ranges"] == "bytes"
    status, _, _ = get(client, url, headers={"Range": "bytes=50-60"})
    assert status == 416


@pytest.mark.parametrize(
    ("name", "inner"),
    [
        ("page.html", "text/html"),
        ("page.htm", "text/html"),
        ("drawing.svg", "image/svg+xml"),
        ("data.xml", "xml"),
        ("app.js", "javascript"),
        ("page.xhtml", "xhtml"),
        ("page.html.gz", "gzip"),
        ("unknown.weird", "octet-stream"),
    ],
)
def test_active_content_is_a_sandboxed_attachment(
    app: Flask, client: FlaskClient, name: str, inner: str
) -> None:
    url = save(name, b"<script>alert(1)</script>")
    status, headers, _ = get(client, url)
    assert status == 200
    assert headers["Content-Disposition"].startswith("attachment")
    assert headers["Content-Security-Policy"] == "sandbox"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert inner in headers["Content-Type"]


def test_compressed_html_is_not_labelled_as_html(
    app: Flask, client: FlaskClient
) -> None:
    url = save("page.html.gz", b"\x1f\x8b...")
    _, headers, _ = get(client, url)
    assert headers["Content-Type"] == "application/gzip"
    assert "Content-Encoding" not in headers


@pytest.mark.parametrize(
    "path",
    [
        "/uploads/../secret.txt",
        "/uploads/%2e%2e/secret.txt",
        "/uploads/%2E%2E%2Fsecret.txt",
        "/uploads/%252e%252e%252fsecret.txt",
        "/uploads/..%5csecret.txt",
        "/uploads/%5c..%5csecret.txt",
        "/uploads/sub/..%2f..%2fsecret.txt",
        "/uploads//etc/passwd",
        "/uploads/%2fetc%2fpasswd",
        "/uploads/a%00.txt",
        "/uploads/.hidden",
        "/uploads/sub/.hidden",
        "/uploads/.flask-store-x.part",
        "/uploads/sub",
        "/uploads/sub/",
        "/uploads/",
        "/uploads/missing.txt",
        "/uploads/escape/secret.txt",
        "/uploads/link.txt",
        "/uploads/inside-link.txt",
    ],
)
def test_only_regular_files_inside_the_store_are_served(
    app: Flask, client: FlaskClient, tmp_path: Path, path: str
) -> None:
    root = Path(app.config["STORE_PATH"])
    save("a.txt", location="sub")
    (tmp_path / "instance" / "secret.txt").write_text("secret")
    (tmp_path / "secret.txt").write_text("secret")
    (root / ".hidden").write_text("hidden")
    (root / "sub" / ".hidden").write_text("hidden")
    (root / ".flask-store-x.part").write_text("partial")
    (root / "a%00.txt").write_text("odd")
    (root / "escape").symlink_to(tmp_path)
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    (root / "inside-link.txt").symlink_to(root / "sub" / "a.txt")
    with client.get(path, follow_redirects=True) as response:
        assert response.status_code == 404
        assert response.request.path.startswith("/uploads/")
        assert b"secret" not in response.data and b"hidden" not in response.data


def test_files_outside_the_prefix_are_not_served(
    app: Flask, client: FlaskClient
) -> None:
    save("a.txt")
    assert get(client, "/a.txt")[0] == 404
    assert get(client, "/instance/uploads/a.txt")[0] == 404


def test_post_is_not_allowed(app: Flask, client: FlaskClient) -> None:
    url = save("a.txt")
    assert client.post(url).status_code == 405


def test_encoded_names_round_trip(app: Flask, client: FlaskClient) -> None:
    url = save("été (1).txt", b"summer", location="dossiers/été")
    assert url == "/uploads/dossiers/%C3%A9t%C3%A9/%C3%A9t%C3%A9_%281%29.txt"
    status, _, body = get(client, url)
    assert (status, body) == (200, b"summer")


def test_served_from_instance_folder_never_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.py").write_text("SECRET_KEY = 'x'")
    app = make_app(tmp_path)
    Store(app)
    assert get(app.test_client(), "/uploads/config.py")[0] == 404
    assert os.path.dirname(app.config["STORE_PATH"]) == str(tmp_path / "instance")


def test_a_replaced_file_gets_a_new_etag(app: Flask, client: FlaskClient) -> None:
    # Same size, same second: the ETag still changes, so a cache never keeps
    # the old bytes for the new file.
    url = save("same.txt", b"first")
    path = Path(app.config["STORE_PATH"]) / "same.txt"
    _, headers, _ = get(client, url)
    stat = path.stat()
    replacement = path.with_name("replacement")
    replacement.write_bytes(b"other")
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(replacement, path)
    status, new_headers, body = get(
        client, url, headers={"If-None-Match": headers["ETag"]}
    )
    assert (status, body) == (200, b"other")
    assert new_headers["ETag"] != headers["ETag"]
    assert new_headers["Content-Length"] == "5"


def test_head_sends_the_headers_of_the_file(app: Flask, client: FlaskClient) -> None:
    url = save("head.txt", b"0123456789")
    with client.head(url) as response:
        assert response.status_code == 200
        assert response.headers["Content-Length"] == "10"
        assert response.headers["ETag"]
        assert response.data == b""
