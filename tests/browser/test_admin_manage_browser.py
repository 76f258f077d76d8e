"""Sorting, renaming, selections, the phone layout and axe-core, in Chromium.

Each test runs at a desktop size (1280x800) and a phone's (390x844).
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from flask_store.state import store_state

from .axe import violations

pytestmark = pytest.mark.browser

ADMIN = "/admin/files/"

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


@pytest.fixture(params=sorted(SIZES))
def sized(request: pytest.FixtureRequest, page: Any) -> Any:
    width, height = SIZES[request.param]
    page.set_viewport_size({"width": width, "height": height})
    return page


def put(app: Flask, path: str, data: bytes) -> None:
    store_state(app).backend.write(io.BytesIO(data), [path])


def listed(page: Any) -> list[str]:
    texts: list[str] = page.locator("table .fs-name-text").all_inner_texts()
    return texts


def stored(app: Flask) -> list[str]:
    return sorted(e.path for e in store_state(app).backend.iter_files(""))


def no_overflow(page: Any) -> None:
    """Nothing is wider than the viewport: no sideways scrolling."""
    wide = page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            return [...document.querySelectorAll("body *")]
                .filter(e => e.getBoundingClientRect().right > width + 1)
                .filter(e => !e.closest(".fs-visually-hidden"))
                .map(e => e.tagName + "." + e.className);
        }"""
    )
    assert wide == []
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_sort_by_clicking_headers(live_app: tuple[Flask, str], sized: Any) -> None:
    app, base = live_app
    put(app, "big.txt", b"x" * 3000)
    put(app, "small.txt", b"x")
    put(app, "middle.txt", b"x" * 200)
    sized.goto(base + ADMIN)
    assert listed(sized) == ["big.txt", "middle.txt", "small.txt"]
    sized.get_by_role("link", name="Size").click()
    sized.wait_for_url("**sort=size")
    assert listed(sized) == ["small.txt", "middle.txt", "big.txt"]
    header = sized.locator("th[aria-sort]")
    assert header.get_attribute("aria-sort") == "ascending"
    sized.get_by_role("link", name="Size").click()
    sized.wait_for_url("**sort=-size")
    assert listed(sized) == ["big.txt", "middle.txt", "small.txt"]
    assert header.get_attribute("aria-sort") == "descending"
    # Every column's value is reachable on a phone too.
    for label in ["Size", "Modified", "Type"]:
        cell = sized.locator(f"tbody td[data-label='{label}']").first
        assert cell.is_visible()
    no_overflow(sized)
    assert violations(sized) == []


def test_rename_with_the_keyboard(live_app: tuple[Flask, str], sized: Any) -> None:
    app, base = live_app
    put(app, "draft.txt", b"text")
    sized.goto(base + ADMIN)
    rename = sized.get_by_role("link", name="Rename or move draft.txt")
    rename.focus()
    sized.keyboard.press("Enter")
    sized.wait_for_url("**/move/**")
    assert violations(sized) == []
    no_overflow(sized)
    name = sized.get_by_label("New name")
    expect(name).to_be_focused()
    name.fill("final.txt")
    sized.keyboard.press("Enter")
    flash = sized.locator(".fs-flashes")
    expect(flash).to_have_text("Moved draft.txt to final.txt.")
    # Focus moved to the result of the action.
    expect(flash).to_be_focused()
    assert stored(app) == ["final.txt"]
    # With a flash message on the page, axe still finds nothing.
    assert violations(sized) == []
    no_overflow(sized)


def expect_errors(console_errors: list[str], status: int) -> None:
    """Drop the console's report of the error responses a test expects."""
    console_errors[:] = [e for e in console_errors if f"status of {status}" not in e]


def open_chooser_with(page: Any, key: str) -> Any:
    """The file chooser that pressing ``key`` opens.

    Headless Chromium now and then loses the key press that asks for a chooser
    (none opens, nothing else happens); a user would press again, and so does
    this, at most three times.
    """
    for _ in range(2):
        try:
            with page.expect_file_chooser(timeout=5_000) as chooser:
                page.keyboard.press(key)
            return chooser.value
        except PlaywrightTimeoutError:
            pass
    with page.expect_file_chooser(timeout=5_000) as chooser:
        page.keyboard.press(key)
    return chooser.value


def test_upload_with_the_keyboard(live_app: tuple[Flask, str], sized: Any) -> None:
    app, base = live_app
    sized.goto(base + ADMIN)
    for _ in range(20):  # Tab to the upload's file input
        sized.keyboard.press("Tab")
        if sized.evaluate("document.activeElement.type === 'file'"):
            break
    else:
        pytest.fail("Tab never reached the file input")
    open_chooser_with(sized, "Space").set_files(
        files=[{"name": "typed.txt", "mimeType": "text/plain", "buffer": b"typed"}]
    )
    summary = sized.locator(".fs-summary")
    summary.wait_for()
    assert summary.inner_text() == "Added 1 file."
    expect(summary).to_be_focused()
    sized.locator("table .fs-name-text").first.wait_for()
    assert listed(sized) == ["typed.txt"]
    assert stored(app) == ["typed.txt"]


def test_a_taken_name_is_refused(
    live_app: tuple[Flask, str], page: Any, console_errors: list[str]
) -> None:
    app, base = live_app
    put(app, "a.txt", b"a")
    put(app, "b.txt", b"b")
    page.goto(base + "/admin/files/move/a.txt")
    page.get_by_label("New name").fill("b.txt")
    page.get_by_role("button", name="Save").click()
    # The form again, with the name typed and why it was refused.
    expect(page.get_by_role("alert")).to_contain_text("b.txt already exists")
    name = page.get_by_label("New name")
    expect(name).to_have_value("b.txt")
    expect(name).to_be_focused()
    assert stored(app) == ["a.txt", "b.txt"]
    expect_errors(console_errors, 409)
    assert violations(page) == []
    name.fill("c.txt")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".fs-flash-success")).to_contain_text("c.txt")
    assert stored(app) == ["b.txt", "c.txt"]


def test_bulk_delete(live_app: tuple[Flask, str], sized: Any) -> None:
    app, base = live_app
    for name in ["one.txt", "two.txt", "three.txt"]:
        put(app, name, b"x")
    put(app, "keep/kept.txt", b"x")
    sized.goto(base + ADMIN)
    select_all = sized.get_by_label("Select every file on this page")
    select_all.check()
    assert sized.locator("input[name=paths]:checked").count() == 3
    sized.get_by_label("Select two.txt").uncheck()
    assert select_all.evaluate("e => e.indeterminate")
    sized.locator("#fs-selection").get_by_role("button", name="Delete").click()
    sized.wait_for_url("**/selection")
    assert sized.locator("h1").inner_text() == "Delete 2 files?"
    assert violations(sized) == []
    no_overflow(sized)
    sized.get_by_role("button", name="Delete 2 files").click()
    expect(sized.locator(".fs-flashes")).to_have_text("Deleted 2 files.")
    assert stored(app) == ["keep/kept.txt", "two.txt"]


def test_delete_a_folder_with_files(live_app: tuple[Flask, str], page: Any) -> None:
    app, base = live_app
    put(app, "old/a.txt", b"x")
    put(app, "old/b/c.txt", b"x")
    page.goto(base + ADMIN)
    page.get_by_role("button", name="Delete folder old").click()
    assert "It holds 2 files" in page.locator(".fs-confirm").inner_text()
    assert violations(page) == []
    page.get_by_role("button", name="Delete the folder and 2 files").click()
    assert "Deleted folder old and the 2 files in it." in page.inner_text(".fs-flashes")
    assert stored(app) == []


def test_mixed_batch_summary_and_refresh(
    live_app: tuple[Flask, str], page: Any, console_errors: list[str]
) -> None:
    app, base = live_app
    app.config["STORE_ALLOWED_EXTENSIONS"] = {"txt"}
    page.goto(base + ADMIN)
    page.set_input_files(
        "input[type=file]",
        files=[
            {"name": "a.txt", "mimeType": "text/plain", "buffer": b"a"},
            {"name": "b.exe", "mimeType": "application/octet-stream", "buffer": b"b"},
            {"name": "c.txt", "mimeType": "text/plain", "buffer": b"c"},
        ],
    )
    summary = page.locator(".fs-summary")
    summary.wait_for()
    assert summary.inner_text() == "Added 2 files. 1 file refused, see above."
    page.wait_for_function(
        "() => document.querySelectorAll('table .fs-name-text').length === 2"
    )
    assert listed(page) == ["a.txt", "c.txt"]
    assert "b.exe is not an allowed type" in page.inner_text(".fs-progress")
    assert violations(page) == []
    expect_errors(console_errors, 400)


#: The root, the models page, the move page, a folder holding only a folder
#: (no file to select) and a missing folder.
ADMIN_PAGES = ["", "models", "move/x.txt", "?folder=tree", "?folder=nope"]


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_axe_on_admin_pages(
    live_app: tuple[Flask, str], sized: Any, path: str, console_errors: list[str]
) -> None:
    app, base = live_app
    put(app, "x.txt", b"x")
    put(app, "folder/y.txt", b"y")
    put(app, "tree/branch/z.txt", b"z")
    response = sized.goto(base + ADMIN + path)
    assert response.status == (404 if path == "?folder=nope" else 200)
    assert violations(sized) == []
    no_overflow(sized)
    expect_errors(console_errors, 404)


def test_delete_with_the_keyboard(live_app: tuple[Flask, str], sized: Any) -> None:
    app, base = live_app
    put(app, "old.txt", b"x")
    put(app, "keep.txt", b"x")
    sized.goto(base + ADMIN)
    questions: list[str] = []

    def answer(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.accept()

    sized.on("dialog", answer)
    sized.get_by_role("button", name="Delete old.txt").focus()
    sized.keyboard.press("Enter")
    flash = sized.locator(".fs-flashes")
    expect(flash).to_have_text("Deleted old.txt.")
    assert questions == ["Delete old.txt? This cannot be undone."]
    expect(flash).to_be_focused()
    assert stored(app) == ["keep.txt"]
    assert violations(sized) == []
