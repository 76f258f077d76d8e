"""The example app's Flask-Admin pages in Chromium, at a desktop and a phone size.

axe-core finds no violation on any page at ``/flask-admin/`` (the index,
the documents' list, create and edit forms, the file admin and its forms,
and the lists showing a flash message after a create, an edit and an
upload), and nothing is wider than a phone's
screen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import new_page, png
from .test_example_app_browser import (
    DESKTOP,
    PHONE,
    assert_passes_axe_and_fits,
    example,
    log_in,
)

pytest.importorskip("flask_admin")
pytestmark = pytest.mark.browser

__all__ = ["example"]  # the fixture, shared with the example app's other tests

ADMIN = "/flask-admin"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_flask_admin_page_passes_axe_and_fits(
    chromium: Any,
    example: str,
    console_errors: list[str],
    viewport: dict[str, int],
    tmp_path: Path,
) -> None:
    base = example
    context, page = new_page(chromium, console_errors, viewport)
    try:
        log_in(page, base)
        pages = [
            ("index", "/"),
            ("documents", "/document/"),
            ("new document", "/document/new/"),
            ("edit document", "/document/edit/?id=1"),
            ("edit document with an image", "/document/edit/?id=2"),
            ("files", "/store_files/"),
            ("upload a file", "/store_files/upload/"),
            ("new folder", "/store_files/mkdir/"),
            ("rename a file", "/store_files/rename/?path=images/cover.png"),
        ]
        for name, path in pages:
            response = page.goto(base + ADMIN + path)
            assert response is not None and response.status == 200, name
            expect(page.locator("main h1")).to_be_visible()
            assert_passes_axe_and_fits(page, name)

        # A flash message after creating a row, on the documents' list.
        page.goto(base + ADMIN + "/document/new/")
        page.get_by_label("Title").fill("Budget")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.get_by_text("Record was successfully created.")).to_be_visible()
        expect(page.get_by_role("cell", name="Budget", exact=True)).to_be_visible()
        assert_passes_axe_and_fits(page, "documents, with a flash message")

        # After saving an edit, on the documents' list.
        page.goto(base + ADMIN + "/document/edit/?id=2")
        page.get_by_label("Title").fill("Cover, second draft")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.get_by_text("Record was successfully saved.")).to_be_visible()
        expect(page.get_by_role("cell", name="Cover, second draft")).to_be_visible()
        assert_passes_axe_and_fits(page, "documents, after an edit")

        # And after uploading a file, on the file admin.
        upload = tmp_path / "agenda.png"
        upload.write_bytes(png())
        page.goto(base + ADMIN + "/store_files/upload/")
        page.locator("input[type=file]").set_input_files(str(upload))
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.get_by_text("Successfully saved file")).to_be_visible()
        expect(page.get_by_role("link", name="agenda.png", exact=True)).to_be_visible()
        assert_passes_axe_and_fits(page, "files, with a flash message")
    finally:
        context.close()
    assert console_errors == []
