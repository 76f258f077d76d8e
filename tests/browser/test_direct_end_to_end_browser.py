"""Direct uploads as an app gets them: nothing set by hand.

The app is the ``macro-direct`` example of docs/uploads.md, run as it is,
with only its settings added before ``Store(app)``; the admin blueprint is
mounted beside it. The macro renders the direct-upload attributes itself and
its script uses the endpoints ``Store.init_app`` registered: tus with the
local provider, straight to moto's ThreadedMotoServer with S3. Every file is
larger than ``MAX_CONTENT_LENGTH``, so a form post could not carry it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flask_store.blueprint import blueprint

from .. import s3_support
from ..conftest import marked_config, serve
from ..docs_examples import example
from ..s3_support import browser_bucket, s3_config
from .conftest import png

pytestmark = pytest.mark.browser

moto_server = s3_support.moto_server

KiB = 1024
MiB = 1024 * KiB

#: Per provider: the settings added to the example, and a file too large
#: for a form post that goes in several chunks (tus: 192 KiB each, under
#: 256 KiB requests) or parts (S3: 8 MiB parts, multipart from two parts).
SETTINGS: dict[str, dict[str, Any]] = {
    "tus": {"MAX_CONTENT_LENGTH": 256 * KiB, "STORE_TUS_MIN_SIZE": 64 * KiB},
    "s3": {"MAX_CONTENT_LENGTH": MiB},
}
LARGE = {"tus": MiB + 5, "s3": 17 * MiB}

REFUSED = (
    "Failed to load resource: the server responded with a status of 415 "
    "(UNSUPPORTED MEDIA TYPE)"
)

#: Where tus keeps an upload's bytes, and a finished one's receipt, a while.
SPOOL = ".flask-store-spool/"


@dataclass
class Request:
    method: str
    path: str
    length: int


@dataclass
class Site:
    """The example app served for a browser, and what reached it."""

    kind: str
    app: Flask
    url: str = ""
    requests: list[Request] = field(default_factory=list)
    bucket: str = ""
    s3: Any = None

    def count(self, wsgi: Callable[..., Any]) -> Callable[..., Any]:
        """The app's WSGI callable, noting each request and its body's size."""

        def counted(environ: dict[str, Any], start_response: Any) -> Any:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            path = environ["PATH_INFO"]
            self.requests.append(Request(environ["REQUEST_METHOD"], path, length))
            return wsgi(environ, start_response)

        return counted

    def sent(self, method: str, path: str = "") -> list[int]:
        """The body sizes of the ``method`` requests whose path ends with ``path``."""
        return [
            r.length
            for r in self.requests
            if r.method == method and r.path.endswith(path)
        ]

    def stored(self, spool: bool = False) -> dict[str, bytes]:
        """Every file in the store (every object in the bucket, hidden ones
        too); the local spool's files only when ``spool`` is true."""
        if self.kind == "s3":
            listed = self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])
            get = self.s3.get_object
            return {
                o["Key"]: get(Bucket=self.bucket, Key=o["Key"])["Body"].read()
                for o in listed
            }
        root = Path(self.app.config["STORE_PATH"])
        files = (p for p in root.rglob("*") if p.is_file())
        found = {p.relative_to(root).as_posix(): p.read_bytes() for p in files}
        return {k: v for k, v in found.items() if k.startswith(SPOOL) == spool}

    def unfinished_uploads(self) -> list[Any]:
        """Multipart uploads still open in the bucket."""
        if self.kind != "s3":
            return []
        listed = self.s3.list_multipart_uploads(Bucket=self.bucket)
        return list(listed.get("Uploads", []))


def docs_app(settings: dict[str, Any]) -> Flask:
    """The ``macro-direct`` example's app, with ``settings`` before ``Store(app)``."""
    code = example("macro-direct")
    store_line = "store = Store(app)\n"
    assert code.count(store_line) == 1, "the example no longer makes its Store so"
    code = code.replace(store_line, "app.config.update(SETTINGS)\n" + store_line)
    namespace: dict[str, Any] = {
        "__name__": "docs_macro_direct_browser",
        "SETTINGS": settings,
    }
    exec(compile(code, "<example macro-direct>", "exec"), namespace)
    app: Flask = namespace["app"]
    return app


@pytest.fixture(params=["tus", pytest.param("s3", marks=pytest.mark.s3server)])
def site(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Site]:
    """The example app with the admin at /admin/files, served on 127.0.0.1."""
    kind = request.param
    monkeypatch.chdir(tmp_path)  # the example app's root and instance folder
    settings = {**SETTINGS[kind], "STORE_ADMIN_ACCESS": True}
    bucket, s3 = "", None
    if kind == "s3":
        moto = request.getfixturevalue("moto_server")
        bucket = f"direct-{os.urandom(6).hex()}"
        s3 = browser_bucket(bucket, moto)
        settings.update(s3_config(bucket, moto))
    settings.update(marked_config(request))
    app = docs_app(settings)
    app.register_blueprint(blueprint, url_prefix="/admin/files")
    if kind == "tus":
        assert Path(app.config["STORE_PATH"]).is_relative_to(tmp_path)
    found = Site(kind, app, bucket=bucket, s3=s3)
    app.wsgi_app = found.count(app.wsgi_app)  # type: ignore[method-assign]
    with serve(app) as url:
        found.url = url
        yield found


def visit(page: Any, site: Site, path: str) -> None:
    """Open ``path`` of the site (whose pages link no icon: none is asked for)."""
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page.goto(site.url + path)


def choose(page: Any, name: str, data: bytes) -> None:
    """Choose a file in the upload form, as a user does with the file dialog."""
    files = [{"name": name, "mimeType": "application/octet-stream", "buffer": data}]
    page.set_input_files("form.fs-upload input[type=file]", files=files)


#: Drops files made in the page, of (name, size), their bytes by pattern().
DROP = """([selector, files]) => {
  const transfer = new DataTransfer();
  for (const [name, size] of files) {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) % 251;
    transfer.items.add(new File([bytes], name));
  }
  const zone = document.querySelector(selector);
  for (const type of ["dragenter", "dragover", "drop"]) {
    zone.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true}));
  }
}"""


def pattern(size: int) -> bytes:
    """The bytes of a file of ``size`` bytes that :data:`DROP` made."""
    period = bytes((i * 31 + 7) % 251 for i in range(251))
    return (period * (size // 251 + 1))[:size]


def assert_went_direct(site: Site, form_path: str) -> None:
    """The file's bytes took the direct way; the form post carried a receipt."""
    (posted,) = site.sent("POST", form_path)
    assert posted < 4 * KiB
    if site.kind == "tus":
        chunks = site.sent("PATCH")
        assert len(chunks) >= 3
        assert max(chunks) <= site.app.config["MAX_CONTENT_LENGTH"]
    else:
        assert len(site.sent("POST", "/s3/multipart")) == 1
        assert sum(r.length for r in site.requests) < 64 * KiB


def test_the_docs_view_stores_a_file_too_large_for_a_form_post(
    site: Site, page: Any
) -> None:
    data = os.urandom(LARGE[site.kind])
    assert len(data) > site.app.config["MAX_CONTENT_LENGTH"]
    visit(page, site, "/documents")
    choose(page, "talk.mp4", data)
    page.get_by_text("Uploaded talk.mp4.").wait_for(timeout=90_000)
    assert site.stored() == {"documents/talk.mp4": data}
    assert_went_direct(site, "/documents")


def test_the_admin_uploads_a_large_file_directly_and_lists_it(
    site: Site, page: Any
) -> None:
    data = os.urandom(LARGE[site.kind])
    visit(page, site, "/admin/files/")
    choose(page, "talk.mp4", data)
    listed = page.locator(".fs-listing .fs-name-text", has_text="talk.mp4")
    listed.wait_for(timeout=90_000)
    assert site.stored() == {"talk.mp4": data}
    assert_went_direct(site, "/admin/files/upload")


@pytest.mark.store_config(STORE_ALLOWED_EXTENSIONS={"bin"})
def test_the_admin_lists_a_dropped_file_beside_a_refused_one(
    site: Site, page: Any
) -> None:
    visit(page, site, "/admin/files/")
    files = [["backup.bin", LARGE[site.kind]], ["tool.exe", 2]]
    page.evaluate(DROP, ["[data-drop-zone]", files])
    listed = page.locator(".fs-listing .fs-name-text", has_text="backup.bin")
    listed.wait_for(timeout=90_000)
    # No reload: the refusal is still in view, the listing caught up around it.
    refused = page.locator(".fs-failed .fs-progress-status").inner_text()
    assert refused == "tool.exe is not an allowed type (allowed: .bin)."
    summary = page.locator(".fs-summary").inner_text()
    assert summary == "Added 1 file. 1 file refused, see above."
    assert site.stored() == {"backup.bin": pattern(LARGE[site.kind])}
    assert_went_direct(site, "/admin/files/upload")


@pytest.mark.store_config(STORE_ALLOWED_TYPES=["image/*"], STORE_MAX_SIZE=2 * MiB)
def test_refused_files_are_named_on_the_page_and_nothing_is_kept(
    site: Site, page: Any, console_errors: list[str]
) -> None:
    visit(page, site, "/documents")
    form = page.locator("form.fs-upload")
    photo = png() + os.urandom(3 * MiB)  # a PNG, but over STORE_MAX_SIZE
    files = [
        {
            "name": "notes.txt",
            "mimeType": "text/plain",
            "buffer": b"Notes.\n" * 150_000,
        },
        {"name": "photo.png", "mimeType": "image/png", "buffer": photo},
    ]
    form.locator("input[type=file]").set_input_files(files)
    summary = form.locator(".fs-summary")
    summary.wait_for(timeout=60_000)
    assert summary.inner_text() == "Added 0 files. 2 files refused, see above."
    statuses = form.locator(".fs-failed .fs-progress-status").all_inner_texts()
    assert sorted(statuses) == [
        "notes.txt is not an allowed type: its content is text/plain "
        "(allowed: image/*).",
        "photo.png is larger than 2.1 MB, the largest file allowed.",
    ]
    assert site.stored() == {}
    assert site.stored(spool=True) == {}
    assert site.unfinished_uploads() == []
    assert site.sent("POST", "/documents") == []
    # The browser's own line for the endpoint's answer to notes.txt.
    assert console_errors == [REFUSED]
    console_errors.clear()
