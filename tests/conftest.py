from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from moto.s3.responses import S3Response
from werkzeug.serving import make_server

from flask_store import Store

PROVIDERS = {
    "local": "flask_store.providers.local.LocalProvider",
    "memory": "flask_store.providers.memory.MemoryProvider",
    "s3": "flask_store.providers.s3.S3Provider",
}


#: One lock for every conditional write moto answers (see atomic_moto_writes).
_moto_writes = threading.RLock()


@pytest.fixture(scope="session", autouse=True)
def atomic_moto_writes() -> Iterator[None]:
    """Make moto's conditional writes atomic, as S3's are.

    moto checks ``If-None-Match`` and ``If-Match`` and then writes, with no
    lock between the two, so two threads racing for one key may both pass
    the check. S3 decides the condition and the write as one step; the
    suite tests Flask-Store against that. Servers that ignore the condition
    are tested with s3rver.
    """

    def serialised(method: Callable[..., Any]) -> Callable[..., Any]:
        def write(self: Any, *args: Any, **kwargs: Any) -> Any:
            with _moto_writes:
                return method(self, *args, **kwargs)

        return write

    with pytest.MonkeyPatch.context() as patch:
        for name in ("put_object", "copy_object", "_key_response_post"):
            patch.setattr(S3Response, name, serialised(getattr(S3Response, name)))
        yield


@contextlib.contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port) from a thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def make_app(tmp_path: Any, **config: Any) -> Flask:
    """A Flask app whose instance folder is under ``tmp_path``."""
    app = Flask("testapp", instance_path=str(tmp_path / "instance"))
    app.config.update(TESTING=True, SECRET_KEY="test-secret", **config)
    return app


def marked_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The settings of a ``@pytest.mark.store_config(KEY=value)`` on the test.

    Settings are read once by ``init_app``, so a test that needs other ones
    says so here, before the fixture initialises the app.
    """
    marker = request.node.get_closest_marker("store_config")
    return dict(marker.kwargs) if marker is not None else {}


@pytest.fixture
def app(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Flask]:
    app = make_app(tmp_path, **marked_config(request))
    Store(app)
    with app.app_context():
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(params=sorted(PROVIDERS))
def storage(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Flask]:
    """An app with Store initialised, once per provider."""
    with contextlib.ExitStack() as stack:
        config: dict[str, Any] = {}
        if request.param == "s3":  # a bucket in moto's in-process mock
            from .s3_support import mocked_bucket

            config = stack.enter_context(mocked_bucket())
        app = make_app(
            tmp_path,
            **{
                "STORE_PROVIDER": PROVIDERS[request.param],
                **config,
                **marked_config(request),
            },
        )
        Store(app)
        with app.app_context():
            yield app


def upload(data: bytes = b"hello", filename: str = "hello.txt") -> Any:
    """A FileStorage as a form upload would give it."""
    from werkzeug.datastructures import FileStorage

    return FileStorage(io.BytesIO(data), filename=filename)
