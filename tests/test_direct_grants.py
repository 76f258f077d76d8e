"""The upload endpoints Store registers, and the grants that open them.

tus through the test client; S3 against moto's ThreadedMotoServer over HTTP,
the test playing the browser that sends the bytes to the presigned URLs.
"""

from __future__ import annotations

import base64
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner
from moto import mock_aws

from flask_store import Store
from flask_store.direct import tus_uploads, upload_grant
from flask_store.direct.registration import UPLOADS
from flask_store.direct.s3 import s3_uploads

from . import s3_support
from .conftest import make_app
from .s3_support import create_bucket, raw_client, s3_app, s3_config

moto_server = s3_support.moto_server

ROOT = "/_flask_store/uploads/"
TUS = {"Tus-Resumable": "1.0.0"}
CHUNK = {"Content-Type": "application/offset+octet-stream", **TUS}
NEEDS_GRANT = "Uploads need the grant of a page's upload form, or STORE_UPLOADS_ACCESS."
EXPIRED = "The page's upload permission has expired: reload the page."


def local_app(tmp_path: Path, **config: Any) -> Flask:
    app = make_app(tmp_path, **config)
    Store(app)
    return app


def grant(app: Flask, location: str = "") -> dict[str, str]:
    with app.app_context():
        return {"Flask-Store-Grant": upload_grant(location)}


def metadata(**values: str) -> str:
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}"
        for key, value in values.items()
    )


def tus_create(
    client: FlaskClient, data: bytes, headers: dict[str, str] | None = None, **meta: str
) -> Any:
    meta.setdefault("filename", "notes.txt")
    return client.post(
        ROOT,
        headers={
            "Upload-Length": str(len(data)),
            "Upload-Metadata": metadata(**meta),
            **TUS,
            **(headers or {}),
        },
    )


def tus_upload(client: FlaskClient, data: bytes, headers: dict[str, str]) -> Any:
    """Create an upload with ``headers``, send ``data`` without them."""
    created = tus_create(client, data, headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    url = created.headers["Location"].removeprefix("http://localhost")
    return client.patch(url, data=data, headers={"Upload-Offset": "0", **CHUNK})


def stored(app: Flask) -> dict[str, bytes]:
    root = Path(app.config["STORE_PATH"])
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.parts)
    }


# -- registration --------------------------------------------------------


def rules(app: Flask) -> dict[str, str]:
    return {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}


def test_the_local_provider_gets_the_tus_endpoint(tmp_path: Path) -> None:
    app = local_app(tmp_path)
    assert rules(app)[f"{UPLOADS}.create"] == ROOT
    client = app.test_client()
    response = client.options(ROOT)
    assert response.status_code == 204
    assert response.headers["Tus-Extension"] == "creation,termination,expiration"


@pytest.mark.parametrize(
    "provider",
    [
        "flask_store.providers.s3.S3Provider",
        "flask_store.providers.s3.S3GeventProvider",
    ],
    ids=["s3", "s3-gevent"],
)
def test_the_s3_providers_get_the_direct_endpoints(
    tmp_path: Path, provider: str
) -> None:
    with mock_aws():
        create_bucket("test-bucket")
        app = local_app(
            tmp_path, **{**s3_config("test-bucket"), "STORE_PROVIDER": provider}
        )
        assert rules(app)[f"{UPLOADS}.params"] == ROOT + "s3/params"
        assert f"{UPLOADS}.create" not in rules(app)
        refused = app.test_client().get(ROOT + "s3/params?filename=a.txt")
        assert refused.status_code == 403
        assert refused.get_json()["error"] == NEEDS_GRANT


def test_other_providers_get_none(tmp_path: Path) -> None:
    app = local_app(
        tmp_path, STORE_PROVIDER="flask_store.providers.memory.MemoryProvider"
    )
    assert not [e for e in rules(app) if e.startswith(UPLOADS)]
    assert app.test_client().post(ROOT, headers=TUS).status_code == 404


def test_the_prefix_is_a_setting(tmp_path: Path) -> None:
    app = local_app(tmp_path, STORE_UPLOADS_URL_PREFIX="/files/in/")
    assert rules(app)[f"{UPLOADS}.create"] == "/files/in/"
    response = app.test_client().post("/files/in/", headers={**TUS, **grant(app)})
    assert response.status_code == 400  # no Upload-Length: the endpoint answered


def test_direct_uploads_off_registers_nothing_and_the_app_may(tmp_path: Path) -> None:
    app = local_app(tmp_path, STORE_DIRECT_UPLOADS=False)
    assert not [e for e in rules(app) if "tus" in e or e.startswith(UPLOADS)]
    app.register_blueprint(tus_uploads, url_prefix="/tus")
    client = app.test_client()
    assert tus_create(client, b"x", grant(app)).status_code == 404
    created = client.post(
        "/tus/",
        headers={
            "Upload-Length": "2",
            "Upload-Metadata": metadata(filename="a.txt"),
            **TUS,
            **grant(app),
        },
    )
    assert created.status_code == 201
    url = created.headers["Location"].removeprefix("http://localhost")
    assert url.startswith("/tus/")
    done = client.patch(url, data=b"hi", headers={"Upload-Offset": "0", **CHUNK})
    assert done.status_code == 204
    assert stored(app) == {"a.txt": b"hi"}


def test_direct_uploads_off_lets_the_app_register_the_s3_endpoints(
    tmp_path: Path, moto_server: str
) -> None:
    bucket = f"grants-{uuid.uuid4().hex[:12]}"
    create_bucket(bucket, moto_server)
    app = s3_app(tmp_path, bucket, moto_server, STORE_DIRECT_UPLOADS=False)
    assert not [e for e in rules(app) if e.startswith(UPLOADS)]
    app.register_blueprint(s3_uploads, url_prefix="/direct")
    client = app.test_client()
    response = client.get(
        "/direct/s3/params", query_string={"filename": "a.txt"}, headers=grant(app)
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["method"] == "POST"


def test_registering_the_endpoint_as_well_mounts_it_twice(tmp_path: Path) -> None:
    app = local_app(tmp_path)
    app.register_blueprint(tus_uploads, url_prefix="/tus")
    assert rules(app)[f"{UPLOADS}.create"] == ROOT
    assert rules(app)["flask_store_tus.create"] == "/tus/"
    client = app.test_client()
    for root in (ROOT, "/tus/"):
        response = client.post(
            root,
            headers={
                "Upload-Length": "1",
                "Upload-Metadata": metadata(filename="a.txt"),
                **TUS,
            },
        )
        assert response.status_code == 403
        assert NEEDS_GRANT in response.get_data(as_text=True)


def test_one_store_serves_two_apps_with_different_providers(tmp_path: Path) -> None:
    store = Store()
    local = make_app(tmp_path / "local")
    memory = make_app(
        tmp_path / "memory",
        STORE_PROVIDER="flask_store.providers.memory.MemoryProvider",
    )
    store.init_app(local)
    store.init_app(memory)
    with mock_aws():
        create_bucket("test-bucket")
        s3 = make_app(tmp_path / "s3", **s3_config("test-bucket"))
        store.init_app(s3)
        assert f"{UPLOADS}.params" in rules(s3)
    assert f"{UPLOADS}.create" in rules(local)
    assert not [e for e in rules(memory) if e.startswith(UPLOADS)]
    done = tus_upload(local.test_client(), b"one", grant(local))
    assert done.status_code == 204
    assert stored(local) == {"notes.txt": b"one"}


# -- grants on the tus endpoint ---------------------------------------------


def test_creating_a_tus_upload_needs_a_grant(tmp_path: Path) -> None:
    app = local_app(tmp_path)
    client = app.test_client()
    refused = tus_create(client, b"hello")
    assert refused.status_code == 403
    assert refused.get_data(as_text=True) == NEEDS_GRANT + "\n"
    as_json = tus_create(client, b"hello", {"Accept": "application/json"})
    assert as_json.status_code == 403
    assert as_json.get_json() == {"error": NEEDS_GRANT}
    done = tus_upload(client, b"hello", grant(app))
    assert done.status_code == 204
    assert "Flask-Store-Receipt" in done.headers
    assert stored(app) == {"notes.txt": b"hello"}


def test_the_upload_url_needs_no_grant(tmp_path: Path) -> None:
    app = local_app(tmp_path)
    client = app.test_client()
    created = tus_create(client, b"0123456789", grant(app))
    url = created.headers["Location"].removeprefix("http://localhost")
    half = client.patch(url, data=b"01234", headers={"Upload-Offset": "0", **CHUNK})
    assert half.status_code == 204
    head = client.head(url, headers=TUS)
    assert head.status_code == 200
    assert head.headers["Upload-Offset"] == "5"
    assert client.delete(url, headers=TUS).status_code == 204
    assert client.head(url, headers=TUS).status_code == 404


def test_the_upload_url_still_refuses_other_sites(tmp_path: Path) -> None:
    app = local_app(tmp_path)
    client = app.test_client()
    created = tus_create(client, b"hello", grant(app))
    url = created.headers["Location"].removeprefix("http://localhost")
    response = client.patch(
        url,
        data=b"hello",
        headers={"Upload-Offset": "0", "Origin": "https://elsewhere.example", **CHUNK},
    )
    assert response.status_code == 403
    assert "another site" in response.get_data(as_text=True)
    assert stored(app) == {}


def test_a_grant_does_not_open_the_endpoint_to_other_sites(tmp_path: Path) -> None:
    app = local_app(tmp_path)
    response = tus_create(
        app.test_client(),
        b"hello",
        {"Origin": "https://elsewhere.example", **grant(app)},
    )
    assert response.status_code == 403
    assert "another site" in response.get_data(as_text=True)


@pytest.mark.parametrize("forgery", ["tampered", "other-app", "other-purpose"])
def test_a_forged_grant_is_refused(tmp_path: Path, forgery: str) -> None:
    app = local_app(tmp_path / "app", STORE_UPLOADS_ACCESS=True)
    token = grant(app)["Flask-Store-Grant"]
    if forgery == "tampered":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    elif forgery == "other-app":
        other = local_app(tmp_path / "other")  # another store
        token = grant(other)["Flask-Store-Grant"]
    else:
        with app.app_context():
            from flask_store.direct import sign_receipt

            token = sign_receipt("notes.txt", 5)
    response = tus_create(app.test_client(), b"hello", {"Flask-Store-Grant": token})
    assert response.status_code == 403
    assert response.get_data(as_text=True) == EXPIRED + "\n"
    assert stored(app) == {}


@pytest.mark.parametrize("access", [None, True], ids=["closed", "open"])
def test_an_expired_grant_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, access: bool | None
) -> None:
    app = local_app(
        tmp_path, STORE_UPLOAD_TOKEN_MAX_AGE=60, STORE_UPLOADS_ACCESS=access
    )
    headers = grant(app)
    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + 62)
    response = tus_create(
        app.test_client(), b"hello", {"Accept": "application/json", **headers}
    )
    assert response.status_code == 403
    assert response.get_json() == {"error": EXPIRED}


def test_a_grant_names_the_folder(tmp_path: Path) -> None:
    app = local_app(tmp_path)
    client = app.test_client()
    headers = grant(app, "team/reports")
    assert tus_upload(client, b"one", headers).status_code == 204
    same = tus_create(client, b"two", headers, location="team/reports")
    assert same.status_code == 201
    other = tus_create(client, b"three", headers, location="elsewhere")
    assert other.status_code == 400
    assert "'team/reports' only, not 'elsewhere'" in other.get_data(as_text=True)
    top = tus_create(client, b"four", headers, location="")
    assert top.status_code == 400
    assert stored(app) == {"team/reports/notes.txt": b"one"}


def test_a_grant_for_the_top_folder_keeps_uploads_there(tmp_path: Path) -> None:
    app = local_app(tmp_path)
    response = tus_create(app.test_client(), b"x", grant(app), location="sub")
    assert response.status_code == 400
    assert "'the top folder' only, not 'sub'" in response.get_data(as_text=True)


def test_a_grant_refuses_a_bad_folder(tmp_path: Path) -> None:
    app = local_app(tmp_path)
    with app.app_context(), pytest.raises(ValueError, match=r"\.\."):
        upload_grant("../outside")


@pytest.mark.parametrize(
    ("access", "status"),
    [
        (True, 204),
        (lambda: True, 204),
        (lambda: False, 403),
        (lambda: 1, 403),
        (False, 403),
    ],
    ids=["true", "callable-true", "callable-false", "callable-truthy", "false"],
)
def test_uploads_access_decides_without_a_grant(
    tmp_path: Path, access: Any, status: int
) -> None:
    app = local_app(tmp_path, STORE_UPLOADS_ACCESS=access)
    client = app.test_client()
    if status == 204:
        assert tus_upload(client, b"hello", {}).status_code == 204
        assert stored(app) == {"notes.txt": b"hello"}
    else:
        refused = tus_create(client, b"hello")
        assert refused.status_code == 403
        assert NEEDS_GRANT in refused.get_data(as_text=True)


def test_a_grant_works_where_uploads_access_refuses(tmp_path: Path) -> None:
    app = local_app(tmp_path, STORE_UPLOADS_ACCESS=lambda: False)
    assert tus_upload(app.test_client(), b"hello", grant(app)).status_code == 204


# -- checks by content at completion ----------------------------------------


@pytest.mark.parametrize("chunks", [1, 2], ids=["one-chunk", "two-chunks"])
def test_tus_refuses_a_finished_upload_by_its_content(
    tmp_path: Path, chunks: int
) -> None:
    app = local_app(tmp_path, STORE_ALLOWED_TYPES={"image/*"})
    client = app.test_client()
    data = b"#!/bin/sh\necho not an image\n"
    created = tus_create(client, data, grant(app), filename="photo.png")
    url = created.headers["Location"].removeprefix("http://localhost")
    half = len(data) // chunks
    if chunks == 2:
        first = client.patch(
            url, data=data[:half], headers={"Upload-Offset": "0", **CHUNK}
        )
        assert first.status_code == 204
    last = client.patch(
        url,
        data=data[half if chunks == 2 else 0 :],
        headers={"Upload-Offset": str(half if chunks == 2 else 0), **CHUNK},
    )
    assert last.status_code == 415
    assert "photo.png is not what its name says" in last.get_data(as_text=True)
    assert "Flask-Store-Receipt" not in last.headers
    assert stored(app) == {}
    spool = Path(app.config["STORE_PATH"])
    assert [p for p in spool.rglob("*") if p.is_file()] == []
    assert client.head(url, headers=TUS).status_code == 404


def test_tus_keeps_a_finished_upload_of_an_allowed_type(tmp_path: Path) -> None:
    app = local_app(tmp_path, STORE_ALLOWED_TYPES={"text/*"})
    done = tus_upload(app.test_client(), b"plain words\n", grant(app))
    assert done.status_code == 204
    assert stored(app) == {"notes.txt": b"plain words\n"}


# -- grants and checks by content on the S3 endpoints -------------------------


@pytest.fixture
def s3(tmp_path: Path, moto_server: str, request: pytest.FixtureRequest) -> Any:
    marker = request.node.get_closest_marker("store_config")
    bucket = f"grants-{uuid.uuid4().hex[:12]}"
    create_bucket(bucket, moto_server)
    app = s3_app(tmp_path, bucket, moto_server, **(marker.kwargs if marker else {}))
    return app, app.test_client(), raw_client(moto_server), bucket


def keys(raw: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in raw.list_objects_v2(Bucket=bucket).get("Contents", [])]


def multipart(
    client: FlaskClient, headers: dict[str, str], name: str, data: bytes, **meta: Any
) -> Any:
    started = client.post(
        ROOT + "s3/multipart",
        json={"filename": name, "type": "", "metadata": meta},
        headers=headers,
    )
    assert started.status_code == 200, started.get_json()
    upload = started.get_json()
    signed = client.get(
        ROOT + f"s3/multipart/{upload['uploadId']}/1",
        query_string={"key": upload["key"]},
        headers=headers,
    )
    assert signed.status_code == 200, signed.get_json()
    put = requests.put(signed.get_json()["url"], data=data, timeout=30)
    assert put.status_code == 200, put.text
    return client.post(
        ROOT + f"s3/multipart/{upload['uploadId']}/complete",
        query_string={"key": upload["key"]},
        json={"parts": [{"PartNumber": 1, "ETag": put.headers["ETag"]}]},
        headers=headers,
    )


def test_s3_endpoints_need_a_grant(s3: Any) -> None:
    _app, client, raw, bucket = s3
    for response in (
        client.get(ROOT + "s3/params", query_string={"filename": "a.txt"}),
        client.post(ROOT + "s3/multipart", json={"filename": "a.txt"}),
        client.post(ROOT + "s3/confirm", json={"key": "x"}),
        client.get(ROOT + "s3/multipart/id/1", query_string={"key": "x"}),
        client.get(ROOT + "s3/multipart/id", query_string={"key": "x"}),
        client.delete(ROOT + "s3/multipart/id", query_string={"key": "x"}),
    ):
        assert response.status_code == 403
        assert response.get_json()["error"] == NEEDS_GRANT
    forged = client.get(
        ROOT + "s3/params",
        query_string={"filename": "a.txt"},
        headers={"Flask-Store-Grant": "forged"},
    )
    assert forged.status_code == 403
    assert forged.get_json()["error"] == EXPIRED
    assert keys(raw, bucket) == []


def test_s3_multipart_upload_with_a_grant_goes_to_its_folder(s3: Any) -> None:
    app, client, raw, bucket = s3
    headers = grant(app, "plans")
    done = multipart(client, headers, "plan.txt", b"the plan")
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["path"] == "plans/plan.txt"
    assert keys(raw, bucket) == ["plans/plan.txt"]
    moved = client.post(
        ROOT + "s3/multipart",
        json={"filename": "b.txt", "metadata": {"location": "elsewhere"}},
        headers=headers,
    )
    assert moved.status_code == 400
    assert "'plans' only, not 'elsewhere'" in moved.get_json()["error"]


@pytest.mark.store_config(STORE_UPLOAD_TOKEN_MAX_AGE=60)
def test_a_grant_starts_uploads_for_its_max_age_and_carries_them_on_longer(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, client, _raw, _bucket = s3
    headers = grant(app)
    started = client.post(
        ROOT + "s3/multipart", json={"filename": "late.txt"}, headers=headers
    ).get_json()
    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + 120)
    late_start = client.post(
        ROOT + "s3/multipart", json={"filename": "b.txt"}, headers=headers
    )
    assert late_start.status_code == 403
    assert late_start.get_json()["error"] == EXPIRED
    parts = client.get(
        ROOT + f"s3/multipart/{started['uploadId']}",
        query_string={"key": started["key"]},
        headers=headers,
    )
    assert parts.status_code == 200
    assert parts.get_json() == []


@pytest.mark.store_config(STORE_ALLOWED_TYPES={"image/*"})
def test_s3_complete_refuses_and_deletes_by_content(s3: Any) -> None:
    app, client, raw, bucket = s3
    done = multipart(client, grant(app), "photo.png", b"not a picture at all")
    assert done.status_code == 415
    assert "photo.png is not what its name says" in done.get_json()["error"]
    assert keys(raw, bucket) == []


@pytest.mark.store_config(STORE_ALLOWED_TYPES={"image/*"})
def test_s3_confirm_refuses_and_deletes_by_content(s3: Any) -> None:
    app, client, raw, bucket = s3
    headers = grant(app)
    params = client.get(
        ROOT + "s3/params",
        query_string={"filename": "photo.png", "size": 9},
        headers=headers,
    ).get_json()
    posted = requests.post(
        params["url"],
        data=params["fields"],
        files={"file": ("x", b"plain txt")},
        timeout=30,
    )
    assert posted.status_code in (200, 204), posted.text
    confirmed = client.post(
        ROOT + "s3/confirm", json={"key": params["key"]}, headers=headers
    )
    assert confirmed.status_code == 415
    assert "photo.png is not what its name says" in confirmed.get_json()["error"]
    assert keys(raw, bucket) == []


def test_a_grant_does_not_outlive_its_request(tmp_path: Path) -> None:
    app = local_app(tmp_path, STORE_UPLOADS_ACCESS=True)
    headers = grant(app, "team")
    with app.app_context():  # one app context for both requests, as in tests
        client = app.test_client()
        assert tus_create(client, b"a", headers).status_code == 201
        elsewhere = tus_create(client, b"b", location="other")
        assert elsewhere.status_code == 201, elsewhere.get_data(as_text=True)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("STORE_UPLOADS_URL_PREFIX", 5),
        ("STORE_TUS_MIN_SIZE", "8 MB"),
        ("STORE_DIRECT_UPLOADS", "yes"),
        ("STORE_UPLOADS_ACCESS", "anyone"),
    ],
)
def test_upload_settings_of_the_wrong_type_fail_at_init_app(
    tmp_path: Path, key: str, value: Any
) -> None:
    from flask_store.exceptions import NotConfiguredError

    with pytest.raises(NotConfiguredError, match=key):
        local_app(tmp_path, **{key: value})
