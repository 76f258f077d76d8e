"""S3 test support: moto in-process and as a real HTTP server, s3rver, faults.

Two independent S3 servers run over HTTP on 127.0.0.1: moto's
``ThreadedMotoServer`` (:func:`moto_server`), which honours conditional
writes, and the npm package ``s3rver`` (:func:`s3rver`), which accepts them
and overwrites anyway, as some S3-compatible servers do. s3rver is installed
by ``npm install`` at the repository root; without node or s3rver its tests
are skipped, except in CI (``CI`` set), where that is a failure.

Fault injection uses botocore's ``before-send`` event on the app's client:
handlers there may answer a request instead of the network. Under
``mock_aws`` moto answers through the same event after ours, so a faked
answer also points the request at an address moto does not serve.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import socket
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import ConnectionClosedError
from flask import Flask
from moto import mock_aws
from moto.server import ThreadedMotoServer

from flask_store import Store
from flask_store.providers.s3 import S3Provider, s3_client

from .conftest import make_app

REGION = "eu-west-1"
S3 = "flask_store.providers.s3.S3Provider"
S3_GEVENT = "flask_store.providers.s3.S3GeventProvider"


#: s3rver knows one access key; every request is signed with it.
S3RVER_KEY = "S3RVER"


def credentials(endpoint_url: str | None) -> tuple[str, str]:
    """The (fake) access key and secret the server at ``endpoint_url`` takes."""
    if endpoint_url in _s3rver_endpoints:
        return S3RVER_KEY, S3RVER_KEY
    return "testing-key", "testing-secret"


def s3_config(bucket: str, endpoint_url: str | None = None) -> dict[str, Any]:
    """App config for ``bucket``, with explicit (fake) credentials."""
    key, secret = credentials(endpoint_url)
    return {
        "STORE_PROVIDER": S3,
        "STORE_S3_BUCKET": bucket,
        "STORE_S3_REGION": REGION,
        "STORE_S3_ACCESS_KEY": key,
        "STORE_S3_SECRET_KEY": secret,
        "STORE_S3_ENDPOINT_URL": endpoint_url,
    }


def raw_client(endpoint_url: str | None = None) -> Any:
    """A plain boto3 client of its own, to look behind the provider."""
    key, secret = credentials(endpoint_url)
    return boto3.session.Session().client(
        "s3",
        region_name=REGION,
        endpoint_url=endpoint_url,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )


def create_bucket(bucket: str, endpoint_url: str | None = None) -> Any:
    """Create ``bucket`` with a client of its own; return that client."""
    client = raw_client(endpoint_url)
    client.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return client


def browser_bucket(bucket: str, endpoint_url: str) -> Any:
    """Create ``bucket`` with the CORS rules a page uploading straight to it
    needs (PUT and POST from any origin, ``ETag`` readable); return its client."""
    client = create_bucket(bucket, endpoint_url)
    client.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": ["*"],
                    "AllowedMethods": ["GET", "PUT", "POST"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                }
            ]
        },
    )
    return client


@contextmanager
def mocked_bucket() -> Iterator[dict[str, Any]]:
    """Config for a fresh bucket in moto's in-process mock (active meanwhile)."""
    with mock_aws():
        create_bucket("test-bucket")
        yield s3_config("test-bucket")


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """The endpoint URL of a real HTTP S3 server on the loopback interface."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


#: The endpoints of the s3rver processes of this test session.
_s3rver_endpoints: set[str] = set()

ROOT = Path(__file__).resolve().parent.parent


def find_s3rver() -> list[str]:
    """The command that runs s3rver; skip without it, but fail in CI."""
    node = shutil.which("node")
    script = ROOT / "node_modules" / "s3rver" / "bin" / "s3rver.js"
    if node is None or not script.is_file():
        message = (
            "s3rver is not installed: install Node.js, then run `npm install` "
            "in the repository root."
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return [node, str(script)]


@pytest.fixture(scope="session")
def s3rver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The endpoint URL of an s3rver on 127.0.0.1 (a free port, a temp folder)."""
    command = find_s3rver()
    directory = tmp_path_factory.mktemp("s3rver")
    proc = subprocess.Popen(
        [
            *command,
            "--directory",
            str(directory),
            "--address",
            "127.0.0.1",
            "--port",
            "0",
            "--silent",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines: queue.SimpleQueue[str] = queue.SimpleQueue()

    def read_on() -> None:  # in the background: a full pipe would stall the server
        for line in proc.stdout or ():
            lines.put(line)

    threading.Thread(target=read_on, daemon=True).start()
    try:
        line = ""
        while not line.strip():  # it starts with an empty line
            line = lines.get(timeout=30)
        prefix = "S3rver listening on "
        assert line.startswith(prefix), f"s3rver said {line!r}"
        endpoint = "http://" + line[len(prefix) :].strip()
        _s3rver_endpoints.add(endpoint)
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()


@pytest.fixture(params=["mock", "server"])
def s3_endpoint(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None under moto's in-process mock, or the HTTP server's endpoint URL."""
    if request.param == "mock":
        with mock_aws():
            yield None
    else:
        request.applymarker(pytest.mark.s3server)
        yield request.getfixturevalue("moto_server")


@pytest.fixture
def bucket(s3_endpoint: str | None) -> str:
    """A new, empty bucket (unique, as the HTTP server outlives tests)."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    create_bucket(name, s3_endpoint)
    return name


@pytest.fixture
def raw(bucket: str, s3_endpoint: str | None) -> Any:
    """A plain boto3 client on the same S3, to look behind the provider."""
    return raw_client(s3_endpoint)


def s3_app(tmp_path: Any, bucket: str, endpoint: str | None, **config: Any) -> Flask:
    app = make_app(tmp_path, **{**s3_config(bucket, endpoint), **config})
    Store(app)
    return app


def ask_conditional_writes(app: Flask) -> None:
    """Ask the server now whether it honours conditional writes.

    The first save of an app asks it (a probe written twice and deleted);
    asked beforehand, a test sees the requests of the save alone.
    """
    (result,) = S3Provider.backend_checks(app=app)
    assert result.ok, result.detail


@pytest.fixture
def s3app(tmp_path: Any, bucket: str, s3_endpoint: str | None) -> Iterator[Flask]:
    """An S3 app on a fresh bucket, in mock and HTTP server variants."""
    app = s3_app(tmp_path, bucket, s3_endpoint)
    ask_conditional_writes(app)
    with app.app_context():
        yield app


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


class Requests:
    """Records what the app's S3 client does.

    ``sent``: the operation of every HTTP request (retries count, each
    attempt is a request); ``lengths``: each request's Content-Length;
    ``params``: the parameters of every API call, as the provider made it.
    """

    def __init__(self, app: Flask) -> None:
        self.sent: list[str] = []
        self.lengths: list[tuple[str, int]] = []
        self.params: list[tuple[str, Any]] = []
        events = s3_client(app).meta.events
        events.register("before-send.s3", self._record, unique_id=f"rec-{id(self)}")
        events.register(
            "before-parameter-build.s3",
            self._record_params,
            unique_id=f"par-{id(self)}",
        )

    def _record(self, request: Any, event_name: str, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        self.sent.append(operation)
        # Bodies sent with a trailing checksum give their length separately.
        headers = request.headers
        length = headers.get("X-Amz-Decoded-Content-Length") or headers.get(
            "Content-Length", 0
        )
        self.lengths.append((operation, int(length)))

    def _record_params(self, params: Any, event_name: str, **_: Any) -> None:
        self.params.append((event_name.rsplit(".", 1)[-1], dict(params)))


class Faults:
    """Makes the next ``times`` requests of an operation fail.

    ``status`` answers with that HTTP error; ``drop`` fails as a connection
    closed before any reply, so the request never reaches the server.
    """

    def __init__(self, app: Flask) -> None:
        self.events = s3_client(app).meta.events
        self.stack = ExitStack()

    def fail(
        self,
        operation: str,
        times: int,
        status: int = 503,
        code: str = "SlowDown",
        only: Callable[[Any], bool] | None = None,
    ) -> None:
        """``only``: fail just the requests it is true for (and count those)."""
        remaining = [times]
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><Error>'
            f"<Code>{code}</Code><Message>Injected fault</Message></Error>"
        ).encode()

        def answer(request: Any, **_: Any) -> AWSResponse | None:
            if remaining[0] == 0 or (only is not None and not only(request)):
                return None
            remaining[0] -= 1
            response = AWSResponse(request.url, status, HTTPHeaders(), _Raw(body))
            request.url = "http://fault-injected.invalid/"  # moto: not ours
            return response

        # botocore's stubs type handlers as returning None; a before-send
        # handler's response is what the client gets instead of sending.
        self.events.register_first(f"before-send.s3.{operation}", answer)  # type: ignore[arg-type]

    def drop(self, operation: str, times: int) -> None:
        remaining = [times]

        def drop(request: Any, **_: Any) -> None:
            if remaining[0] > 0:
                remaining[0] -= 1
                raise ConnectionClosedError(endpoint_url=request.url)

        self.events.register_first(f"before-send.s3.{operation}", drop)


def is_placeholder(request: Any) -> bool:
    """Whether a request writes a background upload's placeholder."""
    return "x-amz-meta-flask-store-pending" in request.headers


def is_final_upload(request: Any) -> bool:
    """Whether a PutObject request writes a file (not a placeholder)."""
    return not is_placeholder(request)


def object_keys(raw: Any, bucket: str) -> list[str]:
    """Every key in ``bucket``."""
    return [o["Key"] for o in raw.list_objects_v2(Bucket=bucket).get("Contents", [])]


def pending_multipart_uploads(raw: Any, bucket: str) -> list[Any]:
    return list(raw.list_multipart_uploads(Bucket=bucket).get("Uploads", []))


class DroppingProxy:
    """A loopback TCP proxy to the S3 server that drops connections.

    The first ``drop`` connections are closed as soon as the request starts
    arriving, with no reply: what a client sees when a load balancer or the
    network cuts it off. The replies to the next ``lose_puts`` PUT requests
    are lost: the server does the work, the client never hears of it. Other
    connections are forwarded both ways.
    """

    def __init__(self, endpoint_url: str, drop: int = 0, lose_puts: int = 0) -> None:
        self.target = urlsplit(endpoint_url)
        self.drop = drop
        self.dropped = 0
        self.lose_puts = lose_puts
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed
                return
            if self.dropped < self.drop:
                self.dropped += 1
                client.recv(1024)
                client.close()
                continue
            lose = False
            if self.lose_puts and client.recv(4, socket.MSG_PEEK) == b"PUT ":
                self.lose_puts -= 1
                lose = True
            upstream = socket.create_connection(
                (self.target.hostname or "127.0.0.1", self.target.port or 80)
            )
            for source, sink, lose_reply in (
                (client, upstream, False),
                (upstream, client, lose),
            ):
                threading.Thread(
                    target=self._pipe, args=(source, sink, lose_reply), daemon=True
                ).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket, lose: bool) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                # Once the server answers (beyond "100 Continue"), hang up.
                if lose and not data.startswith(b"HTTP/1.1 100 "):
                    break
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        source.close()  # each socket is the source of exactly one pipe

    def close(self) -> None:
        self.listener.close()
