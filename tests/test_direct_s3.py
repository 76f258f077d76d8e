"""Direct uploads to S3 (flask_store.direct.s3): the app signs, the client sends.

Against moto's ThreadedMotoServer over HTTP: the test plays the browser,
sending the bytes straight to the presigned URLs with ``requests``.
"""

from __future__ import annotations

import base64
import io
import json
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from moto import mock_aws

from flask_store.direct import confirm_upload, read_receipt, upload_grant
from flask_store.direct.s3 import s3_uploads
from flask_store.exceptions import UploadPending
from flask_store.providers.s3 import S3Provider

from . import s3_support
from .docs_examples import run_example
from .s3_support import Requests, create_bucket, raw_client, s3_app

pytestmark = pytest.mark.s3server

MiB = 1024 * 1024

moto_server = s3_support.moto_server


@dataclass
class Direct:
    """An S3 app with the direct-upload endpoints, its client and bucket."""

    app: Flask
    client: FlaskClient
    raw: Any
    bucket: str


@pytest.fixture
def direct(
    request: pytest.FixtureRequest, tmp_path: Path, moto_server: str
) -> Iterator[Direct]:
    marker = request.node.get_closest_marker("store_config")
    bucket = f"direct-{uuid.uuid4().hex[:12]}"
    create_bucket(bucket, moto_server)
    config = {"STORE_UPLOADS_ACCESS": True, **(marker.kwargs if marker else {})}
    app = s3_app(tmp_path, bucket, moto_server, **config)
    app.register_blueprint(s3_uploads, url_prefix="/direct")
    yield Direct(app, app.test_client(), raw_client(moto_server), bucket)


def keys(raw: Any, bucket: str) -> dict[str, bytes]:
    listed = raw.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {
        o["Key"]: raw.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
        for o in listed
    }


def post_file(params: dict[str, Any], data: bytes) -> requests.Response:
    return requests.post(
        params["url"], data=params["fields"], files={"file": ("x", data)}, timeout=30
    )


def start_multipart(
    client: FlaskClient, filename: str, prefix: str = "/direct", **metadata: Any
) -> dict[str, Any]:
    response = client.post(
        f"{prefix}/s3/multipart",
        json={"filename": filename, "type": "", "metadata": metadata},
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def send_parts(
    client: FlaskClient,
    upload: dict[str, Any],
    parts: dict[int, bytes],
    prefix: str = "/direct",
) -> list[dict[str, Any]]:
    sent = []
    for number, data in parts.items():
        signed = client.get(
            f"{prefix}/s3/multipart/{upload['uploadId']}/{number}",
            query_string={"key": upload["key"]},
        ).get_json()
        put = requests.put(signed["url"], data=data, timeout=30)
        assert put.status_code == 200, put.text
        sent.append({"PartNumber": number, "ETag": put.headers["ETag"]})
    return sent


def test_a_presigned_post_then_confirm_stores_the_file(direct: Direct) -> None:
    client, raw, bucket = direct.client, direct.raw, direct.bucket
    params = client.get(
        "/direct/s3/params",
        query_string={"filename": "cv.pdf", "type": "application/pdf"},
    ).get_json()
    assert params["method"] == "POST"
    assert post_file(params, b"%PDF-1.7 cv").status_code in (200, 204)
    assert keys(raw, bucket) == {
        k: v
        for k, v in keys(raw, bucket).items()
        if k.startswith(".flask-store-uploads/")
    }  # nothing under a final name yet
    confirmed = client.post("/direct/s3/confirm", json={"key": params["key"]})
    assert confirmed.status_code == 200, confirmed.get_json()
    body = confirmed.get_json()
    assert body["path"] == "cv.pdf"
    assert keys(raw, bucket) == {"cv.pdf": b"%PDF-1.7 cv"}
    with direct.app.test_request_context():
        stored = confirm_upload(body["receipt"])
        assert stored.read() == b"%PDF-1.7 cv"
        assert read_receipt(confirmed.headers["Flask-Store-Receipt"]).size == 11


def test_a_multipart_upload_is_resumable_and_stored(direct: Direct) -> None:
    client, raw, bucket = direct.client, direct.raw, direct.bucket
    data = os.urandom(11 * MiB)
    upload = start_multipart(client, "backup.tar", location="backups")
    send_parts(client, upload, {1: data[: 5 * MiB]})
    # After a reload, the browser asks which parts S3 already has.
    listed = client.get(
        f"/direct/s3/multipart/{upload['uploadId']}",
        query_string={"key": upload["key"]},
    ).get_json()
    assert [(p["PartNumber"], p["Size"]) for p in listed] == [(1, 5 * MiB)]
    rest = send_parts(
        client, upload, {2: data[5 * MiB : 10 * MiB], 3: data[10 * MiB :]}
    )
    parts = [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in listed] + rest
    done = client.post(
        f"/direct/s3/multipart/{upload['uploadId']}/complete",
        query_string={"key": upload["key"]},
        json={"parts": parts},
    )
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["path"] == "backups/backup.tar"
    assert keys(raw, bucket) == {"backups/backup.tar": data}


def test_a_taken_name_is_never_overwritten(direct: Direct) -> None:
    client, raw, bucket = direct.client, direct.raw, direct.bucket
    raw.put_object(Bucket=bucket, Key="cv.pdf", Body=b"someone else's")
    params = client.get(
        "/direct/s3/params", query_string={"filename": "cv.pdf"}
    ).get_json()
    post_file(params, b"mine")
    body = client.post("/direct/s3/confirm", json={"key": params["key"]}).get_json()
    assert body["path"] != "cv.pdf" and body["path"].endswith(".pdf")
    assert keys(raw, bucket) == {"cv.pdf": b"someone else's", body["path"]: b"mine"}


def test_cancel_aborts_the_multipart_upload(direct: Direct) -> None:
    client, raw, bucket = direct.client, direct.raw, direct.bucket
    upload = start_multipart(client, "big.bin")
    send_parts(client, upload, {1: b"x" * MiB})
    response = client.delete(
        f"/direct/s3/multipart/{upload['uploadId']}",
        query_string={"key": upload["key"]},
        json={},
    )
    assert response.status_code == 200
    assert raw.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert keys(raw, bucket) == {}


@pytest.mark.store_config(STORE_MAX_SIZE=MiB, STORE_ALLOWED_EXTENSIONS={"pdf", "bin"})
def test_refused_uploads_get_a_message_and_keep_nothing(direct: Direct) -> None:
    client, raw, bucket = direct.client, direct.raw, direct.bucket
    refused = client.post(
        "/direct/s3/multipart", json={"filename": "page.html", "metadata": {}}
    )
    assert refused.status_code == 415
    assert "page.html is not an allowed type" in refused.get_json()["error"]
    too_big = client.get(
        "/direct/s3/params", query_string={"filename": "a.pdf", "size": 2 * MiB}
    )
    assert too_big.status_code == 413
    # A client that lies about the size: S3 refuses the POST (its policy's
    # content-length-range; moto does not check it), and the confirmation
    # refuses the object anyway, deleting it.
    params = client.get(
        "/direct/s3/params", query_string={"filename": "a.pdf"}
    ).get_json()
    policy = json.loads(base64.b64decode(params["fields"]["policy"]))
    assert ["content-length-range", 0, MiB] in policy["conditions"]
    post_file(params, b"x" * (MiB + 1))
    confirmed = client.post("/direct/s3/confirm", json={"key": params["key"]})
    assert confirmed.status_code == 413
    assert "a.pdf is larger than" in confirmed.get_json()["error"]
    assert keys(raw, bucket) == {}
    # And a multipart upload larger than the limit is aborted at completion.
    upload = start_multipart(client, "big.bin")
    parts = send_parts(client, upload, {1: b"x" * (5 * MiB), 2: b"y"})
    done = client.post(
        f"/direct/s3/multipart/{upload['uploadId']}/complete",
        query_string={"key": upload["key"]},
        json={"parts": parts},
    )
    assert done.status_code == 413
    assert "big.bin is larger than" in done.get_json()["error"]
    assert raw.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert keys(raw, bucket) == {}


def test_forged_keys_and_bad_requests_are_refused(direct: Direct) -> None:
    client = direct.client
    upload = start_multipart(client, "a.bin")
    forged = upload["key"][:-2] + "xx"
    assert (
        client.get(
            f"/direct/s3/multipart/{upload['uploadId']}/1", query_string={"key": forged}
        ).status_code
        == 404
    )
    assert client.post("/direct/s3/confirm", json={"key": forged}).status_code == 404
    assert client.post("/direct/s3/confirm", data="key=1").status_code == 400
    assert (
        client.post("/direct/s3/confirm", json={"key": upload["key"]}).status_code
        == 404
    )  # a multipart upload's key is not a POST's
    never_posted = client.get(
        "/direct/s3/params", query_string={"filename": "a.bin"}
    ).get_json()["key"]
    not_sent = client.post("/direct/s3/confirm", json={"key": never_posted})
    assert not_sent.status_code == 404
    assert "has not reached S3" in not_sent.get_json()["error"]
    assert (
        client.get(
            f"/direct/s3/multipart/{upload['uploadId']}/0",
            query_string={"key": upload["key"]},
        ).status_code
        == 400
    )
    cross = client.post(
        "/direct/s3/multipart",
        json={"filename": "a.bin"},
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403


def test_malformed_json_gets_a_400_that_says_what_to_send(direct: Direct) -> None:
    client = direct.client

    def post(url: str, body: str) -> Any:
        response = client.post(url, data=body, content_type="application/json")
        assert response.status_code == 400, (url, body, response.get_json())
        return response.get_json()["error"]

    # 1e400 is a JSON number Python reads as infinity, which int() refuses.
    size = post("/direct/s3/multipart", '{"filename": "a.bin", "size": 1e400}')
    assert size == "Send the size as a number of bytes."
    assert post("/direct/s3/multipart", '{"filename": "a.bin", "size": -5}') == size
    assert post("/direct/s3/confirm", '{"key": 5}') == "Send the upload's key."
    deep = "[" * 100_000 + "]" * 100_000
    assert post("/direct/s3/confirm", deep) == "Send a JSON object."
    upload = start_multipart(client, "a.bin")
    complete = f"/direct/s3/multipart/{upload['uploadId']}/complete?key={upload['key']}"
    sent = send_parts(client, upload, {1: b"abc"})
    parts = "Send the uploaded parts: [{PartNumber, ETag}, ...]."
    assert post(complete, '{"parts": [{"PartNumber": 1e400, "ETag": "x"}]}') == parts
    wrong = post(complete, '{"parts": [{"PartNumber": 1, "ETag": "\\"wrong\\""}]}')
    assert "The parts sent are not this upload's" in wrong
    # The upload is still there to complete with the right parts.
    done = client.post(complete, json={"parts": sent})
    assert done.status_code == 200, done.get_json()
    assert keys(direct.raw, direct.bucket) == {"a.bin": b"abc"}


def test_an_unknown_upload_id_is_a_404(direct: Direct) -> None:
    upload = start_multipart(direct.client, "a.bin")
    for response in (
        direct.client.get(
            "/direct/s3/multipart/no-such-upload", query_string={"key": upload["key"]}
        ),
        direct.client.post(
            "/direct/s3/multipart/no-such-upload/complete",
            query_string={"key": upload["key"]},
            json={"parts": [{"PartNumber": 1, "ETag": '"abc"'}]},
        ),
    ):
        assert response.status_code == 404, response.get_json()
        assert response.get_json()["error"] == (
            "There is no such upload, or it has expired."
        )


def test_a_confirmed_upload_cannot_be_replaced_by_the_browser(direct: Direct) -> None:
    client, raw, bucket = direct.client, direct.raw, direct.bucket
    params = client.get(
        "/direct/s3/params", query_string={"filename": "a.png"}
    ).get_json()
    post_file(params, b"\x89PNG image")
    client.post("/direct/s3/confirm", json={"key": params["key"]})
    # The same policy, used again after the confirmation, only writes the
    # staging key; the stored file stays as confirmed.
    post_file(params, b"<html>not an image</html>")
    assert keys(raw, bucket)["a.png"] == b"\x89PNG image"


def test_the_staging_area_is_hidden_and_abandoned_uploads_are_cleaned(
    direct: Direct,
) -> None:
    client, raw, bucket = direct.client, direct.raw, direct.bucket
    params = client.get(
        "/direct/s3/params", query_string={"filename": "never-confirmed.txt"}
    ).get_json()
    post_file(params, b"abandoned")
    unfinished = start_multipart(client, "never-completed.bin")
    send_parts(client, unfinished, {1: b"x" * MiB})
    runner = direct.app.test_cli_runner()
    listed = runner.invoke(args=["store", "ls", "--json"])
    assert listed.exit_code == 0 and ".flask-store-uploads" not in listed.output
    # Young ones are left alone: they may be under way.
    # A young one is left alone: it may be under way. (moto dates every
    # multipart upload in 2010, so only the object shows this.)
    young = runner.invoke(args=["store", "cleanup", "--yes"])
    assert young.exit_code == 0, young.output
    assert "unconfirmed direct upload" not in young.output
    assert [k.rpartition("/")[2] for k in keys(raw, bucket)] == ["never-confirmed.txt"]
    assert "unfinished multipart upload" in young.output  # moto's 2010 date
    cleaned = runner.invoke(args=["store", "cleanup", "--yes", "--older-than", "0s"])
    assert cleaned.exit_code == 0, cleaned.output
    assert "unconfirmed direct upload" in cleaned.output
    assert raw.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert keys(raw, bucket) == {}


def test_docs_example_takes_a_direct_upload(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        create_bucket("my-bucket")
        module = run_example("s3-direct", "docs_s3_direct_example")
        try:
            client = module.app.test_client()
            with module.app.app_context():
                grant = upload_grant("plans")
            client.environ_base["HTTP_FLASK_STORE_GRANT"] = grant
            prefix = "/uploads/direct"
            upload = start_multipart(client, "plan.pdf", prefix, location="plans")
            parts = send_parts(client, upload, {1: b"%PDF plan"}, prefix)
            done = client.post(
                f"/uploads/direct/s3/multipart/{upload['uploadId']}/complete",
                query_string={"key": upload["key"]},
                json={"parts": parts},
            ).get_json()
            confirmed = client.post("/documents", data={"receipt": done["receipt"]})
            assert confirmed.get_json() == {"path": "plans/plan.pdf"}
            assert keys(raw_client(), "my-bucket") == {"plans/plan.pdf": b"%PDF plan"}
        finally:
            sys.modules.pop("docs_s3_direct_example", None)


def test_a_multipart_upload_claims_its_name_before_the_first_byte(
    direct: Direct,
) -> None:
    client, raw, bucket, app = direct.client, direct.raw, direct.bucket, direct.app
    first = start_multipart(client, "cv.pdf")
    second = start_multipart(client, "cv.pdf")
    with app.app_context():
        # A save meanwhile gets a name of its own too, and the claimed name
        # reads as pending, not as a file.
        saved = S3Provider(io.BytesIO(b"saved"), filename="cv.pdf").save()
        assert saved.filename not in ("cv.pdf",)
        with pytest.raises(UploadPending):
            S3Provider("cv.pdf").read()
    requests_made = Requests(app)
    done = [
        client.post(
            f"/direct/s3/multipart/{u['uploadId']}/complete",
            query_string={"key": u["key"]},
            json={"parts": send_parts(client, u, {1: data})},
        ).get_json()
        for u, data in ((second, b"two"), (first, b"one"))
    ]
    assert done[1]["path"] == "cv.pdf" and done[0]["path"] != "cv.pdf"
    files = keys(raw, bucket)
    assert files["cv.pdf"] == b"one" and files[done[0]["path"]] == b"two"
    assert files[saved.relative_path] == b"saved" and len(files) == 3
    # Completed where it was uploaded: S3 copied nothing.
    assert "UploadPartCopy" not in requests_made.sent
    assert "CopyObject" not in requests_made.sent


def test_cancelling_gives_the_name_back(direct: Direct) -> None:
    client, raw, bucket, app = direct.client, direct.raw, direct.bucket, direct.app
    upload = start_multipart(client, "draft.txt")
    client.delete(
        f"/direct/s3/multipart/{upload['uploadId']}",
        query_string={"key": upload["key"]},
    )
    assert keys(raw, bucket) == {}
    with app.app_context():
        assert S3Provider(io.BytesIO(b"x"), filename="draft.txt").save().filename == (
            "draft.txt"
        )


def test_parts_can_be_signed_in_batches(direct: Direct) -> None:
    client, raw, bucket = direct.client, direct.raw, direct.bucket
    upload = start_multipart(client, "pair.bin")
    batch = f"/direct/s3/multipart/{upload['uploadId']}/batch"
    signed = client.get(
        batch, query_string={"key": upload["key"], "partNumbers": "2,1"}
    ).get_json()["presignedUrls"]
    assert sorted(signed) == ["1", "2"]
    data = {1: os.urandom(5 * MiB), 2: b"tail"}
    parts = [
        {
            "PartNumber": n,
            "ETag": requests.put(signed[str(n)], data=data[n], timeout=30).headers[
                "ETag"
            ],
        }
        for n in (1, 2)
    ]
    done = client.post(
        f"/direct/s3/multipart/{upload['uploadId']}/complete",
        query_string={"key": upload["key"]},
        json={"parts": parts},
    )
    assert done.status_code == 200
    assert keys(raw, bucket) == {"pair.bin": data[1] + data[2]}
    for bad in ("", "0,1", "x", ",".join(str(n) for n in range(1, 102))):
        refused = client.get(
            batch, query_string={"key": upload["key"], "partNumbers": bad}
        )
        assert refused.status_code == 400, bad
        assert "part" in refused.get_json()["error"]
