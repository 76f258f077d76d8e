"""The example app in Chromium, at a desktop and a phone size.

axe-core finds no violation on any page (with and without flash messages,
in light and dark colours), nothing is wider than a phone's screen, the header
stays on one line there, and deleting a document asks first, without
JavaScript too, naming the files other documents keep.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from flask import Flask
from playwright.sync_api import expect
from werkzeug.datastructures import FileStorage

from example_app import create_app, settings
from example_app.models import Document, db

from ..conftest import serve
from .axe import violations
from .conftest import png

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

#: Longer than a phone's screen is wide, without a space to break at.
LONG_NAME = "minutes-of-the-annual-general-meeting-of-the-society-2026.txt"
NOTES = b"".join(
    b"%03d: a line of the minutes, longer than a phone is wide\n" % i
    for i in range(200)
)

#: Elements outside the viewport's width: their tag, class and box.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll("body *")]
    .filter(e => {
      const box = e.getBoundingClientRect();
      return box.width > 0 && (box.right > width + 0.5 || box.left < -0.5);
    })
    .map(e => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(
      e.getBoundingClientRect().left)}..${Math.round(e.getBoundingClientRect().right)}`);
}"""

#: Long names and row labels squeezed by their neighbours to a few letters
#: a line.
SQUEEZED = """() => [...document.querySelectorAll('.fs-name-text, .fs-chip')]
  .filter(e => e.textContent.trim().length > 12 && e.getBoundingClientRect().width < 96)
  .map(e => e.textContent.trim())"""


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The example app with three documents, served on 127.0.0.1; its base URL.

    Document 1 has a long text attachment, document 2 an image, and
    document 3 shares document 1's attachment.
    """
    for key in list(os.environ):
        if key.startswith(("STORE_", "EXAMPLE_", "FLASK_")):
            monkeypatch.delenv(key)
    app = create_app({"TESTING": True}, instance_path=str(tmp_path / "instance"))
    seed(app)
    with serve(app) as url:
        yield url


def seed(app: Flask) -> None:
    with app.app_context():
        minutes = Document(
            title="Minutes of the annual general meeting, with every motion voted",
            attachment=FileStorage(io.BytesIO(NOTES), filename=LONG_NAME),
        )
        cover = Document(
            title="Cover",
            image=FileStorage(io.BytesIO(png(800, 500)), filename="cover.png"),
        )
        db.session.add_all([minutes, cover])
        db.session.commit()
        db.session.add(Document(title="Minutes (copy)", attachment=minutes.attachment))
        db.session.commit()
        db.session.remove()


def log_in(page: Any, base: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("Username").fill(settings.DEV_USERNAME)
    page.get_by_label("Password").fill(settings.DEV_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/")


def assert_passes_axe_and_fits(page: Any, name: str) -> None:
    """No axe-core violation, and nothing wider than the screen."""
    assert violations(page) == [], name
    scroll, client = page.evaluate(
        "() => [document.documentElement.scrollWidth,"
        " document.documentElement.clientWidth]"
    )
    assert scroll <= client, f"{name} is {scroll - client}px wider than the screen"
    assert page.evaluate(OVERFLOWING) == [], name


def assert_fits_and_passes_axe(page: Any, name: str, viewport: dict[str, int]) -> None:
    """As :func:`assert_passes_axe_and_fits`; no squeezed text either, and at
    phone width the app's header on one line."""
    assert_passes_axe_and_fits(page, name)
    assert page.evaluate(SQUEEZED) == [], name
    if viewport == PHONE and page.locator(".topbar .brand").count():
        # The app's header is one line: every link beside the brand, none below it.
        beside = page.evaluate(
            """() => {
              const brand = document.querySelector('.topbar .brand')
                .getBoundingClientRect();
              return [...document.querySelectorAll('.topbar nav > *')].map(e => {
                const box = e.getBoundingClientRect();
                return box.top < brand.bottom && box.bottom > brand.top;
              });
            }"""
        )
        assert beside == [True, True, True], f"{name}: the header wraps"


@pytest.mark.parametrize(
    ("viewport", "colours"),
    [(DESKTOP, "light"), (PHONE, "light"), (PHONE, "dark")],
    ids=["desktop", "phone", "phone-dark"],
)
def test_every_page_passes_axe_and_fits(
    chromium: Any,
    example: str,
    console_errors: list[str],
    viewport: dict[str, int],
    colours: str,
) -> None:
    base = example
    context = chromium.new_context(viewport=viewport, color_scheme=colours)
    page = context.new_page()
    page.on(
        "console",
        lambda m: console_errors.append(m.text) if m.type == "error" else None,
    )
    page.on("pageerror", lambda exc: console_errors.append(str(exc)))
    try:
        pages: list[tuple[str, str]] = [("index, logged out", "/"), ("login", "/login")]
        for name, path in pages:
            page.goto(base + path)
            assert_fits_and_passes_axe(page, name, viewport)

        log_in(page, base)
        assert page.get_by_role("status").inner_text() == "Logged in as admin."
        assert_fits_and_passes_axe(page, "index with a success message", viewport)

        # Logging out without the form's token: an error message.
        # Wait for the post's page: the current one is already loaded.
        with page.expect_navigation():
            page.evaluate(
                "() => { const f = document.createElement('form'); f.method = 'post';"
                " f.action = '/logout'; document.body.append(f); f.submit(); }"
            )
        assert "still logged in" in page.get_by_role("status").inner_text()
        assert_fits_and_passes_axe(page, "index with an error message", viewport)

        for name, path in [
            ("index", "/"),
            ("detail with a text preview", "/documents/1"),
            ("detail with an image", "/documents/2"),
            ("delete, a file kept", "/documents/1/delete"),
            ("delete", "/documents/2/delete"),
            ("the admin's files", "/admin/files/"),
            ("the admin's files in use", "/admin/files/?folder=documents"),
            ("the admin's images", "/admin/files/?folder=images"),
            ("the admin's models", "/admin/files/models"),
        ]:
            page.goto(base + path)
            assert_fits_and_passes_axe(page, name, viewport)

        response = page.goto(base + "/documents/999")
        assert response.status == 404
        console_errors.clear()  # Chromium logs the 404 itself
        assert_fits_and_passes_axe(page, "error page", viewport)
        assert console_errors == []
    finally:
        context.close()


def test_the_text_preview_scrolls_with_the_keyboard(
    chromium: Any, example: str
) -> None:
    context = chromium.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(example + "/documents/1")
        preview = page.get_by_role("region", name=f"Start of {LONG_NAME}")
        preview.focus()
        assert page.evaluate("() => document.activeElement.tagName") == "PRE"
        assert preview.evaluate("e => e.scrollTop") == 0
        page.keyboard.press("PageDown")
        page.wait_for_function(
            "() => document.activeElement.scrollTop > 0", timeout=5_000
        )
    finally:
        context.close()


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
def test_delete_asks_first_and_names_the_files_other_documents_keep(
    chromium: Any, example: str, javascript: bool
) -> None:
    base = example
    context = chromium.new_context(viewport=PHONE, java_script_enabled=javascript)
    page = context.new_page()
    try:
        log_in(page, base)
        page.goto(base + "/documents/1")
        page.get_by_role("link", name="Delete this document…").click()

        # Nothing is deleted yet: the page says what deleting does.
        page.wait_for_url(base + "/documents/1/delete")
        heading = page.get_by_role("heading", level=1).inner_text()
        assert heading.startswith("Delete “Minutes of the annual general meeting")
        card = page.locator(".confirm").inner_text()
        assert f"documents/{LONG_NAME}, its attachment, 11.2 kB" in card
        assert "Kept: also used by Minutes (copy) (its attachment)." in card
        assert "Deleting cannot be undone." in card

        # Cancel goes back and keeps the document.
        page.get_by_role("link", name="Cancel").click()
        page.wait_for_url(base + "/documents/1")

        page.get_by_role("link", name="Delete this document…").click()
        page.get_by_role("button", name="Delete", exact=True).click()
        page.wait_for_url(base + "/")
        assert page.get_by_role("status").inner_text() == (
            "Deleted Minutes of the annual general meeting, with every motion voted. "
            f"Kept {LONG_NAME}: other documents use it."
        )
        titles = page.locator(".document .title").all_inner_texts()
        assert titles == ["Minutes (copy)", "Cover"]
        # The shared attachment is still there for the copy.
        page.goto(base + "/documents/3")
        download = page.get_by_role("link", name=f"Download {LONG_NAME}")
        href = urljoin(page.url, download.get_attribute("href"))
        assert page.request.get(href).body() == NOTES

        # The copy's own confirmation now deletes its file too.
        page.goto(base + "/documents/3/delete")
        assert "Kept" not in page.locator(".confirm").inner_text()
        assert "Its files go with it" in page.locator(".confirm").inner_text()
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_batch_with_a_refused_file_lists_the_documents_it_added(
    chromium: Any, example: str, viewport: dict[str, int]
) -> None:
    """Two files accepted and one refused: the refusal stays in view, and the
    list of documents shows the two new ones without a reload."""
    context = chromium.new_context(viewport=viewport)
    page = context.new_page()
    try:
        log_in(page, example)
        page.locator("form.fs-enhanced").wait_for()
        before = page.locator(".document .title").all_inner_texts()
        page.set_input_files(
            "input[type=file]",
            files=[
                {"name": "budget.csv", "mimeType": "text/csv", "buffer": b"a,b\n1,2\n"},
                {
                    "name": "tool.exe",
                    "mimeType": "application/octet-stream",
                    "buffer": b"MZ",
                },
                {
                    "name": "agenda.txt",
                    "mimeType": "text/plain",
                    "buffer": b"1. budget",
                },
            ],
        )
        summary = page.locator(".fs-summary")
        summary.wait_for()
        assert summary.inner_text() == "Added 2 files. 1 file refused, see above."
        titles = page.locator(".document .title")
        expect(titles).to_have_count(len(before) + 2)
        assert sorted(titles.all_inner_texts()[:2]) == ["agenda", "budget"]
        assert "tool.exe is not an allowed type" in page.inner_text(".fs-progress")
        assert_fits_and_passes_axe(page, "index after a mixed batch", viewport)
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_refused_upload_posted_without_the_script_says_why(
    chromium: Any, example: str, viewport: dict[str, int]
) -> None:
    """The form posted by the browser itself, as when Flask-Store's script
    does not load: the page comes back with the refusal in an alert that axe
    accepts, and nothing is added. (The script is blocked rather than
    JavaScript turned off: axe needs JavaScript.)"""
    context = chromium.new_context(viewport=viewport)
    context.route("**/flask_store*.js", lambda route: route.abort())
    page = context.new_page()
    try:
        log_in(page, example)
        before = page.locator(".document .title").all_inner_texts()
        page.set_input_files(
            "input[type=file]",
            files=[{"name": "tool.exe", "mimeType": "text/plain", "buffer": b"MZ"}],
        )
        page.get_by_role("button", name="Add documents").click()
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("tool.exe is not an allowed type")
        assert alert.get_by_role("listitem").count() == 1
        assert page.locator(".document .title").all_inner_texts() == before
        assert_fits_and_passes_axe(page, "index after a refused upload", viewport)
    finally:
        context.close()


@pytest.mark.parametrize("where", ["/", "/admin/files/"], ids=["documents", "admin"])
def test_an_upload_after_logging_out_elsewhere_says_so(
    chromium: Any, example: str, where: str
) -> None:
    """The page was left open until the session ended (here: its cookie is
    gone): the upload says to log in again instead of passing for a success."""
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        log_in(page, example)
        page.goto(example + where)
        page.locator("form.fs-enhanced").wait_for()
        context.clear_cookies()
        page.set_input_files(
            "input[type=file]",
            files=[{"name": "late.txt", "mimeType": "text/plain", "buffer": b"late"}],
        )
        alert = page.locator(".fs-progress [role=alert]")
        expect(alert).to_have_text(
            "You are not logged in any more (your session may have expired): "
            "log in again, then upload the files again. Nothing was stored."
        )
        assert page.url == example + where  # no reload hid the message
        assert page.locator(".fs-summary").inner_text() == (
            "Added 0 files. 1 file refused, see above."
        )
    finally:
        context.close()
