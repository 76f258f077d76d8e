from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_store import Store

PROVIDERS = {
    "local": "flask_store.providers.local.LocalProvider",
    "memory": "flask_store.providers.memory.MemoryProvider",
    "s3": "flask_store.providers.s3.S3Provider",
}


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
