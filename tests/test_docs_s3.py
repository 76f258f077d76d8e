"""The S3 guide's examples, run as written against a local S3 server."""

from __future__ import annotations

import atexit
import io
import logging
import os
import runpy
import subprocess
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from flask_store import Store
from flask_store.providers.s3 import S3GeventProvider, wait_for_uploads

from . import s3_support
from .conftest import make_app
from .docs_examples import example
from .s3_support import S3_GEVENT, Faults, is_final_upload

moto_server = s3_support.moto_server


@pytest.mark.s3server
def test_app_example_against_a_local_server(
    moto_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        "STORE_S3_ENDPOINT_URL": moto_server,
        "STORE_S3_BUCKET": f"readme-{uuid.uuid4().hex[:8]}",
        "STORE_S3_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # The shell steps: the server runs already; create the bucket as shown.
    (create,) = [
        line
        for line in example("s3-local-server").splitlines()
        if "create_bucket" in line
    ]
    subprocess.run(create, shell=True, check=True, env=os.environ, timeout=60)

    (tmp_path / "app.py").write_text(example("s3-app"))
    app = runpy.run_path(str(tmp_path / "app.py"))["app"]
    response = app.test_client().post(
        "/upload", data={"afile": (io.BytesIO(b"jpeg bytes"), "photo.jpg")}
    )
    assert response.status_code == 200
    assert response.json["key"] == "incoming/photo.jpg"
    with urllib.request.urlopen(response.json["url"]) as fetched:
        assert fetched.read() == b"jpeg bytes"
        assert fetched.headers["Content-Type"] == "image/jpeg"


def test_failed_upload_listener_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    registered: list[Any] = []
    monkeypatch.setattr(atexit, "register", lambda *a, **kw: registered.append(a))
    with s3_support.mocked_bucket() as config:
        app = make_app(
            tmp_path,
            **{
                **config,
                "STORE_PROVIDER": S3_GEVENT,
                "STORE_S3_MAX_ATTEMPTS": 1,
                "STORE_S3_BACKGROUND_ATTEMPTS": 1,
                "STORE_S3_SPOOL_PATH": str(tmp_path / "spool"),
            },
        )
        Store(app)
        exec(example("s3-upload-failed"), {"app": app})
        assert registered == [(wait_for_uploads,)]
        Faults(app).fail(
            "PutObject",
            times=10,
            status=500,
            code="InternalError",
            only=is_final_upload,
        )
        with caplog.at_level(logging.ERROR):
            S3GeventProvider(io.BytesIO(b"x"), filename="a.txt", app=app).save()
            assert wait_for_uploads(timeout=30)
    messages = [r.getMessage() for r in caplog.records if r.name == app.logger.name]
    assert len(messages) == 1 and messages[0].startswith("a.txt is not on S3")
    assert str(tmp_path / "spool") in messages[0]
