"""Fixtures for the reliability suite: a real S3 server behind a fault proxy."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from ..s3_support import create_bucket, moto_server, raw_client, s3_app, s3rver
from .faultproxy import FaultProxy

__all__ = ["moto_server", "s3rver"]


@pytest.fixture
def proxy(moto_server: str) -> Iterator[FaultProxy]:
    """A fault proxy in front of the session's moto server."""
    fault_proxy = FaultProxy(moto_server)
    try:
        yield fault_proxy
    finally:
        fault_proxy.close()


@pytest.fixture
def bucket(moto_server: str) -> str:
    name = f"rel-{uuid.uuid4().hex[:12]}"
    create_bucket(name, moto_server)
    return name


@pytest.fixture
def raw(moto_server: str) -> Any:
    """A client straight to the server, past the proxy, to look at the bucket."""
    return raw_client(moto_server)


@pytest.fixture
def proxied(tmp_path: Any, bucket: str, proxy: FaultProxy) -> Iterator[Flask]:
    """An S3 app whose every request goes through the fault proxy."""
    app = s3_app(tmp_path, bucket, proxy.url, STORE_S3_MAX_ATTEMPTS=4)
    with app.app_context():
        yield app
