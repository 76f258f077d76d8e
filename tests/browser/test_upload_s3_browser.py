"""The upload form sending files straight to S3 (moto's ThreadedMotoServer,
over HTTP, with CORS) in Chromium: one presigned POST for a small file, a
multipart upload for a large one, Cancel, and resume after a network cut.

See :mod:`.transfer_pages` for the stand-ins these pages use until the
macro renders the direct-upload attributes itself.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from flask_store.direct.s3 import s3_uploads

from .. import s3_support
from ..conftest import serve
from ..s3_support import browser_bucket, object_keys, pending_multipart_uploads, s3_app
from .transfer_pages import (
    GRANT,
    Seen,
    choose,
    documents_app,
    status_of,
    throttle_uploads,
    wait_until_posted,
)

pytestmark = [pytest.mark.browser, pytest.mark.s3server]

moto_server = s3_support.moto_server

MiB = 1024 * 1024
PART = 5 * MiB  # the smallest part S3 takes


@pytest.fixture
def direct(tmp_path: Path, moto_server: str) -> Iterator[tuple[str, Any, str, Seen]]:
    bucket = f"form-{uuid.uuid4().hex[:12]}"
    raw = browser_bucket(bucket, moto_server)
    # The app takes no request over 1 MiB: every file goes to S3 itself.
    app = s3_app(
        tmp_path, bucket, moto_server, MAX_CONTENT_LENGTH=MiB, STORE_UPLOADS_ACCESS=True
    )
    app.register_blueprint(s3_uploads, url_prefix="/uploads/direct")
    store = app.extensions["store"].store
    seen = documents_app(
        app,
        store,
        {
            "direct": "s3",
            "direct_url": "/uploads/direct/",
            "upload_grant": GRANT,
            "direct_min": 0,
            "chunk_size": PART,
        },
        csp=f"default-src 'self'; connect-src 'self' {moto_server}; img-src 'self' data:",
    )
    with serve(app) as url:
        yield url, raw, bucket, seen


def puts(page: Any) -> list[str]:
    """The URLs of the PUT requests the page sends (the parts, to S3)."""
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "PUT" else None)
    return sent


def test_small_and_large_files_go_straight_to_the_bucket(
    page: Any, direct: tuple[str, Any, str, Seen]
) -> None:
    url, raw, bucket, seen = direct
    large = os.urandom(12 * MiB)  # three parts, far more than the app takes
    small = os.urandom(300_000)  # one presigned POST
    parts = puts(page)
    page.goto(url + "/documents")
    choose(page, ("talk.mp4", large), ("slides.pdf", small))
    wait_until_posted(page, seen)
    assert page.locator("#documents li").all_text_contents() == [
        "slides.pdf",
        "talk.mp4",
    ]
    assert (
        raw.get_object(Bucket=bucket, Key="documents/talk.mp4")["Body"].read() == large
    )
    assert (
        raw.get_object(Bucket=bucket, Key="documents/slides.pdf")["Body"].read()
        == small
    )
    assert sorted(
        k for k in object_keys(raw, bucket) if k.startswith("documents/")
    ) == [
        "documents/slides.pdf",
        "documents/talk.mp4",
    ]
    assert pending_multipart_uploads(raw, bucket) == []
    # The parts were signed in one batch and each sent once.
    batches = [p for p in seen.methods("GET") if p.endswith("/batch")]
    assert len(batches) == 1
    assert len(parts) == 3
    # What passed through the app: JSON requests and the receipts, no file.
    assert seen.bytes < 64 * 1024
    assert page.evaluate("localStorage.length") == 0


def test_a_file_too_large_for_10000_parts_gets_larger_parts(
    page: Any, direct: tuple[str, Any, str, Seen]
) -> None:
    url = direct[0]
    page.goto(url + "/documents")
    page.wait_for_function("() => window.FlaskStore && window.FlaskStore.transfers")
    sizes = [256 * MiB, 100 * 10**9, 5 * 2**40]  # 5 TiB: S3's largest object
    chosen = page.evaluate(
        "sizes => sizes.map(s => window.FlaskStore.transfers.partSizeFor(s, 8 * 2 ** 20))",
        sizes,
    )
    assert chosen[0] == 8 * MiB
    for size, part in zip(sizes, chosen, strict=True):
        assert part % MiB == 0 and -(-size // part) <= 10_000
    assert chosen[1] == 10 * MiB


def test_cancel_aborts_the_multipart_upload(
    page: Any, direct: tuple[str, Any, str, Seen]
) -> None:
    url, raw, bucket, seen = direct
    throttle_uploads(page, 3 * MiB)
    page.goto(url + "/documents")
    choose(page, ("talk.mp4", os.urandom(16 * MiB)))
    status = status_of(page, "talk.mp4")
    expect(status).to_have_text(
        re.compile(r"^([4-9]|1\d)(\.\d)? MB of 16\.8 MB"), timeout=20_000
    )
    assert len(pending_multipart_uploads(raw, bucket)) == 1
    page.get_by_role("button", name="Cancel upload of talk.mp4").click()
    expect(status).to_have_text("Cancelled")
    assert len(seen.methods("DELETE")) == 1
    assert pending_multipart_uploads(raw, bucket) == []
    assert [k for k in object_keys(raw, bucket) if k.startswith("documents/")] == []
    assert page.evaluate("localStorage.length") == 0
    assert (
        page.locator(".fs-summary").text_content() == "Added 0 files. 1 file cancelled."
    )


def test_a_network_cut_mid_upload_resumes_without_sending_it_again(
    page: Any, direct: tuple[str, Any, str, Seen], console_errors: list[str]
) -> None:
    url, raw, bucket, seen = direct
    data = os.urandom(30 * MiB)  # six parts
    parts = puts(page)
    throttle = throttle_uploads(page, 6 * MiB)
    page.goto(url + "/documents")
    choose(page, ("talk.mp4", data))
    status = status_of(page, "talk.mp4")
    expect(status).to_have_text(
        re.compile(r"^(6|7|8|9|1\d)(\.\d)? MB of 31\.5 MB"), timeout=20_000
    )
    throttle.detach()  # its network conditions would hide the cut
    page.context.set_offline(True)
    expect(status).to_have_text("Offline: the upload goes on when the network is back.")
    page.context.set_offline(False)
    wait_until_posted(page, seen)
    assert (
        raw.get_object(Bucket=bucket, Key="documents/talk.mp4")["Body"].read() == data
    )
    # One multipart upload; only the parts in flight at the cut sent again.
    assert seen.methods("POST").count("/uploads/direct/s3/multipart") == 1
    assert 6 <= len(parts) <= 6 + 3
    console_errors[:] = [e for e in console_errors if "net::ERR_" not in e]


def test_a_reload_mid_upload_resumes_with_the_parts_already_sent(
    page: Any, direct: tuple[str, Any, str, Seen], tmp_path: Path
) -> None:
    url, raw, bucket, seen = direct
    data = os.urandom(30 * MiB)  # six parts
    chosen = tmp_path / "talk.mp4"
    chosen.write_bytes(data)
    parts = puts(page)
    throttle_uploads(page, 6 * MiB)
    page.on("dialog", lambda dialog: dialog.accept())  # "Leave the page?" yes
    page.goto(url + "/documents")
    page.set_input_files("form[data-flask-store-upload] input[type=file]", chosen)
    status = status_of(page, "talk.mp4")
    expect(status).to_have_text(
        re.compile(r"^(1[2-9]|2\d)(\.\d)? MB of 31\.5 MB"), timeout=20_000
    )
    page.reload()
    page.set_input_files("form[data-flask-store-upload] input[type=file]", chosen)
    wait_until_posted(page, seen)
    assert (
        raw.get_object(Bucket=bucket, Key="documents/talk.mp4")["Body"].read() == data
    )
    # The second page listed the parts S3 had and sent only the others.
    assert seen.methods("POST").count("/uploads/direct/s3/multipart") == 1
    listed = [
        p for p in seen.methods("GET") if p.startswith("/uploads/direct/s3/multipart/")
    ]
    assert len([p for p in listed if not p.endswith("/batch")]) == 1
    assert 6 <= len(parts) <= 6 + 3
    assert pending_multipart_uploads(raw, bucket) == []
    assert page.evaluate("localStorage.length") == 0


def test_a_part_s3_refuses_for_a_moment_is_sent_again(
    page: Any, direct: tuple[str, Any, str, Seen], console_errors: list[str]
) -> None:
    url, raw, bucket, seen = direct
    data = os.urandom(12 * MiB)  # three parts
    parts = puts(page)
    failed: list[str] = []

    def busy_at_first(route: Any) -> None:
        if route.request.method == "PUT" and len(failed) < 2:
            failed.append(route.request.url)
            route.fulfill(
                status=503,
                headers={"Access-Control-Allow-Origin": "*"},
                content_type="application/xml",
                body="<Error><Code>SlowDown</Code><Message>Slow down</Message></Error>",
            )
        else:
            route.continue_()

    page.route(re.compile(r".*/documents/talk\.mp4\?.*partNumber=.*"), busy_at_first)
    page.goto(url + "/documents")
    choose(page, ("talk.mp4", data))
    wait_until_posted(page, seen)
    assert (
        raw.get_object(Bucket=bucket, Key="documents/talk.mp4")["Body"].read() == data
    )
    assert len(failed) == 2
    assert len(parts) == 3 + 2
    console_errors[:] = [e for e in console_errors if "status of 503" not in e]
