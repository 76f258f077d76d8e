"""Resumable uploads with tus 1.0 (flask_store.direct.tus_uploads), over HTTP."""

from __future__ import annotations

import base64
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner

from flask_store import Store
from flask_store.direct import (
    confirm_upload,
    read_receipt,
    sign_receipt,
    tus_uploads,
    upload_grant,
)
from flask_store.exceptions import BadUploadToken

from .conftest import make_app
from .docs_examples import run_example

TUS = {"Tus-Resumable": "1.0.0"}
CHUNK = {"Content-Type": "application/offset+octet-stream", **TUS}


def build(tmp_path: Path, **config: Any) -> Flask:
    # Open to every request, as the endpoint was before grants: grants are
    # tested in test_direct_grants.py.
    config.setdefault("STORE_UPLOADS_ACCESS", True)
    app = make_app(tmp_path, **config)
    Store(app)
    app.register_blueprint(tus_uploads, url_prefix="/tus")
    return app


@pytest.fixture
def tus_app(request: pytest.FixtureRequest, tmp_path: Path) -> Flask:
    marker = request.node.get_closest_marker("store_config")
    return build(tmp_path, **(marker.kwargs if marker else {}))


@pytest.fixture
def client(tus_app: Flask) -> FlaskClient:
    return tus_app.test_client()


def metadata(**values: str) -> str:
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}"
        for key, value in values.items()
    )


def create(client: FlaskClient, length: int, **values: str) -> Any:
    values.setdefault("filename", "report.pdf")
    return client.post(
        "/tus/",
        headers={
            "Upload-Length": str(length),
            "Upload-Metadata": metadata(**values),
            **TUS,
        },
    )


def location(response: Any) -> str:
    assert response.status_code == 201, response.get_data(as_text=True)
    url = response.headers["Location"]
    assert url.startswith("http://localhost/tus/")
    return url.removeprefix("http://localhost")


def send(client: FlaskClient, url: str, offset: int, data: bytes) -> Any:
    return client.patch(url, data=data, headers={"Upload-Offset": str(offset), **CHUNK})


def store_files(app: Flask) -> dict[str, bytes]:
    """Every visible file in the store, with its bytes."""
    root = Path(app.config["STORE_PATH"])
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    }


def spool_names(app: Flask) -> list[str]:
    spool = Path(app.config["STORE_PATH"]) / ".flask-store-spool"
    return sorted(p.name for p in spool.iterdir()) if spool.is_dir() else []


def test_options_says_what_the_server_supports(client: FlaskClient) -> None:
    response = client.options("/tus/")
    assert response.status_code == 204
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert response.headers["Tus-Version"] == "1.0.0"
    assert response.headers["Tus-Extension"] == "creation,termination,expiration"


@pytest.mark.store_config(STORE_MAX_SIZE=1000)
def test_options_gives_the_size_limit(client: FlaskClient) -> None:
    assert client.options("/tus/").headers["Tus-Max-Size"] == "1000"


def test_an_upload_in_chunks_is_stored_and_receipted(
    tus_app: Flask, client: FlaskClient
) -> None:
    data = os.urandom(3000)
    url = location(create(client, len(data), location="reports"))
    head = client.head(url, headers=TUS)
    assert head.status_code == 200
    assert (head.headers["Upload-Offset"], head.headers["Upload-Length"]) == (
        "0",
        "3000",
    )
    assert head.headers["Cache-Control"] == "no-store"

    first = send(client, url, 0, data[:1000])
    assert first.status_code == 204 and first.headers["Upload-Offset"] == "1000"
    assert "Flask-Store-Receipt" not in first.headers
    assert store_files(tus_app) == {}
    last = send(client, url, 1000, data[1000:])
    assert last.status_code == 204 and last.headers["Upload-Offset"] == "3000"
    assert last.headers["Flask-Store-Path"] == "reports/report.pdf"
    assert store_files(tus_app) == {"reports/report.pdf": data}
    # Published with a link: nothing of the upload stays but its receipt.
    assert [n for n in spool_names(tus_app) if n.endswith(".upload")] == []

    with tus_app.test_request_context():
        receipt = read_receipt(last.headers["Flask-Store-Receipt"])
        assert (receipt.path, receipt.size) == ("reports/report.pdf", 3000)
        stored = confirm_upload(last.headers["Flask-Store-Receipt"])
        assert stored.relative_path == "reports/report.pdf"
        assert stored.read() == data


def test_a_taken_name_is_never_overwritten(tus_app: Flask, client: FlaskClient) -> None:
    first, second = location(create(client, 3)), location(create(client, 3))
    send(client, second, 0, b"two")
    send(client, first, 0, b"one")
    files = store_files(tus_app)
    assert files["report.pdf"] == b"two"
    assert sorted(files.values()) == [b"one", b"two"] and len(files) == 2


def test_the_receipt_survives_a_lost_last_response(
    tus_app: Flask, client: FlaskClient
) -> None:
    url = location(create(client, 5))
    send(client, url, 0, b"hello")
    # The client never saw that answer: it asks where it is, then resends.
    head = client.head(url, headers=TUS)
    assert head.status_code == 200 and head.headers["Upload-Offset"] == "5"
    assert head.headers["Flask-Store-Path"] == "report.pdf"
    again = send(client, url, 5, b"")
    assert again.status_code == 204 and "Flask-Store-Receipt" in again.headers
    # Bytes sent again after the end are refused, and change nothing.
    assert send(client, url, 0, b"HELLO").status_code == 404
    assert store_files(tus_app) == {"report.pdf": b"hello"}


def test_a_chunk_at_the_wrong_offset_is_refused(
    tus_app: Flask, client: FlaskClient
) -> None:
    url = location(create(client, 10))
    send(client, url, 0, b"12345")
    response = send(client, url, 3, b"45678")
    assert response.status_code == 409
    assert "has 5 bytes, not 3" in response.get_data(as_text=True)
    assert client.head(url, headers=TUS).headers["Upload-Offset"] == "5"


def test_a_chunk_past_the_length_keeps_nothing_of_it(
    tus_app: Flask, client: FlaskClient
) -> None:
    url = location(create(client, 6))
    send(client, url, 0, b"abc")
    response = send(client, url, 3, b"defgh")
    assert response.status_code == 413
    assert "past the upload's length (6 bytes)" in response.get_data(as_text=True)
    assert client.head(url, headers=TUS).headers["Upload-Offset"] == "3"
    assert send(client, url, 3, b"def").status_code == 204
    assert store_files(tus_app) == {"report.pdf": b"abcdef"}


@pytest.mark.parametrize("offset", ["-1", "three", "\u00b9", "9" * 5000])
def test_a_chunk_with_a_bad_offset_is_a_400(
    tus_app: Flask, client: FlaskClient, offset: str
) -> None:
    url = location(create(client, 3))
    response = client.patch(
        url, data=b"abc", headers={**CHUNK, "Upload-Offset": offset}
    )
    assert response.status_code == 400
    assert "Send Upload-Offset as a number of bytes." in response.get_data(as_text=True)
    assert client.head(url, headers=TUS).headers["Upload-Offset"] == "0"


def test_chunks_must_be_offset_octet_streams(client: FlaskClient) -> None:
    url = location(create(client, 3))
    response = client.patch(
        url,
        data=b"abc",
        headers={"Upload-Offset": "0", "Content-Type": "text/plain", **TUS},
    )
    assert response.status_code == 415
    assert "application/offset+octet-stream" in response.get_data(as_text=True)


def test_requests_without_the_tus_version_are_refused(client: FlaskClient) -> None:
    response = client.post("/tus/", headers={"Upload-Length": "3"})
    assert response.status_code == 412
    assert response.headers["Tus-Version"] == "1.0.0"
    assert "Tus-Resumable: 1.0.0" in response.get_data(as_text=True)


@pytest.mark.store_config(STORE_MAX_SIZE=100, STORE_ALLOWED_EXTENSIONS={"pdf"})
@pytest.mark.parametrize(
    ("length", "filename", "status", "message"),
    [
        (101, "big.pdf", 413, "big.pdf is larger than"),
        (10, "page.html", 415, "page.html is not an allowed type"),
        (10, "", 400, "Send the file's name"),
    ],
)
def test_a_refused_upload_is_refused_before_any_byte(
    tus_app: Flask,
    client: FlaskClient,
    length: int,
    filename: str,
    status: int,
    message: str,
) -> None:
    response = create(client, length, filename=filename)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert spool_names(tus_app) == [] and store_files(tus_app) == {}


@pytest.mark.parametrize(
    "headers",
    [
        {"Upload-Length": "ten"},
        {"Upload-Length": "-1"},
        {"Upload-Length": "\u00b2"},  # a digit to str.isdigit, not to int
        {"Upload-Length": "9" * 5000},  # more digits than int reads
        {"Upload-Defer-Length": "1"},
        {"Upload-Length": "3", "Upload-Metadata": "filename not-base64!"},
        {"Upload-Length": "3", "Upload-Metadata": "filename \u00e9t\u00e9"},
        {
            "Upload-Length": "3",
            "Upload-Metadata": metadata(filename="a.txt", location="../up"),
        },
    ],
)
def test_bad_creation_headers_get_a_400(
    tus_app: Flask, client: FlaskClient, headers: dict[str, str]
) -> None:
    headers.setdefault("Upload-Metadata", metadata(filename="a.txt"))
    response = client.post("/tus/", headers={**headers, **TUS})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_data(as_text=True).strip()
    assert spool_names(tus_app) == []


def test_errors_are_json_when_asked(client: FlaskClient) -> None:
    response = client.post(
        "/tus/", headers={"Upload-Length": "x", "Accept": "application/json", **TUS}
    )
    assert response.status_code == 400
    assert response.get_json() == {"error": "Send Upload-Length as a number of bytes."}


def test_termination_deletes_the_bytes(tus_app: Flask, client: FlaskClient) -> None:
    url = location(create(client, 10))
    send(client, url, 0, b"12345")
    assert client.delete(url, headers=TUS).status_code == 204
    assert spool_names(tus_app) == []
    assert client.head(url, headers=TUS).status_code == 404
    assert send(client, url, 5, b"67890").status_code == 404
    assert store_files(tus_app) == {}


@pytest.mark.store_config(STORE_UPLOAD_EXPIRES=3600)
def test_an_expired_upload_is_gone_and_its_bytes_removed(
    tus_app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = location(create(client, 10))
    send(client, url, 0, b"12345")
    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + 3602)
    response = send(client, url, 5, b"67890")
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    assert client.head(url, headers=TUS).status_code == 410
    assert [n for n in spool_names(tus_app) if n.endswith(".upload")] == []
    assert store_files(tus_app) == {}


def test_upload_expires_is_sent(client: FlaskClient) -> None:
    response = create(client, 10)
    assert response.headers["Upload-Expires"].endswith(" GMT")


def test_a_forged_upload_url_is_unknown(client: FlaskClient) -> None:
    url = location(create(client, 10))
    forged = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    assert client.head(forged, headers=TUS).status_code == 404
    assert send(client, forged, 0, b"x").status_code == 404


def test_an_upload_url_of_another_app_is_unknown(tmp_path: Path) -> None:
    one = build(tmp_path / "one").test_client()
    other_app = build(tmp_path / "two")
    other_app.secret_key = "another-secret"
    other = other_app.test_client()
    url = location(create(one, 3))
    assert other.head(url, headers=TUS).status_code == 404


@pytest.mark.parametrize(
    ("origin", "status"), [("https://evil.example", 403), ("http://localhost", 201)]
)
def test_requests_from_another_site_are_refused(
    tus_app: Flask, client: FlaskClient, origin: str, status: int
) -> None:
    response = client.post(
        "/tus/",
        headers={
            "Upload-Length": "3",
            "Upload-Metadata": metadata(filename="a.txt"),
            "Origin": origin,
            **TUS,
        },
    )
    assert response.status_code == status
    if status == 403:
        assert "another site" in response.get_data(as_text=True)
        assert spool_names(tus_app) == []


@pytest.mark.store_config(STORE_UPLOADS_ACCESS=lambda: False)
def test_uploads_access_can_close_the_endpoint(
    tus_app: Flask, client: FlaskClient
) -> None:
    response = create(client, 3)
    assert response.status_code == 403
    assert "STORE_UPLOADS_ACCESS" in response.get_data(as_text=True)
    assert spool_names(tus_app) == []


@pytest.mark.store_config(STORE_PROVIDER="flask_store.providers.memory.MemoryProvider")
def test_other_providers_say_tus_needs_the_local_disk(client: FlaskClient) -> None:
    response = create(client, 3)
    assert response.status_code == 404
    assert "local disk" in response.get_data(as_text=True)


def test_an_empty_file_is_stored_at_creation(
    tus_app: Flask, client: FlaskClient
) -> None:
    response = create(client, 0, filename="empty.txt")
    assert response.status_code == 201
    assert response.headers["Flask-Store-Path"] == "empty.txt"
    assert store_files(tus_app) == {"empty.txt": b""}


def test_a_symlink_planted_as_the_upload_is_never_written(
    tus_app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    url = location(create(client, 5))
    spool = Path(tus_app.config["STORE_PATH"]) / ".flask-store-spool"
    (data,) = [p for p in spool.iterdir() if p.name.endswith(".upload")]
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"")
    data.unlink()
    data.symlink_to(outside)
    assert send(client, url, 0, b"hello").status_code == 404
    assert outside.read_bytes() == b""
    assert store_files(tus_app) == {}


def test_receipts_are_checked(
    tus_app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    url = location(create(client, 5))
    token = send(client, url, 0, b"hello").headers["Flask-Store-Receipt"]
    with tus_app.test_request_context():
        with pytest.raises(BadUploadToken, match="not valid or has expired"):
            read_receipt(token[:-2] + "xx")
        with pytest.raises(BadUploadToken, match="not valid or has expired"):
            read_receipt(token, max_age=-1)
        with pytest.raises(BadUploadToken, match="not stored as it was uploaded"):
            confirm_upload(sign_receipt("report.pdf", 6))
        with pytest.raises(BadUploadToken, match="not stored as it was uploaded"):
            confirm_upload(sign_receipt("missing.pdf", 5))
    other = build(tmp_path / "other")
    with other.test_request_context(), pytest.raises(BadUploadToken):
        read_receipt(token)


def test_docs_example_stores_a_resumable_upload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    module = run_example("tus", "docs_tus_example")
    try:
        app: Flask = module.app
        client = app.test_client()
        with app.app_context():
            grant = upload_grant("documents")
        response = client.post(
            "/_flask_store/uploads/",
            headers={
                "Upload-Length": "5",
                "Upload-Metadata": metadata(filename="cv.pdf", location="documents"),
                "Flask-Store-Grant": grant,
                **TUS,
            },
        )
        url = response.headers["Location"].removeprefix("http://localhost")
        receipt = send(client, url, 0, b"hello").headers["Flask-Store-Receipt"]
        confirmed = client.post("/documents", data={"receipt": receipt})
        assert confirmed.get_json() == {
            "path": "documents/cv.pdf",
            "url": "http://localhost/uploads/documents/cv.pdf",
        }
        with client.get("/uploads/documents/cv.pdf") as served:
            assert served.data == b"hello"
        forged = client.post("/documents", data={"receipt": receipt + "x"})
        assert forged.status_code == 400
        assert "not valid or has expired" in forged.get_data(as_text=True)
    finally:
        sys.modules.pop("docs_tus_example", None)


def test_an_upload_hard_linked_from_elsewhere_is_never_written(
    tus_app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    url = location(create(client, 5))
    spool = Path(tus_app.config["STORE_PATH"]) / ".flask-store-spool"
    (data,) = [p for p in spool.iterdir() if p.name.endswith(".upload")]
    outside = tmp_path / "outside.txt"
    data.unlink()
    outside.write_bytes(b"")
    os.link(outside, data)
    assert send(client, url, 0, b"hello").status_code == 404
    assert outside.read_bytes() == b""
    assert store_files(tus_app) == {}
