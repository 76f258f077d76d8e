"""S3GeventProvider: background uploads, retries, failures and waiting.

This test process is not monkey-patched, so uploads run in the provider's
background gevent hub; one test runs a monkey-patched app in a subprocess.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ConnectionClosedError
from flask import Flask

from flask_store.exceptions import UploadFailed, UploadPending
from flask_store.providers.s3 import S3GeventProvider, s3_client, wait_for_uploads
from flask_store.signals import upload_failed

from . import s3_support
from .conftest import upload
from .s3_support import (
    S3_GEVENT,
    Faults,
    Requests,
    ask_conditional_writes,
    is_final_upload,
    object_keys,
    s3_app,
)

# The S3 fixtures, used by name below.
moto_server = s3_support.moto_server
s3_endpoint = s3_support.s3_endpoint
bucket = s3_support.bucket
raw = s3_support.raw


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    return tmp_path / "spool"


def gevent_app(
    tmp_path: Path, bucket: str, endpoint: str | None, **config: Any
) -> Flask:
    app = s3_app(
        tmp_path,
        bucket,
        endpoint,
        STORE_PROVIDER=S3_GEVENT,
        STORE_S3_SPOOL_PATH=str(tmp_path / "spool"),
        **config,
    )
    ask_conditional_writes(app)
    return app


@pytest.fixture
def gapp(tmp_path: Path, bucket: str, s3_endpoint: str | None) -> Iterator[Flask]:
    app = gevent_app(tmp_path, bucket, s3_endpoint)
    with app.app_context():
        yield app
    assert wait_for_uploads(timeout=30)


class Gate:
    """Holds every upload of a file (not a placeholder) until opened."""

    def __init__(self, app: Flask) -> None:
        self.open = threading.Event()
        s3_client(app).meta.events.register("before-send.s3.PutObject", self._wait)

    def _wait(self, request: Any, **_: Any) -> None:
        if is_final_upload(request):
            assert self.open.wait(timeout=30)


def spooled_files(spool: Path) -> list[Path]:
    return sorted(spool.glob("*.upload"))


def body(raw: Any, bucket: str, key: str) -> bytes:
    data: bytes = raw.get_object(Bucket=bucket, Key=key)["Body"].read()
    return data


def test_save_returns_before_the_upload_and_can_be_waited_for(
    gapp: Flask, raw: Any, bucket: str, spool: Path
) -> None:
    gate = Gate(gapp)
    stream = io.BytesIO(b"background bytes")
    saved = S3GeventProvider(stream, filename="report.txt", location="docs").save()
    # The name is final at once, claimed on S3 by a placeholder that no
    # reader takes for the file.
    assert saved.relative_path == "docs/report.txt"
    assert not stream.closed
    assert object_keys(raw, bucket) == ["docs/report.txt"]
    with pytest.raises(UploadPending, match="still being uploaded"):
        saved.read()
    with pytest.raises(UploadPending):
        S3GeventProvider("docs/report.txt").open()
    (spooled,) = spooled_files(spool)
    assert spooled.read_bytes() == b"background bytes"
    assert wait_for_uploads(timeout=0.2) is False

    gate.open.set()
    assert wait_for_uploads(timeout=30) is True
    assert body(raw, bucket, "docs/report.txt") == b"background bytes"
    assert saved.read() == b"background bytes"
    assert raw.head_object(Bucket=bucket, Key="docs/report.txt")["ContentType"] == (
        "text/plain"
    )
    assert list(spool.iterdir()) == []  # removed (with its ticket) once uploaded


def test_works_without_any_app_context(
    tmp_path: Path, bucket: str, s3_endpoint: str | None, raw: Any
) -> None:
    app = gevent_app(tmp_path, bucket, s3_endpoint)
    saved = S3GeventProvider(upload(b"no context", "plain.txt"), app=app).save()
    assert saved.filename == "plain.txt"
    assert wait_for_uploads(timeout=30)
    assert body(raw, bucket, "plain.txt") == b"no context"


def test_names_are_never_reused(gapp: Flask, raw: Any, bucket: str) -> None:
    raw.put_object(Bucket=bucket, Key="same.bin", Body=b"existing")
    gate = Gate(gapp)
    # Neither upload has reached S3 when the next name is chosen.
    first = S3GeventProvider(upload(b"first", "same.bin")).save()
    second = S3GeventProvider(upload(b"second", "same.bin")).save()
    assert len({"same.bin", first.filename, second.filename}) == 3
    gate.open.set()
    assert wait_for_uploads(timeout=30)
    assert body(raw, bucket, "same.bin") == b"existing"
    assert body(raw, bucket, first.absolute_path) == b"first"
    assert body(raw, bucket, second.absolute_path) == b"second"


def test_transient_failures_are_retried(
    tmp_path: Path, bucket: str, s3_endpoint: str | None, raw: Any
) -> None:
    app = gevent_app(
        tmp_path,
        bucket,
        s3_endpoint,
        STORE_S3_MAX_ATTEMPTS=1,
        STORE_S3_BACKGROUND_ATTEMPTS=3,
    )
    Faults(app).fail("PutObject", times=2, only=is_final_upload)
    requests = Requests(app)
    failures: list[Any] = []
    with upload_failed.connected_to(lambda sender, **kw: failures.append(kw), app):
        S3GeventProvider(upload(b"eventually", "flaky.txt"), app=app).save()
        assert wait_for_uploads(timeout=30)
    assert failures == []
    assert requests.sent.count("PutObject") == 1 + 3  # the placeholder, 3 tries
    assert body(raw, bucket, "flaky.txt") == b"eventually"


def test_persistent_failure_is_logged_signalled_and_kept(
    tmp_path: Path,
    bucket: str,
    s3_endpoint: str | None,
    raw: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = gevent_app(
        tmp_path,
        bucket,
        s3_endpoint,
        STORE_S3_MAX_ATTEMPTS=1,
        STORE_S3_BACKGROUND_ATTEMPTS=2,
    )
    Faults(app).fail(
        "PutObject", times=100, status=500, code="InternalError", only=is_final_upload
    )
    failures: list[dict[str, Any]] = []
    with (
        caplog.at_level(logging.ERROR, logger="flask_store.providers.s3"),
        upload_failed.connected_to(lambda sender, **kw: failures.append(kw), app),
    ):
        saved = S3GeventProvider(upload(b"precious", "lost.txt"), app=app).save()
        assert wait_for_uploads(timeout=30)
    (failure,) = failures
    assert failure["provider"] is saved
    assert isinstance(failure["exception"], UploadFailed)
    assert "InternalError" in str(failure["exception"])
    assert Path(failure["spooled_path"]).read_bytes() == b"precious"
    (record,) = [r for r in caplog.records if r.name.startswith("flask_store")]
    assert "'lost.txt'" in record.getMessage()
    assert failure["spooled_path"] in record.getMessage()
    # The placeholder keeps the name for `flask store cleanup` to finish.
    assert object_keys(raw, bucket) == ["lost.txt"]
    with pytest.raises(UploadPending):
        saved.read()


def test_key_taken_meanwhile_is_not_overwritten(
    gapp: Flask, raw: Any, bucket: str
) -> None:
    gate = Gate(gapp)
    failures: list[dict[str, Any]] = []
    with upload_failed.connected_to(lambda sender, **kw: failures.append(kw), gapp):
        S3GeventProvider(upload(b"ours", "race.txt")).save()
        # Another process writes the same key before our upload gets there.
        raw.put_object(Bucket=bucket, Key="race.txt", Body=b"theirs")
        gate.open.set()
        assert wait_for_uploads(timeout=30)
    assert body(raw, bucket, "race.txt") == b"theirs"
    (failure,) = failures
    assert "taken by another writer" in str(failure["exception"])
    assert Path(failure["spooled_path"]).read_bytes() == b"ours"


def test_monkey_patched_app(tmp_path: Path, moto_server: str) -> None:
    bucket = "patched-app"
    s3_support.create_bucket(bucket, moto_server)
    script = textwrap.dedent(
        f"""
        from gevent import monkey

        monkey.patch_all()

        import json, os, threading
        from flask import Flask
        from flask_store import Store
        from flask_store.providers.s3 import S3GeventProvider, wait_for_uploads

        app = Flask("patched")
        app.config.update(
            STORE_PROVIDER="flask_store.providers.s3.S3GeventProvider",
            STORE_S3_BUCKET={bucket!r},
            STORE_S3_REGION="eu-west-1",
            STORE_S3_ACCESS_KEY="k",
            STORE_S3_SECRET_KEY="s",
            STORE_S3_ENDPOINT_URL={moto_server!r},
            STORE_S3_SPOOL_PATH={str(tmp_path / "spool")!r},
        )
        Store(app)
        with app.app_context():
            names = [
                S3GeventProvider(open(__file__, "rb"), filename="same.py").save().filename
                for _ in range(3)
            ]
        done = wait_for_uploads(timeout=30)
        print(json.dumps({{
            "names": names,
            "done": done,
            "spool": os.listdir({str(tmp_path / "spool")!r}),
            "threads": sorted(t.name for t in threading.enumerate()),
        }}))
        """
    )
    path = tmp_path / "patched_app.py"
    path.write_text(script)
    result = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["done"] is True
    assert report["spool"] == []
    assert "flask-store-uploads" not in report["threads"]  # greenlets in the main hub
    assert len(set(report["names"])) == 3
    keys = object_keys(s3_support.raw_client(moto_server), bucket)
    assert sorted(keys) == sorted(report["names"])


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )


def test_importing_has_no_gevent_side_effects() -> None:
    result = run_python(
        """
        import sys
        import flask_store.providers.s3
        assert "gevent" not in sys.modules, "gevent imported"
        """
    )
    assert result.returncode == 0, result.stderr


def test_missing_sdks_give_helpful_errors() -> None:
    result = run_python(
        """
        import sys
        sys.modules["boto3"] = None
        try:
            import flask_store.providers.s3
        except ImportError as exc:
            print(exc)
        """
    )
    assert "pip install 'Flask-Store[s3]'" in result.stdout
    result = run_python(
        """
        import io, sys
        sys.modules["gevent"] = None
        from flask import Flask
        from flask_store import Store
        from flask_store.providers.s3 import S3GeventProvider
        app = Flask("x")
        app.config.update(
            STORE_PROVIDER="flask_store.providers.s3.S3GeventProvider",
            STORE_S3_BUCKET="b", STORE_S3_REGION="eu-west-1",
        )
        Store(app)
        try:
            S3GeventProvider(io.BytesIO(b"x"), filename="a.txt", app=app).save()
        except ImportError as exc:
            print(exc)
        """
    )
    assert "pip install 'Flask-Store[gevent]'" in result.stdout, result.stderr


def test_an_attempt_that_landed_unseen_is_not_a_clash(
    tmp_path: Path, bucket: str, s3_endpoint: str | None, raw: Any
) -> None:
    # Attempt 1 stores the object but its reply is lost, and the check that
    # would have found it fails too. Attempt 2 then meets its own object
    # (412) and must recognise it rather than report a clash.
    app = gevent_app(
        tmp_path,
        bucket,
        s3_endpoint,
        STORE_S3_MAX_ATTEMPTS=1,
        STORE_S3_BACKGROUND_ATTEMPTS=2,
    )
    lost = [1]

    def lose_reply(**_: Any) -> None:
        if lost[0]:
            lost[0] -= 1
            raise ConnectionClosedError(endpoint_url="lost reply")

    gate = Gate(app)
    requests = Requests(app)
    failures: list[Any] = []
    with upload_failed.connected_to(lambda sender, **kw: failures.append(kw), app):
        saved = S3GeventProvider(upload(b"mine", "mine.txt"), app=app).save()
        # Only the upload's own requests fail, not the claim save() made.
        s3_client(app).meta.events.register("after-call.s3.PutObject", lose_reply)
        Faults(app).fail("HeadObject", times=1, status=500, code="InternalError")
        gate.open.set()
        assert wait_for_uploads(timeout=30)
    assert failures == []
    assert requests.sent.count("PutObject") == 1 + 2  # the placeholder, 2 tries
    assert saved.filename == "mine.txt"
    assert object_keys(raw, bucket) == ["mine.txt"]
    assert body(raw, bucket, "mine.txt") == b"mine"
