"""Helpers for the security suite: an admin app per provider and store snapshots."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_store import Store
from flask_store.blueprint import blueprint

# The browser suite's Chromium fixture, package-scoped: Playwright's sync API
# allows one instance per thread, so each suite stops its own before the next.
from ..browser.conftest import chromium, chromium_path  # noqa: F401
from ..conftest import PROVIDERS, make_app

ADMIN = "/admin/files"


def admin_app(tmp_path: Path, provider: str = "local", **config: Any) -> Flask:
    """An app with the admin mounted at ``ADMIN`` (open unless config says).

    ``STORE_ADMIN_ACCESS`` is set after ``init_app`` (which refuses a value
    of the wrong type), as a request-time policy may be, so the admin's own
    check meets every value.
    """
    access = config.pop("STORE_ADMIN_ACCESS", True)
    app = make_app(
        tmp_path,
        **{"STORE_PROVIDER": PROVIDERS[provider], "STORE_FSYNC": False, **config},
    )
    Store(app)
    app.config["STORE_ADMIN_ACCESS"] = access
    app.register_blueprint(blueprint, url_prefix=ADMIN)
    return app


@pytest.fixture(params=["local", "memory", "s3"])
def admin(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """An open admin app, once per provider (S3 under moto's mock).

    No app context is pushed: each test request gets its own, as in
    production (a shared one would share ``g`` and its cached CSRF token).
    """
    with contextlib.ExitStack() as stack:
        config: dict[str, Any] = {}
        if request.param == "s3":
            from ..s3_support import mocked_bucket

            config = stack.enter_context(mocked_bucket())
            config.pop("STORE_PROVIDER")
        yield admin_app(tmp_path, request.param, **config)


def csrf_token(client: FlaskClient) -> str:
    """The CSRF token of the client's session, read from the browse page."""
    body = client.get(ADMIN + "/").get_data(as_text=True)
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body)
    assert found is not None, body
    return found.group(1)


def snapshot(app: Flask) -> dict[str, Any]:
    """Everything the store holds: stored files with contents, and folders.

    For the local provider this is every entry under ``STORE_PATH``, hidden
    and temporary files included, so a half-written file shows up too.
    """
    provider = app.extensions["store"].provider
    if app.config["STORE_PROVIDER"].endswith("LocalProvider"):
        root = Path(app.config["STORE_PATH"])
        if not root.exists():
            return {}
        return {
            str(p.relative_to(root)): (p.read_bytes() if p.is_file() else "dir")
            for p in sorted(root.rglob("*"))
        }
    files: dict[str, Any] = {
        f.path: provider(f.path, app=app).read() for f in provider.iter_files(app=app)
    }
    if app.config["STORE_PROVIDER"].endswith("MemoryProvider"):
        files.update({f + "/": "dir" for f in app.extensions["store"].backend.folders})
    else:
        from flask_store.providers.s3 import s3_client

        listing = s3_client(app).list_objects_v2(Bucket=app.config["STORE_S3_BUCKET"])
        files.update(
            {
                o["Key"]: "dir"
                for o in listing.get("Contents", [])
                if o["Key"][-1] == "/"
            }
        )
        uploads = s3_client(app).list_multipart_uploads(
            Bucket=app.config["STORE_S3_BUCKET"]
        )
        files.update({u["Key"]: "pending" for u in uploads.get("Uploads", [])})
    return files


def tree(root: str | os.PathLike[str]) -> set[str]:
    """Every path under ``root`` (files, folders, links), relative to it."""
    base = Path(root)
    return {str(p.relative_to(base)) for p in base.rglob("*")}
