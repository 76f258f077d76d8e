"""Browser tests: Debian's Chromium driven by Playwright's sync API.

The app runs on a real server on 127.0.0.1 (a free port) with a strict
Content-Security-Policy, so inline scripts or styles would fail the tests.
Without Chromium the tests are skipped, except in CI (``CI`` set), where a
missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import struct
import time
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Response, redirect, render_template_string, request, url_for

from flask_store import Store
from flask_store.blueprint import blueprint
from flask_store.forms import UploadForm

from ..conftest import make_app, serve

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

#: No inline script or style, nothing from elsewhere.
CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'"

DOCUMENTS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Documents</title>
<link rel="icon" href="data:,"></head>
<body>
{% from "flask_store/macros.html" import upload_form %}
<h1>Documents</h1>
<ul id="documents">{% for name in names %}<li>{{ name }}</li>{% endfor %}</ul>
{{ upload_form(form, action=url_for("documents")) }}
</body></html>
"""


def png(
    width: int = 8, height: int = 8, rgb: tuple[int, int, int] = (59, 91, 219)
) -> bytes:
    """A small, valid, single-colour PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def build_app(tmp_path: Any) -> Flask:
    """An app with the admin at /admin/files and the upload macro at /documents."""
    app = make_app(tmp_path, STORE_ADMIN_ACCESS=True, UPLOAD_DELAY=0.0)
    store = Store(app)
    app.register_blueprint(blueprint, url_prefix="/admin/files")

    @app.before_request
    def slow_uploads() -> None:
        # Lets a test see the progress bars before the page reloads.
        if request.method == "POST":
            time.sleep(app.config["UPLOAD_DELAY"])

    @app.after_request
    def strict_csp(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        return response

    @app.route("/documents", methods=["GET", "POST"])
    def documents() -> Any:
        form = UploadForm()
        if form.validate_on_submit():
            for upload in form.file.data:
                store.Provider(upload, location="documents").save()
            return redirect(url_for("documents"))
        provider = store.Provider
        names = [e.name for e in provider.list_folder("documents").files]
        return render_template_string(DOCUMENTS_PAGE, form=form, names=names)

    return app


def find_chromium() -> str:
    """Chromium's path; skip without it, but fail in CI (``CI`` set)."""
    path = shutil.which("chromium")
    if path is None:
        message = "Debian's chromium is not installed (apt-get install chromium)."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return find_chromium()


@pytest.fixture(scope="package")
def chromium(chromium_path: str) -> Iterator[Any]:
    # Package scope: Playwright's sync API allows one instance per thread, so
    # it is stopped before browser tests elsewhere in the suite start theirs.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def live_app(tmp_path: Any) -> Iterator[tuple[Flask, str]]:
    """The app served on 127.0.0.1 by a real server; yields (app, base URL)."""
    app = build_app(tmp_path)
    with serve(app) as url:
        yield app, url


@pytest.fixture
def console_errors() -> list[str]:
    """Errors the page logged; a test removes the ones it expects."""
    return []


def new_page(
    chromium: Any, console_errors: list[str], viewport: dict[str, int] | None = None
) -> tuple[Any, Any]:
    """A new context and its page, whose console errors go to ``console_errors``."""
    context = chromium.new_context(viewport=viewport or {"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on(
        "console",
        lambda m: console_errors.append(m.text) if m.type == "error" else None,
    )
    page.on("pageerror", lambda exc: console_errors.append(str(exc)))
    return context, page


@pytest.fixture
def page(chromium: Any, console_errors: list[str]) -> Iterator[Any]:
    """A fresh browser page; console errors (CSP violations too) fail the test."""
    context, page = new_page(chromium, console_errors)
    yield page
    context.close()
    assert console_errors == []
