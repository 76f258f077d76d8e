"""tus-js-client (npm) in Chromium against the tus blueprint, over a real server.

The page sends a file in chunks, loses the network in the middle, resumes,
then posts the receipt to a form that turns it into the stored file.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, request, send_file
from markupsafe import escape

from flask_store import Store
from flask_store.direct import confirm_upload, tus_uploads

from ..conftest import make_app, serve
from .conftest import CSP

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
TUS_CLIENT = ROOT / "node_modules" / "tus-js-client" / "dist" / "tus.min.js"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Resumable upload</title>
<link rel="icon" href="data:,">
<script src="/tus.min.js" defer></script><script src="/page.js" defer></script>
</head><body><main>
<h1>Resumable upload</h1>
<label for="file">File</label> <input type="file" id="file">
<p id="progress" aria-live="polite"></p>
<form method="post" action="/confirm" id="confirm">
<input type="hidden" name="receipt" id="receipt"></form>
</main></body></html>
"""

SCRIPT = """
document.getElementById("file").addEventListener("change", (event) => {
  const file = event.target.files[0];
  const progress = document.getElementById("progress");
  const upload = new tus.Upload(file, {
    endpoint: "/tus/",
    chunkSize: 256 * 1024,
    retryDelays: [200, 500, 1000, 1000, 2000, 2000, 3000],
    metadata: {filename: file.name, location: "big"},
    onProgress: (sent, total) => { progress.textContent = `${sent} of ${total}`; },
    onError: (error) => {
      // tus-js-client does not retry while the browser is offline: resume
      // (HEAD, then the missing bytes) once it is back.
      if (!navigator.onLine) {
        progress.textContent = "Offline: the upload resumes when the network is back.";
        window.addEventListener("online", () => upload.start(), {once: true});
      } else {
        progress.textContent = `Failed: ${error}`;
      }
    },
    onSuccess: (payload) => {
      document.getElementById("receipt").value =
        payload.lastResponse.getHeader("Flask-Store-Receipt");
      document.getElementById("confirm").submit();
    },
  });
  upload.start();
});
"""


@pytest.fixture
def tus_server(tmp_path: Path) -> Iterator[tuple[Flask, str, dict[str, Any]]]:
    if not TUS_CLIENT.is_file():
        if os.environ.get("CI"):
            pytest.fail("tus-js-client is missing: run `npm ci`.")
        pytest.skip("tus-js-client is not installed: run `npm ci`.")
    app = make_app(tmp_path)
    # tus-js-client sends no grant: the endpoints are open to this page.
    app.config["STORE_UPLOADS_ACCESS"] = True
    Store(app)
    app.register_blueprint(tus_uploads, url_prefix="/tus")
    seen: dict[str, Any] = {"patches": 0, "bytes": 0, "halfway": threading.Event()}

    @app.before_request
    def count() -> None:
        if request.method == "PATCH":
            seen["patches"] += 1
            seen["bytes"] += request.content_length or 0
            if seen["patches"] == 5:
                seen["halfway"].set()

    @app.after_request
    def strict_csp(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        return response

    @app.get("/")
    def index() -> str:
        return PAGE

    @app.get("/tus.min.js")
    def client_script() -> Response:
        return send_file(TUS_CLIENT, mimetype="text/javascript")

    @app.get("/page.js")
    def page_script() -> Response:
        return Response(SCRIPT, mimetype="text/javascript")

    @app.post("/confirm")
    def confirm() -> str:
        stored = confirm_upload(request.form["receipt"])
        return f'<!doctype html><title>Stored</title><link rel=icon href="data:,"><p id=stored>{escape(stored.relative_path)}</p>'

    with serve(app) as url:
        yield app, url, seen


def test_an_upload_survives_a_network_cut_without_starting_again(
    page: Any, tus_server: tuple[Flask, str, dict[str, Any]], console_errors: list[str]
) -> None:
    app, url, seen = tus_server
    data = os.urandom(3 * 1024 * 1024)  # twelve chunks
    page.goto(url + "/")
    page.set_input_files(
        "#file",
        files=[
            {
                "name": "backup.bin",
                "mimeType": "application/octet-stream",
                "buffer": data,
            }
        ],
    )
    assert seen["halfway"].wait(15)
    page.context.set_offline(True)
    page.wait_for_function(
        "() => document.getElementById('progress').textContent.startsWith('Offline')"
    )
    page.context.set_offline(False)
    page.wait_for_selector("#stored", timeout=30_000)
    assert page.text_content("#stored") == "big/backup.bin"
    assert (Path(app.config["STORE_PATH"]) / "big" / "backup.bin").read_bytes() == data
    # Resumed where it stopped: at most the chunk in flight was sent twice.
    assert len(data) <= seen["bytes"] <= len(data) + 256 * 1024
    # The browser logs the requests that failed while it was offline.
    console_errors[:] = [
        e for e in console_errors if "ERR_INTERNET_DISCONNECTED" not in e
    ]
