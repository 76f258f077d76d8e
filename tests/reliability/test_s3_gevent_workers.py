"""S3GeventProvider under ``gunicorn -k gevent -w 2``, against moto's S3
server and against s3rver (which ignores conditional writes).

40 uploads of one file name at once, spread over two worker processes that
each return from ``save()`` before their upload ends: every client is told a
key of its own, and each key ends up holding that client's bytes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ..s3_support import object_keys, raw_client
from .test_concurrency import (
    APP_SOURCE,
    free_port,
    post_upload,
    s3_env,
    wait_for_workers,
)

pytestmark = pytest.mark.s3server

UPLOADS = 40

#: How long the uploads may take to land, all together.
DEADLINE = 120


def contents(index: int) -> bytes:
    """A distinct body per upload, some large enough to take a while."""
    return (b"gevent upload %03d " % index) * (1 + (index % 5) * 10_000)


@pytest.fixture(params=["moto_server", "s3rver"])
def endpoint(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(request.param)
    return url


@pytest.fixture
def gevent_workers(tmp_path: Path, endpoint: str) -> Iterator[tuple[str, Any]]:
    """The concurrency app under two gunicorn gevent workers, and its bucket."""
    (tmp_path / "concurrent_app.py").write_text(APP_SOURCE)
    env = {
        "APP_INSTANCE": str(tmp_path / "instance"),
        **s3_env(endpoint, "S3GeventProvider"),
    }
    bucket = env["APP_BUCKET"]
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--worker-class=gevent",
            "--workers=2",
            "--timeout=60",
            f"--bind=127.0.0.1:{port}",
            f"--chdir={tmp_path}",
            "--log-level=warning",
            "concurrent_app:app",
        ],
        env={**os.environ, **env, "PYTHONPATH": os.getcwd()},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_workers(base, 2, proc)
        yield base, (raw_client(endpoint), bucket)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def final_body(raw: Any, bucket: str, key: str, deadline: float) -> bytes:
    """The object's bytes once its background upload replaced the placeholder."""
    while True:
        try:
            response = raw.get_object(Bucket=bucket, Key=key)
        except ClientError:
            response = None  # not even claimed: a failure, reported below
        if response is not None and "flask-store-pending" not in response["Metadata"]:
            data: bytes = response["Body"].read()
            return data
        if response is not None:
            response["Body"].close()
        assert time.monotonic() < deadline, f"{key} is still pending"
        time.sleep(0.2)


def test_two_gevent_workers_never_report_one_key_twice(
    gevent_workers: tuple[str, Any],
) -> None:
    base, (raw, bucket) = gevent_workers
    with ThreadPoolExecutor(max_workers=UPLOADS) as pool:
        results = list(
            pool.map(
                lambda i: post_upload(base, contents(i), "same.bin"), range(UPLOADS)
            )
        )
    assert len({r["pid"] for r in results}) == 2  # really two processes
    paths = [r["path"] for r in results]
    assert len(set(paths)) == UPLOADS, sorted(paths)
    assert "same.bin" in paths
    deadline = time.monotonic() + DEADLINE
    for index, path in enumerate(paths):
        assert final_body(raw, bucket, f"shared/{path}", deadline) == contents(index)
    # Nothing else: no probe left over, no second object for one upload.
    assert sorted(object_keys(raw, bucket)) == sorted(f"shared/{p}" for p in paths)
