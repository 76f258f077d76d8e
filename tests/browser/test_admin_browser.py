"""The admin and the upload macro in a real Chromium."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from .conftest import png

pytestmark = pytest.mark.browser

ADMIN = "/admin/files/"

DROP = """([name, type, b64]) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], name, { type }));
    return transfer;
}"""


def drop(page: Any, selector: str, name: str, mimetype: str, data: bytes) -> None:
    """Drop a file on ``selector`` the way a drag from the desktop does."""
    transfer = page.evaluate_handle(
        DROP, [name, mimetype, base64.b64encode(data).decode()]
    )
    page.dispatch_event(selector, "dragenter", {"dataTransfer": transfer})
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def listed(page: Any) -> list[str]:
    return page.locator("table .fs-name-text").all_inner_texts()


def stored(app: Flask, location: str = "") -> list[str]:
    folder = Path(app.config["STORE_PATH"], location)
    if not folder.exists():
        return []
    # Hidden folders (the thumbnails' variants) hold no files of the store.
    return sorted(name for name in os.listdir(folder) if not name.startswith("."))


def test_upload_by_input_and_by_drop_then_delete(
    live_app: tuple[Flask, str], page: Any
) -> None:
    app, base = live_app
    app.config["UPLOAD_DELAY"] = 0.5
    page.goto(base + ADMIN)
    assert page.title() == "Files · Flask-Store"
    assert "This folder is empty" in page.inner_text(".fs-listing")

    # 1. Choosing a file uploads it at once, with a progress bar.
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"}],
    )
    item = page.locator(".fs-progress-item", has_text="notes.txt")
    item.wait_for(state="visible")
    assert item.locator("progress").is_visible()
    page.wait_for_selector("table .fs-name-text >> text=notes.txt")
    assert listed(page) == ["notes.txt"]

    # 2. Dropping a file on the page does the same, once the reloaded page's
    # script has taken over its form (the listing shows before it has).
    page.locator("form.fs-enhanced").wait_for()
    drop(page, "[data-drop-zone]", "photo.png", "image/png", png())
    page.locator(".fs-progress-item", has_text="photo.png").wait_for(state="visible")
    page.wait_for_selector("table .fs-name-text >> text=photo.png")
    assert listed(page) == ["notes.txt", "photo.png"]
    assert stored(app) == ["notes.txt", "photo.png"]
    # The image's thumbnail loaded: a variant (never enlarged: 8 pixels wide).
    thumb = page.locator("tr", has_text="photo.png").locator("img")
    thumb.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 8", arg=thumb.element_handle()
    )

    # 3. Delete asks first (the reloaded page's script asks); dismissing
    # keeps the file.
    page.locator("form.fs-enhanced").wait_for()
    row = page.locator("tr", has_text="notes.txt")
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.get_by_role("button", name="Delete notes.txt").click()
    page.wait_for_timeout(300)
    assert stored(app) == ["notes.txt", "photo.png"]
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete notes.txt").click()
    page.wait_for_selector(".fs-flash >> text=Deleted notes.txt.")
    assert listed(page) == ["photo.png"]
    assert stored(app) == ["photo.png"]


def test_refused_files_get_a_message_and_nothing_is_stored(
    live_app: tuple[Flask, str], page: Any, console_errors: list[str]
) -> None:
    app, base = live_app
    app.config.update(STORE_ALLOWED_EXTENSIONS={"txt", "png"}, STORE_MAX_SIZE=1000)
    page.goto(base + ADMIN)
    # Refused in the page, before sending anything.
    page.set_input_files(
        "input[type=file]",
        files=[
            {
                "name": "tool.exe",
                "mimeType": "application/x-msdownload",
                "buffer": b"MZ",
            },
            {"name": "big.txt", "mimeType": "text/plain", "buffer": b"x" * 2000},
        ],
    )
    failed = page.locator(".fs-progress-item.fs-failed")
    failed.nth(1).wait_for()
    assert failed.all_inner_texts() == [
        "tool.exe\ntool.exe is not an allowed type (allowed: .png, .txt).",
        "big.txt\nbig.txt is larger than 1 kB, the largest file allowed.",
    ]
    # The server refuses too when the page's checks are bypassed.
    page.evaluate(
        "() => { const f = document.querySelector('[data-flask-store-upload]');"
        " delete f.dataset.allowed; delete f.dataset.maxSize; }"
    )
    drop(page, "[data-drop-zone]", "other.exe", "application/octet-stream", b"MZ")
    page.wait_for_selector(
        ".fs-failed >> text=other.exe is not an allowed type (allowed: .png, .txt)."
    )
    assert stored(app) == []
    # Chromium logs the refused request.
    assert all("status of 400" in e for e in console_errors)
    console_errors.clear()


def test_new_folder_and_navigation(live_app: tuple[Flask, str], page: Any) -> None:
    app, base = live_app
    page.goto(base + ADMIN)
    page.get_by_label("Folder name").fill("reports")
    page.get_by_role("button", name="Create").click()
    page.wait_for_selector("h1 >> text=reports")
    page.locator("form.fs-enhanced").wait_for()  # the new page's script took over
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "q1.txt", "mimeType": "text/plain", "buffer": b"q1"}],
    )
    page.wait_for_selector("table .fs-name-text >> text=q1.txt")
    assert stored(app, "reports") == ["q1.txt"]
    page.get_by_role("navigation", name="Breadcrumb").get_by_role(
        "link", name="Files"
    ).click()
    page.wait_for_selector("table .fs-name-text >> text=reports")


def test_upload_macro_in_an_app_page(live_app: tuple[Flask, str], page: Any) -> None:
    app, base = live_app
    page.goto(base + "/documents")
    page.set_input_files(
        "input[type=file]",
        files=[
            {"name": "a.txt", "mimeType": "text/plain", "buffer": b"a"},
            {"name": "b.txt", "mimeType": "text/plain", "buffer": b"b"},
        ],
    )
    # The page follows the view's redirect once both files are stored.
    page.wait_for_selector("#documents >> text=b.txt")
    assert page.locator("#documents li").all_inner_texts() == ["a.txt", "b.txt"]
    assert stored(app, "documents") == ["a.txt", "b.txt"]


def test_works_without_javascript(chromium: Any, live_app: tuple[Flask, str]) -> None:
    app, base = live_app
    context = chromium.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(base + ADMIN)
        page.set_input_files(
            "input[type=file]",
            files=[{"name": "plain.txt", "mimeType": "text/plain", "buffer": b"x"}],
        )
        page.get_by_role("button", name="Upload").click()
        page.wait_for_selector(".fs-flash >> text=Uploaded plain.txt.")
        page.get_by_role("button", name="Delete plain.txt").click()
        # Without JavaScript the confirmation is a page of its own.
        page.wait_for_selector("h1 >> text=Delete plain.txt?")
        assert stored(app) == ["plain.txt"]
        page.get_by_role("button", name="Delete").click()
        page.wait_for_selector(".fs-flash >> text=Deleted plain.txt.")
        assert stored(app) == []
    finally:
        context.close()


def test_files_dropped_during_an_upload_wait_their_turn(
    live_app: tuple[Flask, str], page: Any
) -> None:
    app, base = live_app
    app.config["UPLOAD_DELAY"] = 0.5
    page.goto(base + ADMIN)
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "first.txt", "mimeType": "text/plain", "buffer": b"1"}],
    )
    page.locator(".fs-progress-item", has_text="first.txt").wait_for()
    drop(page, "[data-drop-zone]", "second.txt", "text/plain", b"2")
    expect(page.locator(".fs-progress-item")).to_have_count(2)
    page.wait_for_selector("table .fs-name-text >> text=second.txt")
    assert listed(page) == ["first.txt", "second.txt"]
    assert stored(app) == ["first.txt", "second.txt"]
