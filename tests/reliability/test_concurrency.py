"""Many uploads of one file name at once, over HTTP: from many threads into a
threaded server, and into several gunicorn worker processes. Every upload is
kept, whole, under a name of its own. And a process killed in the middle of a
large S3 upload leaves no object under the final key.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

import pytest
from flask import Flask
from werkzeug.serving import make_server

from ..s3_support import create_bucket, credentials, object_keys, raw_client, s3_config

pytestmark = pytest.mark.s3server

UPLOADS = 24

#: The app the servers run: one route that saves the upload it is given.
APP_SOURCE = """
import os
from flask import Flask, request
from flask_store import Store, store_provider

app = Flask("concurrent", instance_path=os.environ["APP_INSTANCE"])
app.config.update(
    STORE_PROVIDER=os.environ["APP_PROVIDER"],
    STORE_PATH=os.environ.get("APP_STORE_PATH") or None,
    STORE_S3_BUCKET=os.environ.get("APP_BUCKET"),
    STORE_S3_REGION="eu-west-1",
    STORE_S3_ACCESS_KEY=os.environ.get("APP_ACCESS_KEY", "k"),
    STORE_S3_SECRET_KEY=os.environ.get("APP_SECRET_KEY", "s"),
    STORE_S3_ENDPOINT_URL=os.environ.get("APP_ENDPOINT"),
)
if app.config["STORE_PATH"] is None:
    del app.config["STORE_PATH"]
Store(app)


@app.get("/pid")
def pid():
    # Slow enough that concurrent requests need every worker.
    import time

    time.sleep(0.2)
    return {"pid": os.getpid()}


@app.post("/upload")
def upload():
    saved = store_provider()(request.files["file"]).save()
    return {"path": saved.relative_path, "pid": os.getpid()}
"""


def multipart(data: bytes, filename: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body += data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def post_upload(base: str, data: bytes, filename: str = "same name.bin") -> Any:
    import json

    body, content_type = multipart(data, filename)
    req = Request(base + "/upload", data=body, headers={"Content-Type": content_type})
    with urlopen(req, timeout=60) as response:
        return json.loads(response.read())


def contents(index: int) -> bytes:
    """A distinct, checkable body per upload (some large enough to take time)."""
    return (b"upload %03d " % index) * (1 + (index % 4) * 20_000)


def upload_all(base: str) -> list[dict[str, Any]]:
    with ThreadPoolExecutor(max_workers=UPLOADS) as pool:
        return list(pool.map(lambda i: post_upload(base, contents(i)), range(UPLOADS)))


def s3_env(endpoint: str, provider: str = "S3Provider") -> dict[str, str]:
    """Environment for the app on a new bucket of the S3 server at ``endpoint``."""
    bucket = f"conc-{uuid.uuid4().hex[:12]}"
    create_bucket(bucket, endpoint)
    key, secret = credentials(endpoint)
    return {
        "APP_PROVIDER": f"flask_store.providers.s3.{provider}",
        "APP_BUCKET": bucket,
        "APP_ENDPOINT": endpoint,
        "APP_ACCESS_KEY": key,
        "APP_SECRET_KEY": secret,
        "APP_STORE_PATH": "shared",
    }


@pytest.fixture(params=["local", "s3", "s3rver"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """Environment for the app: a local store, or a bucket on moto's server or
    on s3rver (which ignores conditional writes)."""
    env = {
        "APP_INSTANCE": str(tmp_path / "instance"),
        "APP_PROVIDER": "flask_store.providers.local.LocalProvider",
    }
    if request.param != "local":
        server = "moto_server" if request.param == "s3" else "s3rver"
        env.update(s3_env(request.getfixturevalue(server)))
    return env


def read_back(env: dict[str, str], path: str) -> bytes:
    if env.get("APP_BUCKET"):
        client = raw_client(env["APP_ENDPOINT"])
        key = f"shared/{path}"
        return bytes(
            client.get_object(Bucket=env["APP_BUCKET"], Key=key)["Body"].read()
        )
    return (Path(env["APP_INSTANCE"]) / "uploads" / path).read_bytes()


def stored_count(env: dict[str, str]) -> int:
    if env.get("APP_BUCKET"):
        return len(object_keys(raw_client(env["APP_ENDPOINT"]), env["APP_BUCKET"]))
    return len(list((Path(env["APP_INSTANCE"]) / "uploads").iterdir()))


def assert_all_kept(env: dict[str, str], results: list[dict[str, Any]]) -> None:
    paths = [r["path"] for r in results]
    assert len(set(paths)) == UPLOADS, paths
    assert "same_name.bin" in paths
    for index, path in enumerate(paths):
        assert read_back(env, path) == contents(index), path
    assert stored_count(env) == UPLOADS  # nothing extra, nothing partial


def load_app(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Flask:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    namespace: dict[str, Any] = {}
    exec(compile(APP_SOURCE, "concurrent_app.py", "exec"), namespace)
    app: Flask = namespace["app"]
    return app


def test_many_threads_upload_one_name(
    target: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = load_app(target, monkeypatch)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        results = upload_all(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert_all_kept(target, results)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def gunicorn(
    target: dict[str, str], tmp_path: Path
) -> Iterator[tuple[str, dict[str, str]]]:
    """The app under gunicorn with three worker processes on 127.0.0.1."""
    (tmp_path / "concurrent_app.py").write_text(APP_SOURCE)
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers=3",
            f"--bind=127.0.0.1:{port}",
            f"--chdir={tmp_path}",
            "--log-level=warning",
            "concurrent_app:app",
        ],
        env={**os.environ, **target, "PYTHONPATH": os.getcwd()},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_workers(base, 3, proc)
        yield base, target
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def wait_for_workers(base: str, workers: int, server: subprocess.Popen[bytes]) -> None:
    """Return once gunicorn listens and ``workers`` distinct workers answer."""
    import json

    port = int(base.rpartition(":")[2])
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            assert server.poll() is None, "gunicorn exited"
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.1)

    def pid(_: int) -> int:
        with urlopen(base + "/pid", timeout=30) as response:
            return int(json.loads(response.read())["pid"])

    deadline = time.monotonic() + 60
    seen: set[int] = set()
    with ThreadPoolExecutor(max_workers=2 * workers) as pool:
        while len(seen) < workers:
            assert time.monotonic() < deadline, f"only {len(seen)} workers answered"
            seen.update(pool.map(pid, range(2 * workers)))


def test_several_worker_processes_upload_one_name(
    gunicorn: tuple[str, dict[str, str]],
) -> None:
    base, env = gunicorn
    results = upload_all(base)
    assert len({r["pid"] for r in results}) > 1  # really several processes
    assert_all_kept(env, results)


def test_killed_mid_multipart_upload_leaves_no_object(
    tmp_path: Path, moto_server: str
) -> None:
    bucket = f"kill-{uuid.uuid4().hex[:12]}"
    raw = create_bucket(bucket, moto_server)
    config = s3_config(bucket, moto_server)
    script = textwrap.dedent(
        f"""
        import io, sys, time
        from flask import Flask
        from flask_store import Store, store_provider

        MiB = 1024 * 1024

        class Slow(io.RawIOBase):
            # A seekable 30 MiB file that stalls once two parts were read
            # for the upload (after the save read it whole for its checksum).
            size = 30 * MiB
            pos = 0
            rewound = False
            def readable(self):
                return True
            def seekable(self):
                return True
            def seek(self, offset, whence=0):
                base = {{0: 0, 1: self.pos, 2: self.size}}[whence]
                if base + offset == 0 and self.pos >= self.size:
                    self.rewound = True
                self.pos = base + offset
                return self.pos
            def tell(self):
                return self.pos
            def readinto(self, buffer):
                if self.rewound and self.pos >= 12 * MiB:
                    print("uploading", flush=True)
                    time.sleep(120)
                n = min(len(buffer), self.size - self.pos)
                buffer[:n] = b"k" * n
                self.pos += n
                return n

        app = Flask("victim")
        app.config.update({config!r})
        Store(app)
        with app.app_context():
            store_provider()(io.BufferedReader(Slow()), filename="big.bin").save()
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "uploading"
    # The upload is under way: a multipart upload exists for the key.
    deadline = time.monotonic() + 20
    while not raw.list_multipart_uploads(Bucket=bucket).get("Uploads"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    assert object_keys(raw, bucket) == []
    # What the killed process started stays an incomplete multipart upload,
    # never an object: a bucket lifecycle rule (AbortIncompleteMultipartUpload)
    # clears those, as docs/security.md says.
    (pending,) = raw.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert pending["Key"] == "big.bin"
