"""Apps for the Flask-Admin integration's tests, on every provider."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

from flask import Flask
from jinja2 import StrictUndefined

from flask_store import Store

from ..conftest import PROVIDERS, make_app
from ..s3_support import create_bucket, mocked_bucket, s3_config

#: Each provider the integration is tested on: moto in-process and over HTTP.
KINDS = ["local", "memory", "s3-mock", "s3-server"]


@contextlib.contextmanager
def admin_app(kind: str, tmp_path: Any, request: Any, **config: Any) -> Iterator[Flask]:
    """An app as Flask-Admin's own tests build it, with Store on ``kind``.

    Templates fail on undefined names (``StrictUndefined``) and forms carry
    no CSRF token, as in Flask-Admin's conftest.
    """
    with contextlib.ExitStack() as stack:
        store: dict[str, Any] = {"STORE_PROVIDER": PROVIDERS[kind.partition("-")[0]]}
        if kind == "s3-mock":
            store = stack.enter_context(mocked_bucket())
        elif kind == "s3-server":
            endpoint = request.getfixturevalue("moto_server")
            bucket = f"flask-admin-{uuid.uuid4().hex[:12]}"
            create_bucket(bucket, endpoint)
            store = s3_config(bucket, endpoint)
        app = make_app(tmp_path, WTF_CSRF_ENABLED=False, **store, **config)
        app.jinja_env.undefined = StrictUndefined
        Store(app)
        with app.app_context():
            yield app
