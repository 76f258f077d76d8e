"""Uploaded HTML and SVG in a real Chromium: their scripts never run on the
app's origin, whether the URL is opened directly or embedded in a page of
the app (iframe, object, embed, img).

Every script in the payloads calls back to ``/beacon`` on the app. A control
route serves the same files inline, as an unprotected app would, so the test
shows the payloads do run when nothing stops them."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Response, render_template_string, request, send_file
from werkzeug.serving import make_server

from flask_store.providers.local import LocalProvider

from .conftest import ADMIN, admin_app

pytestmark = pytest.mark.browser

#: Each payload reports its own name to /beacon when any of its scripts runs.
PAYLOADS = {
    "page.html": (
        '<!doctype html><title>x</title><body onload="new Image().src='
        "'/beacon?k=html-onload&c='+document.cookie\">"
        "<script>fetch('/beacon?k=html-script&c='+document.cookie)</script>"
    ),
    "page.xhtml": (
        '<html xmlns="http://www.w3.org/1999/xhtml"><body><script>'
        "fetch('/beacon?k=xhtml')</script></body></html>"
    ),
    "image.svg": (
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" '
        "onload=\"fetch('/beacon?k=svg-onload')\">"
        "<script>fetch('/beacon?k=svg-script')</script>"
        '<rect width="10" height="10"/></svg>'
    ),
    "data.xml": (
        '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml">'
        "<script>fetch('/beacon?k=xml')</script></html>"
    ),
    "page.html.gz": "<script>fetch('/beacon?k=html-gz')</script>",
    "image.svgz": (
        '<svg xmlns="http://www.w3.org/2000/svg"><script>'
        "fetch('/beacon?k=svgz')</script></svg>"
    ),
}

EMBED_PAGE = """<!doctype html><title>embed</title>
<iframe src="{{ url }}"></iframe>
<object data="{{ url }}"></object>
<embed src="{{ url }}">
<img src="{{ url }}" alt="">
"""


def build_app(tmp_path: Any) -> tuple[Flask, list[str]]:
    app = admin_app(tmp_path, "local")
    beacons: list[str] = []

    @app.get("/beacon")
    def beacon() -> str:
        beacons.append(request.args.get("k", "?"))
        return ""

    @app.get("/embed")
    def embed() -> str:
        return render_template_string(EMBED_PAGE, url=request.args["url"])

    @app.get("/unprotected/<name>")
    def unprotected(name: str) -> Response:
        # What an app that serves uploads itself, naively, would do.
        mimetype = "image/svg+xml" if name.endswith(".svg") else "text/html"
        path = LocalProvider(name, app=app).absolute_path
        return send_file(path, mimetype=mimetype)

    with app.app_context():
        for name, body in PAYLOADS.items():
            LocalProvider(io.BytesIO(body.encode()), filename=name).save()
    return app, beacons


@pytest.fixture
def live(tmp_path: Any) -> Iterator[tuple[str, list[str]]]:
    app, beacons = build_app(tmp_path)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", beacons
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def open_url(page: Any, url: str) -> None:
    """Navigate to ``url``; an attachment becomes a download, not a page."""
    from playwright.sync_api import Error

    try:
        page.goto(url, wait_until="load")
    except Error as exc:  # "Download is starting": nothing was rendered
        assert "Download is starting" in str(exc) or "ERR_ABORTED" in str(exc), exc


def settle(page: Any) -> None:
    """Give any script that could run the time to call back."""
    page.wait_for_timeout(250)


def test_the_payloads_run_when_served_without_protection(
    live: tuple[str, list[str]], page: Any
) -> None:
    base, beacons = live
    for name in ("page.html", "image.svg"):
        open_url(page, f"{base}/unprotected/{name}")
    settle(page)
    assert {"html-script", "svg-script"} <= set(beacons)


@pytest.mark.parametrize("route", ["/uploads/", ADMIN + "/file/"])
def test_opening_an_uploaded_document_runs_nothing(
    live: tuple[str, list[str]], page: Any, route: str
) -> None:
    base, beacons = live
    page.context.add_cookies([{"name": "session-ish", "value": "s3cret", "url": base}])
    for name in PAYLOADS:
        open_url(page, base + route + name)
        settle(page)
        assert beacons == [], name
        # Nothing was rendered as a document on the app's origin.
        assert page.evaluate("() => document.title") != "x"


@pytest.mark.parametrize("route", ["/uploads/", ADMIN + "/file/"])
def test_embedding_an_uploaded_document_runs_nothing(
    live: tuple[str, list[str]], page: Any, route: str
) -> None:
    base, beacons = live
    for name in PAYLOADS:
        page.goto(f"{base}/embed?url={route}{name}")
        settle(page)
        assert beacons == [], name
