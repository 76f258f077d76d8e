"""The upload form's transfers in Chromium: bytes and time left, Cancel,
the warning before leaving, an expired session, tus for large files with
resume after a network cut or a reload, and accessibility meanwhile.

See :mod:`.transfer_pages` for the stand-ins these pages use until the
macro renders the direct-upload attributes itself.
"""

from __future__ import annotations

import gc
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request
from playwright.sync_api import expect

from flask_store import Store
from flask_store.direct import tus_uploads
from flask_store.rules import too_large_message

from ..conftest import make_app, serve
from .axe import violations
from .test_example_app_browser import OVERFLOWING, PHONE
from .transfer_pages import (
    GRANT,
    Seen,
    choose,
    documents_app,
    status_of,
    throttle_uploads,
)

pytestmark = pytest.mark.browser

KiB = 1024
CHUNK = 64 * KiB
#: "350 kB of 1.2 MB, about 6 s left"
LEFT = re.compile(r"[\d.]+ (bytes|kB|MB) of 1\.2 MB, about \d+ s left")
EXPIRED = "Your session has expired: reload the page and upload again."
SPOOL = ".flask-store-spool"


def stored(app: Flask) -> list[str]:
    """Every file under STORE_PATH, but the hidden spool folder."""
    root = Path(app.config["STORE_PATH"])
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and SPOOL not in p.parts
    )


def spooled(app: Flask) -> list[str]:
    """Uploads under way in the spool (tus ``.upload`` files)."""
    spool = Path(app.config["STORE_PATH"]) / SPOOL
    return sorted(p.name for p in spool.glob("*.upload")) if spool.is_dir() else []


def tus_server(
    tmp_path: Path, grant: str = GRANT, **config: Any
) -> Iterator[tuple[Flask, str, Seen]]:
    app = make_app(tmp_path, STORE_UPLOADS_ACCESS=True, **config)
    store = Store(app)
    app.register_blueprint(tus_uploads, url_prefix="/uploads/tus")
    seen = documents_app(
        app,
        store,
        {
            "direct": "tus",
            "direct_url": "/uploads/tus/",
            "upload_grant": grant,
            "direct_min": 100 * KiB,
            "chunk_size": CHUNK,
        },
    )
    with serve(app) as url:
        yield app, url, seen


@pytest.fixture
def tus(tmp_path: Path) -> Iterator[tuple[Flask, str, Seen]]:
    # The app takes no request over 256 KiB: large files must go by tus.
    yield from tus_server(tmp_path, MAX_CONTENT_LENGTH=256 * KiB)


@pytest.fixture
def slow_tus(tmp_path: Path) -> Iterator[tuple[Flask, str, Seen]]:
    yield from tus_server(tmp_path, PATCH_DELAY=0.15)


def forget_network_errors(console_errors: list[str]) -> None:
    """The requests the browser logs as failed while it was offline or cut."""
    console_errors[:] = [
        e
        for e in console_errors
        if "ERR_INTERNET_DISCONNECTED" not in e and "net::ERR_" not in e
    ]


def forget_refusals(console_errors: list[str], status: int) -> None:
    """The browser logs the answer a test expects to be refused."""
    console_errors[:] = [e for e in console_errors if f"status of {status}" not in e]


def forget_cancelled_deletes(console_errors: list[str]) -> None:
    """A DELETE right after Cancel may find the server still reading the
    chunk cut off (409); the form asks again, the browser logs each one."""
    forget_refusals(console_errors, 409)


def test_a_large_file_goes_by_tus_a_small_one_with_the_form(
    page: Any, tus: tuple[Flask, str, Seen]
) -> None:
    app, url, seen = tus
    big = os.urandom(700 * KiB)  # more than the app takes in one request
    small = b"a small note\n"
    page.goto(url + "/documents")
    choose(page, ("big.bin", big), ("note.txt", small))
    page.wait_for_selector("#documents li >> text=big.bin", timeout=30_000)
    assert page.locator("#documents li").all_text_contents() == ["big.bin", "note.txt"]
    root = Path(app.config["STORE_PATH"])
    assert (root / "documents" / "big.bin").read_bytes() == big
    assert (root / "documents" / "note.txt").read_bytes() == small
    # The big file went in chunks of data-chunk-size, each sent once.
    assert seen.patched == len(big)
    assert len(seen.methods("PATCH")) == -(-len(big) // CHUNK)
    assert seen.methods("POST").count("/uploads/tus/") == 1
    assert spooled(app) == []
    assert page.evaluate("localStorage.length") == 0


def test_without_the_transfer_script_large_files_say_so(
    page: Any, tus: tuple[Flask, str, Seen], console_errors: list[str]
) -> None:
    app, url, seen = tus
    page.route("**/flask_store_transfers.js", lambda route: route.abort())
    page.goto(url + "/documents")
    choose(page, ("big.bin", os.urandom(300 * KiB)), ("note.txt", b"a note\n"))
    expect(status_of(page, "big.bin")).to_have_text(
        "The page's upload script did not load: reload the page."
    )
    # A small file is posted with the form as ever.
    expect(status_of(page, "note.txt")).to_have_text("Uploaded")
    assert stored(app) == ["documents/note.txt"]
    assert seen.methods("PATCH") == []
    console_errors[:] = [e for e in console_errors if "net::ERR_FAILED" not in e]


# Werkzeug leaves the spooled file of a post cut off midway to the garbage
# collector, which warns about it.
@pytest.mark.filterwarnings(
    "ignore:Unclosed file <tempfile.SpooledTemporaryFile:ResourceWarning"
)
def test_bytes_and_time_left_show_then_cancel_stops_the_post(
    page: Any, live_app: tuple[Flask, str]
) -> None:
    app, url = live_app
    posted = threading.Event()
    app.teardown_request(lambda exc: posted.set() if request.method == "POST" else None)
    throttle_uploads(page, 150_000)
    page.goto(url + "/documents")
    choose(page, ("report.pdf", os.urandom(1_200_000)))
    status = status_of(page, "report.pdf")
    expect(status).to_have_text(LEFT, timeout=15_000)
    # Cancel with the keyboard alone.
    cancel = page.get_by_role("button", name="Cancel upload of report.pdf")
    cancel.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".fs-progress-status")).to_have_text("Cancelled")
    assert (
        page.locator(".fs-summary").text_content() == "Added 0 files. 1 file cancelled."
    )
    # Focus stays with the file, not lost to the page.
    assert page.evaluate("document.activeElement.textContent") == "Cancelled"
    assert posted.wait(10)
    assert stored(app) == []
    gc.collect()  # while the warning is ignored


def test_cancel_stops_a_tus_upload_and_nothing_is_kept(
    page: Any, slow_tus: tuple[Flask, str, Seen], console_errors: list[str]
) -> None:
    app, url, seen = slow_tus
    data = os.urandom(40 * CHUNK)
    page.goto(url + "/documents")
    choose(page, ("backup.tar", data))
    assert seen.wait_for_patches(3)
    assert len(spooled(app)) == 1
    assert page.evaluate("localStorage.length") == 1
    page.get_by_role("button", name="Cancel upload of backup.tar").click()
    expect(page.locator(".fs-progress-status")).to_have_text("Cancelled")
    # The upload was terminated on the server, its bytes deleted.
    assert seen.methods("DELETE")
    assert spooled(app) == []
    assert stored(app) == []
    assert page.evaluate("localStorage.length") == 0
    assert len(seen.methods("PATCH")) < 40
    forget_cancelled_deletes(console_errors)


def test_three_files_upload_at_a_time_the_others_wait(
    page: Any, slow_tus: tuple[Flask, str, Seen], console_errors: list[str]
) -> None:
    app, url, seen = slow_tus
    names = ["one.bin", "two.bin", "three.bin", "four.bin"]
    page.goto(url + "/documents")
    choose(page, *[(name, os.urandom(40 * CHUNK)) for name in names])
    assert seen.wait_for_patches(6)
    assert seen.methods("POST").count("/uploads/tus/") == 3
    expect(status_of(page, "four.bin")).to_have_text("Waiting…")
    # A waiting file is cancelled before it starts; the others stop too.
    for name in reversed(names):
        page.get_by_role("button", name=f"Cancel upload of {name}").click()
    expect(page.locator(".fs-summary")).to_have_text(
        "Added 0 files. 4 files cancelled."
    )
    assert seen.methods("POST").count("/uploads/tus/") == 3
    assert spooled(app) == [] and stored(app) == []
    forget_cancelled_deletes(console_errors)


def test_leaving_the_page_during_an_upload_asks_first(
    page: Any, slow_tus: tuple[Flask, str, Seen], console_errors: list[str]
) -> None:
    _, url, seen = slow_tus
    dialogs: list[str] = []

    def answer(dialog: Any) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", answer)
    page.goto(url + "/documents")
    page.click("h1")  # the page has been used: browsers ask only then
    choose(page, ("backup.tar", os.urandom(40 * CHUNK)))
    assert seen.wait_for_patches(2)
    page.close(run_before_unload=True)
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    assert not page.is_closed()  # the user chose to stay
    page.get_by_role("button", name="Cancel upload of backup.tar").click()
    expect(page.locator(".fs-progress-status")).to_have_text("Cancelled")
    forget_cancelled_deletes(console_errors)


def test_no_question_when_leaving_once_uploads_are_done(
    page: Any, tus: tuple[Flask, str, Seen]
) -> None:
    _, url, _ = tus
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.goto(url + "/documents")
    page.click("h1")
    choose(page, ("big.bin", os.urandom(300 * KiB)))
    page.wait_for_selector("#documents li >> text=big.bin")
    page.goto(url + "/documents")
    assert dialogs == []


def test_an_expired_session_says_so(
    page: Any, live_app: tuple[Flask, str], console_errors: list[str]
) -> None:
    app, url = live_app
    page.goto(url + "/admin/files/")
    page.context.clear_cookies()  # the session, and its CSRF token, are gone
    choose(page, ("notes.txt", b"some notes\n"))
    status = status_of(page, "notes.txt")
    expect(status).to_have_text(EXPIRED)
    assert status.get_attribute("role") == "alert"
    assert stored(app) == []
    forget_refusals(console_errors, 400)


def test_an_expired_upload_grant_says_so(
    page: Any, tmp_path: Path, console_errors: list[str]
) -> None:
    for app, url, seen in tus_server(tmp_path, grant="a-grant-from-yesterday"):
        page.goto(url + "/documents")
        choose(page, ("big.bin", os.urandom(200 * KiB)))
        status = status_of(page, "big.bin")
        page.wait_for_selector(".fs-failed")
        assert status.text_content() == EXPIRED
        assert seen.methods("PATCH") == []
        assert stored(app) == [] and spooled(app) == []
    forget_refusals(console_errors, 403)


def test_a_refusal_from_the_endpoint_is_the_file_s_message(
    page: Any, tmp_path: Path, console_errors: list[str]
) -> None:
    for app, url, seen in tus_server(tmp_path, STORE_MAX_SIZE=150 * KiB):
        page.goto(url + "/documents")
        # A page rendered before the limit was lowered: the browser does not
        # know it, the endpoint does.
        page.evaluate(
            "document.querySelector('form[data-flask-store-upload]')"
            ".removeAttribute('data-max-size')"
        )
        choose(page, ("big.bin", os.urandom(200 * KiB)))
        status = status_of(page, "big.bin")
        with app.app_context():
            message = too_large_message("big.bin", 150 * KiB)
        expect(status).to_have_text(message)
        assert seen.methods("PATCH") == []
        assert stored(app) == [] and spooled(app) == []
        assert page.evaluate("localStorage.length") == 0
    forget_refusals(console_errors, 413)


def test_a_network_cut_mid_upload_resumes_without_sending_it_again(
    page: Any, slow_tus: tuple[Flask, str, Seen], console_errors: list[str]
) -> None:
    app, url, seen = slow_tus
    data = os.urandom(30 * CHUNK)
    page.goto(url + "/documents")
    choose(page, ("video.mp4", data))
    assert seen.wait_for_patches(5)
    page.context.set_offline(True)
    status = status_of(page, "video.mp4")
    expect(status).to_have_text("Offline: the upload goes on when the network is back.")
    page.context.set_offline(False)
    page.wait_for_selector("#documents li >> text=video.mp4", timeout=30_000)
    assert (
        Path(app.config["STORE_PATH"]) / "documents" / "video.mp4"
    ).read_bytes() == data
    # One upload, resumed where it stopped: at most the chunk in flight again.
    assert seen.methods("POST").count("/uploads/tus/") == 1
    assert len(data) <= seen.patched <= len(data) + CHUNK
    forget_network_errors(console_errors)


def test_a_reload_mid_upload_resumes_where_it_stopped(
    page: Any,
    slow_tus: tuple[Flask, str, Seen],
    tmp_path: Path,
    console_errors: list[str],
) -> None:
    app, url, seen = slow_tus
    data = os.urandom(24 * CHUNK)
    chosen = tmp_path / "dataset.csv"
    chosen.write_bytes(data)
    page.on("dialog", lambda dialog: dialog.accept())  # "Leave the page?" yes
    page.goto(url + "/documents")
    page.set_input_files("form[data-flask-store-upload] input[type=file]", chosen)
    assert seen.wait_for_patches(8)
    page.reload()
    page.set_input_files("form[data-flask-store-upload] input[type=file]", chosen)
    page.wait_for_selector("#documents li >> text=dataset.csv", timeout=30_000)
    assert (
        Path(app.config["STORE_PATH"]) / "documents" / "dataset.csv"
    ).read_bytes() == data
    # The second page asked where the upload stood and sent only the rest.
    assert seen.methods("POST").count("/uploads/tus/") == 1
    assert seen.methods("HEAD")
    assert seen.patched <= len(data) + 2 * CHUNK
    assert page.evaluate("localStorage.length") == 0
    assert spooled(app) == []
    # The server may still have been reading the chunk cut off by the reload.
    forget_refusals(console_errors, 409)


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_the_progress_list_is_accessible_while_uploading(
    page: Any,
    slow_tus: tuple[Flask, str, Seen],
    viewport: dict[str, int] | None,
    console_errors: list[str],
) -> None:
    _, url, seen = slow_tus
    if viewport:
        page.set_viewport_size(viewport)
    long_name = "quarterly-report-for-the-board-of-directors-2026-final.tar"
    page.goto(url + "/documents")
    choose(page, (long_name, os.urandom(40 * CHUNK)), ("small.txt", b"x" * 10))
    assert seen.wait_for_patches(2)
    page.wait_for_selector(".fs-progress-item.fs-done")
    expect(status_of(page, long_name)).to_have_text(re.compile(r" of 2\.6 MB"))
    assert violations(page) == []
    assert page.evaluate(OVERFLOWING) == []
    page.get_by_role("button", name=f"Cancel upload of {long_name}").click()
    page.wait_for_selector(".fs-cancelled")
    assert violations(page) == []
    assert page.evaluate(OVERFLOWING) == []
    forget_cancelled_deletes(console_errors)
