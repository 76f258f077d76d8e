"""S3GeventProvider under stress: nothing a background upload holds is ever
silently dropped, through slow servers, shutdowns, kills and lost replies.

(tests/test_s3_gevent.py covers retries, the failure signal and waiting in a
monkey-patched process; these add the shutdown and crash paths.)
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from flask_store.exceptions import UploadPending
from flask_store.providers.s3 import S3GeventProvider, wait_for_uploads
from flask_store.signals import upload_failed

from ..conftest import upload
from ..s3_support import S3_GEVENT, object_keys, s3_app
from .faultproxy import FaultProxy, Request

pytestmark = pytest.mark.s3server


def puts(request: Request) -> bool:
    """PUTs of files: not the probe, not a placeholder claiming a name."""
    return (
        request.method == "PUT"
        and "x-amz-meta-flask-store-pending" not in request.headers
        and ".flask-store-probe-" not in request.path
    )


def spooled_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "spool").glob("*.upload"))


def script(tmp_path: Path, endpoint: str, bucket: str, body: str) -> Path:
    """A standalone app process that saves files with S3GeventProvider."""
    path = tmp_path / "background_app.py"
    path.write_text(
        textwrap.dedent(
            f"""
            import json, os, sys, time
            from flask import Flask
            from flask_store import Store
            from flask_store.providers.s3 import S3GeventProvider, wait_for_uploads

            app = Flask("background")
            app.config.update(
                STORE_PROVIDER="flask_store.providers.s3.S3GeventProvider",
                STORE_S3_BUCKET={bucket!r},
                STORE_S3_REGION="eu-west-1",
                STORE_S3_ACCESS_KEY="k",
                STORE_S3_SECRET_KEY="s",
                STORE_S3_ENDPOINT_URL={endpoint!r},
                STORE_S3_SPOOL_PATH={str(tmp_path / "spool")!r},
            )
            Store(app)
            """
        )
        + textwrap.dedent(body)
    )
    return path


def test_a_graceful_shutdown_waits_for_slow_uploads(
    tmp_path: Path, proxy: FaultProxy, bucket: str, raw: Any
) -> None:
    # Each upload takes 2.5 s; four saves take far less, even on a busy machine.
    proxy.add(puts, "delay", times=100, seconds=2.5)
    path = script(
        tmp_path,
        proxy.url,
        bucket,
        """
        started = time.monotonic()
        with app.app_context():
            names = [
                S3GeventProvider(
                    __import__("io").BytesIO(b"data %d" % i), filename="f.txt"
                ).save().filename
                for i in range(4)
            ]
        saved_in = time.monotonic() - started
        done = wait_for_uploads(timeout=60)
        print(json.dumps({
            "names": names,
            "saved_in": saved_in,
            "waited": time.monotonic() - started,
            "done": done,
            "spool": os.listdir(app.config["STORE_S3_SPOOL_PATH"]),
        }))
        """,
    )
    result = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["done"] is True and report["spool"] == []
    assert report["saved_in"] < 2.5 <= report["waited"]  # save() did not wait
    contents = {
        raw.get_object(Bucket=bucket, Key=key)["Body"].read() for key in report["names"]
    }
    assert contents == {b"data %d" % i for i in range(4)}
    assert sorted(object_keys(raw, bucket)) == sorted(report["names"])


def test_a_killed_process_leaves_its_pending_uploads_spooled(
    tmp_path: Path, proxy: FaultProxy, bucket: str, raw: Any, moto_server: str
) -> None:
    proxy.add(puts, "stall", times=100, seconds=30)
    path = script(
        tmp_path,
        proxy.url,
        bucket,
        """
        with app.app_context():
            for i in range(3):
                S3GeventProvider(
                    __import__("io").BytesIO(b"precious %d" % i), filename="p.txt"
                ).save()
        print("saved", flush=True)
        time.sleep(60)
        """,
    )
    proc = subprocess.Popen(
        [sys.executable, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "saved"
    deadline = time.monotonic() + 20
    while proxy.count("PUT") < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    spooled = sorted(p.read_bytes() for p in spooled_files(tmp_path))
    assert spooled == [b"precious 0", b"precious 1", b"precious 2"]
    # Each name is held by a placeholder, which no reader takes for the file.
    keys = sorted(object_keys(raw, bucket))
    assert len(keys) == 3
    for key in keys:
        head = raw.head_object(Bucket=bucket, Key=key)
        assert "flask-store-pending" in head["Metadata"]

    # `flask store cleanup` finishes them, under the names save() reported.
    app = s3_app(
        tmp_path,
        bucket,
        moto_server,
        STORE_PROVIDER=S3_GEVENT,
        STORE_S3_SPOOL_PATH=str(tmp_path / "spool"),
    )
    leftovers = list(S3GeventProvider.leftovers(older_than=timedelta(0), app=app))
    assert sorted(item.action for item in leftovers) == [
        f"re-upload to {key}" for key in keys
    ]
    for item in leftovers:
        assert S3GeventProvider.clean_leftover(item, app=app).startswith(
            "re-uploaded to "
        )
    assert sorted(object_keys(raw, bucket)) == keys
    assert sorted(S3GeventProvider(key, app=app).read() for key in keys) == [
        b"precious 0",
        b"precious 1",
        b"precious 2",
    ]
    assert list((tmp_path / "spool").iterdir()) == []


def test_a_spool_file_lost_between_attempts_is_logged_and_signalled(
    tmp_path: Path,
    proxy: FaultProxy,
    bucket: str,
    raw: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = s3_app(
        tmp_path,
        bucket,
        proxy.url,
        STORE_PROVIDER=S3_GEVENT,
        STORE_S3_SPOOL_PATH=str(tmp_path / "spool"),
        STORE_S3_MAX_ATTEMPTS=1,
        STORE_S3_BACKGROUND_ATTEMPTS=2,
    )
    proxy.add(puts, "status", times=1, status=500, code="InternalError")
    failures: list[dict[str, Any]] = []
    with (
        caplog.at_level(logging.ERROR, logger="flask_store.providers.s3"),
        upload_failed.connected_to(lambda sender, **kw: failures.append(kw), app),
    ):
        saved = S3GeventProvider(upload(b"gone", "gone.txt"), app=app).save()
        deadline = time.monotonic() + 10
        while proxy.count("PUT") < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        # Between the attempts (a one-second back-off), the spool file goes.
        (spooled,) = spooled_files(tmp_path)
        spooled.unlink()
        assert wait_for_uploads(timeout=30)
    (failure,) = failures
    assert failure["provider"] is saved
    assert failure["spooled_path"] == str(spooled)
    assert isinstance(failure["exception"], FileNotFoundError)
    (record,) = [r for r in caplog.records if r.name.startswith("flask_store")]
    assert "'gone.txt'" in record.getMessage()
    # Its placeholder still holds the name, never read as the file.
    assert object_keys(raw, bucket) == ["gone.txt"]
    with pytest.raises(UploadPending):
        saved.read()


def test_a_lost_reply_between_background_attempts_is_not_a_failure(
    tmp_path: Path, proxy: FaultProxy, bucket: str, raw: Any
) -> None:
    app = s3_app(
        tmp_path,
        bucket,
        proxy.url,
        STORE_PROVIDER=S3_GEVENT,
        STORE_S3_SPOOL_PATH=str(tmp_path / "spool"),
        STORE_S3_MAX_ATTEMPTS=1,
        STORE_S3_BACKGROUND_ATTEMPTS=2,
    )
    proxy.add(puts, "lose", times=1)
    failures: list[dict[str, Any]] = []
    with upload_failed.connected_to(lambda sender, **kw: failures.append(kw), app):
        S3GeventProvider(upload(b"mine", "mine.txt"), app=app).save()
        assert wait_for_uploads(timeout=30)
    assert raw.get_object(Bucket=bucket, Key="mine.txt")["Body"].read() == b"mine"
    assert failures == []
    assert list((tmp_path / "spool").iterdir()) == []
