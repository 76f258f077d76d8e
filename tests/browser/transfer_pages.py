"""Pages with an upload form that sends large files by itself (tus or S3).

The ``upload_form`` macro is rendered as an app gets it, with the direct-upload
attributes (``data-direct``, ``data-direct-url``, ``data-upload-grant``,
``data-direct-min``, ``data-chunk-size``) added to its ``<form>`` tag here.

The app also mounts the upload blueprints itself, beside Flask-Store's own
mount, with ``STORE_UPLOADS_ACCESS = True``; the page's grant is a real one
(:func:`flask_store.direct.upload_grant`), and any other value is refused as
the endpoints refuse a forged grant. The tus chunk size is set small here so
that a test can cut the network mid-upload. ``/documents`` takes receipts with
:func:`flask_store.direct.confirm_upload`.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from flask import (
    Flask,
    Response,
    redirect,
    render_template_string,
    request,
    url_for,
)
from flask_wtf.csrf import CSRFError, validate_csrf
from markupsafe import escape
from wtforms import ValidationError

from flask_store import Store
from flask_store.direct import confirm_upload, upload_grant
from flask_store.forms import UploadForm

from .conftest import CSP

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Documents</title>
<link rel="icon" href="data:,"></head>
<body><main>
{% from "flask_store/macros.html" import upload_form %}
<h1>Documents</h1>
<ul id="documents">{% for name in names %}<li>{{ name }}</li>{% endfor %}</ul>
{{ upload_form(form, action=url_for("documents")) }}
</main></body></html>
"""

GRANT = "grant-of-the-documents-page"
EXPIRED_GRANT = "The page's upload permission has expired: reload the page."
UPLOADS = "/uploads/"


def with_direct(html: str, **attributes: Any) -> str:
    """``html`` with ``data-<name>`` attributes on the upload form's tag."""
    added = "".join(
        f' data-{name.replace("_", "-")}="{escape(value)}"'
        for name, value in attributes.items()
    )
    return html.replace("data-flask-store-upload", "data-flask-store-upload" + added, 1)


class Seen:
    """What reached the app: requests to the upload endpoints and bytes."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self.patched = 0
        self.bytes = 0
        self.patches = threading.Event()
        self.patches_wanted = 0
        self.posted = threading.Event()

    def count(self, method: str, path: str, length: int) -> None:
        self.requests.append((method, path))
        if method == "POST" and path == "/documents":
            self.posted.set()
        self.bytes += length
        if method == "PATCH":
            self.patched += length
            if sum(1 for m, _ in self.requests if m == "PATCH") >= self.patches_wanted:
                self.patches.set()

    def wait_for_patches(self, count: int, timeout: float = 20) -> bool:
        self.patches_wanted = count
        self.patches.clear()
        if sum(1 for m, _ in self.requests if m == "PATCH") >= count:
            return True
        return self.patches.wait(timeout)

    def methods(self, method: str) -> list[str]:
        return [path for m, path in self.requests if m == method]


def documents_app(
    app: Flask, store: Store, direct: dict[str, Any], csp: str = CSP
) -> Seen:
    """Add the documents page, request counting and a strict CSP."""
    seen = Seen()
    app.config.setdefault("PATCH_DELAY", 0.0)

    @app.before_request
    def count_and_check() -> Any:
        seen.count(request.method, request.path, request.content_length or 0)
        if request.method == "PATCH":
            time.sleep(app.config["PATCH_DELAY"])
        return None

    @app.after_request
    def strict_csp(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", csp)
        return response

    @app.route("/documents", methods=["GET", "POST"])
    def documents() -> Any:
        if request.method == "POST":
            try:
                validate_csrf(request.form.get("csrf_token"))
            except ValidationError as exc:
                raise CSRFError(str(exc)) from None
            for receipt in request.form.getlist("file"):
                confirm_upload(receipt)
            for upload in request.files.getlist("file"):
                store.Provider(upload, location="documents").save()
            return redirect(url_for("documents"))
        form = UploadForm(location="documents")
        names = [e.name for e in store.Provider.list_folder("documents").files]
        html = render_template_string(PAGE, form=form, names=names)
        attributes = dict(direct)
        if attributes.get("upload_grant") == GRANT:
            # The page's real grant; any other value is refused as forged.
            attributes["upload_grant"] = upload_grant("documents")
        return with_direct(html, **attributes)

    return seen


def wait_until_posted(page: Any, seen: Seen, timeout: float = 60) -> None:
    """Wait until the form was posted and the page shows the view's answer.

    The listing alone is no sign: with S3 it shows a multipart upload's name
    as soon as it is claimed.
    """
    deadline = time.monotonic() + timeout
    while not seen.posted.is_set():
        assert time.monotonic() < deadline, "the form was never posted"
        page.wait_for_timeout(100)  # lets Playwright run the page's handlers
    page.wait_for_function("() => !document.querySelector('.fs-progress-item')")


def choose(page: Any, *files: tuple[str, bytes]) -> None:
    """Choose files in the page's upload form, as a user does: from disk.

    Chromium reads a chosen file from its path, as it reads a user's; handing
    Playwright the bytes instead sends them to the browser in base64 first,
    which took more than the 15 s timeout for 30 MiB on a loaded machine.
    The files are removed when the page closes.
    """
    folder = Path(tempfile.mkdtemp(prefix="flask-store-chosen-"))
    page.once("close", lambda _page: shutil.rmtree(folder, ignore_errors=True))
    for name, data in files:
        (folder / name).write_bytes(data)
    page.set_input_files(
        "form[data-flask-store-upload] input[type=file]",
        files=[folder / name for name, _ in files],
    )


def status_of(page: Any, name: str) -> Any:
    """The status text of ``name`` in the progress list."""
    return page.locator(".fs-progress-item", has_text=name).locator(
        ".fs-progress-status"
    )


def throttle_uploads(page: Any, bytes_per_second: int) -> Any:
    """Make the browser send request bodies at ``bytes_per_second``, until
    the returned DevTools session is detached."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": bytes_per_second,
        },
    )
    return cdp
