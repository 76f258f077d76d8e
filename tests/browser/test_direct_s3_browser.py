"""Uppy's AWS S3 plugin (npm ``uppy``) in Chromium against the direct-upload
endpoints and moto's ThreadedMotoServer: the bytes go to S3, not the app."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, request, send_file

from flask_store.direct import confirm_upload
from flask_store.direct.s3 import s3_uploads

from .. import s3_support
from ..conftest import serve
from ..s3_support import browser_bucket, s3_app

pytestmark = [pytest.mark.browser, pytest.mark.s3server]

moto_server = s3_support.moto_server

ROOT = Path(__file__).resolve().parents[2]
UPPY = ROOT / "node_modules" / "uppy" / "dist" / "uppy.min.js"
MiB = 1024 * 1024

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Direct upload</title>
<link rel="icon" href="data:,">
<script src="/uppy.min.js" defer></script><script src="/page.js" defer></script>
</head><body><main><h1>Direct upload</h1>
<label for="file">File</label> <input type="file" id="file">
<p id="status" aria-live="polite"></p>
<form method="post" action="/confirm" id="confirm">
<input type="hidden" name="receipt" id="receipt"></form>
</main></body></html>
"""

SCRIPT = """
const uppy = new Uppy.Uppy({autoProceed: true});
uppy.use(Uppy.AwsS3, {
  companionEndpoint: location.origin + "/direct",
  shouldUseMultipart: true,
  getChunkSize: () => 5 * 1024 * 1024,
});
uppy.on("upload-success", (file, response) => {
  document.getElementById("receipt").value = response.body.key;
  document.getElementById("confirm").submit();
});
uppy.on("upload-error", (file, error) => {
  document.getElementById("status").textContent = `Failed: ${error.message}`;
});
uppy.on("upload-progress", (file, progress) => {
  document.getElementById("status").textContent =
    `${progress.bytesUploaded} of ${progress.bytesTotal}`;
});
// A request cut off by the network (a part, or the app signing one) may fail
// the upload: once back online, carry on with the same multipart upload.
window.addEventListener("online", () => uppy.retryAll());
document.getElementById("file").addEventListener("change", (event) => {
  const file = event.target.files[0];
  uppy.addFile({name: file.name, type: file.type, data: file, meta: {location: "videos"}});
});
"""


@pytest.fixture
def direct_server(
    tmp_path: Path, moto_server: str
) -> Iterator[tuple[Flask, str, Any, str, dict[str, Any]]]:
    if not UPPY.is_file():
        if os.environ.get("CI"):
            pytest.fail("uppy is missing: run `npm ci`.")
        pytest.skip("uppy is not installed: run `npm ci`.")
    bucket = f"uppy-{uuid.uuid4().hex[:12]}"
    raw = browser_bucket(bucket, moto_server)
    # A file larger than the app would ever take in one request.
    # Uppy sends no grant: the endpoints are open to this page.
    app = s3_app(
        tmp_path, bucket, moto_server, MAX_CONTENT_LENGTH=MiB, STORE_UPLOADS_ACCESS=True
    )
    app.register_blueprint(s3_uploads, url_prefix="/direct")
    received = {"bytes": 0, "signed": 0, "started": 0, "halfway": threading.Event()}

    @app.before_request
    def count() -> None:
        received["bytes"] += request.content_length or 0
        if request.method == "POST" and request.path == "/direct/s3/multipart":
            received["started"] += 1
        if request.path.count("/") == 5:  # /direct/s3/multipart/<id>/<part>
            received["signed"] += 1
            if received["signed"] == 3:
                received["halfway"].set()

    @app.after_request
    def csp(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = (
            f"default-src 'self'; connect-src 'self' {moto_server}; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:"
        )
        return response

    @app.get("/")
    def index() -> str:
        return PAGE

    @app.get("/uppy.min.js")
    def uppy_script() -> Response:
        return send_file(UPPY, mimetype="text/javascript")

    @app.get("/page.js")
    def page_script() -> Response:
        return Response(SCRIPT, mimetype="text/javascript")

    @app.post("/confirm")
    def confirm() -> str:
        stored = confirm_upload(request.form["receipt"])
        return (
            '<!doctype html><title>Stored</title><link rel=icon href="data:,">'
            f"<p id=stored>{stored.relative_path}</p>"
        )

    with serve(app) as url:
        yield app, url, raw, bucket, received


def test_a_file_larger_than_the_app_takes_goes_straight_to_s3(
    page: Any,
    direct_server: tuple[Flask, str, Any, str, dict[str, Any]],
    tmp_path: Path,
) -> None:
    _, url, raw, bucket, received = direct_server
    data = os.urandom(12 * MiB)  # three parts; the app takes 1 MiB at most
    (tmp_path / "talk.mp4").write_bytes(data)
    page.goto(url + "/")
    page.set_input_files("#file", tmp_path / "talk.mp4")
    page.wait_for_selector("#stored", timeout=60_000)
    assert page.text_content("#stored") == "videos/talk.mp4"
    stored = raw.get_object(Bucket=bucket, Key="videos/talk.mp4")["Body"].read()
    assert stored == data
    # What passed through the app: JSON requests and the receipt, no file.
    assert received["bytes"] < 16 * 1024


def test_a_network_cut_mid_upload_resumes_without_sending_it_again(
    page: Any,
    direct_server: tuple[Flask, str, Any, str, dict[str, Any]],
    console_errors: list[str],
    tmp_path: Path,
) -> None:
    _, url, raw, bucket, received = direct_server
    data = os.urandom(40 * MiB)  # eight parts
    (tmp_path / "talk.mp4").write_bytes(data)
    page.goto(url + "/")
    page.set_input_files("#file", tmp_path / "talk.mp4")
    assert received["halfway"].wait(30)
    page.context.set_offline(True)
    page.wait_for_timeout(1500)
    status = page.text_content("#status") or ""
    # Uppy either shows the progress it had, or that the cut failed a request.
    if not status.startswith("Failed:"):
        sent, _, total = status.partition(" of ")
        assert int(sent or 0) < int(total), "the cut came after the upload"
    page.context.set_offline(False)
    page.wait_for_selector("#stored", timeout=90_000)
    assert raw.get_object(Bucket=bucket, Key="videos/talk.mp4")["Body"].read() == data
    # One multipart upload, resumed: each part signed once, but for those
    # in flight at the cut (Uppy sends up to six at a time).
    assert received["started"] == 1
    assert received["signed"] <= 8 + 6
    # The requests cut off by the browser going offline (Uppy logs a fetch
    # that failed then as "Failed to fetch").
    console_errors[:] = [
        e
        for e in console_errors
        if "ERR_INTERNET_DISCONNECTED" not in e
        and "looks like a network error" not in e
        and not (e.startswith("[Uppy]") and e.endswith("Failed to fetch"))
    ]
