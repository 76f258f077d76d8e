"""The example app's Flask-Admin views in a real headless Chromium."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from example_app import settings
from example_app.models import Document, db

from .browser.axe import violations
from .browser.conftest import CHROMIUM_ARGS, find_chromium, png
from .test_example_app import clean_environment, example

__all__ = ["clean_environment"]  # the example's tests' autouse fixture

#: Where Flask-Admin goes after saving a document (maybe with ``?page_size=``).
LIST_PAGE = re.compile(r"/flask-admin/document/(\?[^/]*)?$")


def drive_flask_admin(chromium: str, base: str, folder: Path) -> dict[str, Any]:
    """Log in, create a document with files, remove its image, try deleting
    its attachment in the file manager; report what the pages show."""
    from playwright.sync_api import sync_playwright

    seen: dict[str, Any] = {"errors": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS
        )
        page = browser.new_page()
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda exc: seen["errors"].append(str(exc)))
        seen["dialogs"] = []

        def confirm(dialog: Any) -> None:  # the delete confirmations
            seen["dialogs"].append(dialog.message)
            dialog.accept()

        page.on("dialog", confirm)

        page.goto(f"{base}/flask-admin/document/new/")
        page.fill("#username", "admin")
        page.fill("#password", settings.DEV_PASSWORD)
        page.click("button[type=submit]")
        page.fill("#title", "Paperwork")
        page.set_input_files("#attachment", folder / "form.pdf")
        page.set_input_files("#image", folder / "scan.png")
        page.click("input[type=submit][value=Save]")
        page.wait_for_url(LIST_PAGE)
        seen["links"] = sorted(page.locator("td a[rel=noopener]").all_inner_texts())

        page.click("a[title='Edit Record']")
        thumbnail = page.locator(".flask-store-current img")
        thumbnail.wait_for()
        page.wait_for_function(
            "() => document.querySelector('.flask-store-current img').complete"
        )
        seen["thumbnail_width"] = thumbnail.evaluate("i => i.naturalWidth")
        seen["current"] = page.locator(".flask-store-current").all_inner_texts()
        page.check("input[name=image-remove]")
        page.click("input[type=submit][value=Save]")
        page.wait_for_url(LIST_PAGE)
        seen["links_after_remove"] = page.locator(
            "td a[rel=noopener]"
        ).all_inner_texts()

        page.goto(f"{base}/flask-admin/store_files/b/documents")
        # Flask-Admin's own page has axe findings of its own; the row
        # actions Flask-Store renders each name their file.
        seen["unnamed_actions"] = [
            found
            for found in violations(page)
            if found.startswith(("button-name", "link-name"))
        ]
        seen["delete_titles"] = page.locator(
            "form[action$='/delete/'] button"
        ).evaluate_all("buttons => buttons.map(b => b.title)")
        page.locator("form[action$='/delete/'] button").first.click()
        page.wait_for_load_state()
        seen["flash"] = page.locator(".alert").all_inner_texts()
        browser.close()
    return seen


@pytest.mark.browser
def test_documents_and_files_in_flask_admin_in_chromium(tmp_path: Path) -> None:
    from werkzeug.serving import make_server

    chromium = find_chromium()
    (tmp_path / "form.pdf").write_bytes(b"%PDF-1.7")
    (tmp_path / "scan.png").write_bytes(png())
    app = example(tmp_path, STORE_DELETE_ORPHANS=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # Playwright's sync API refuses to start on a thread where another
        # instance runs: use a fresh one.
        with ThreadPoolExecutor(max_workers=1) as pool:
            seen = pool.submit(
                drive_flask_admin,
                chromium,
                f"http://127.0.0.1:{server.server_port}",
                tmp_path,
            ).result()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

    assert seen["errors"] == []
    assert seen["unnamed_actions"] == []
    assert seen["delete_titles"] == ["Delete form.pdf"]
    assert seen["dialogs"] == ["Delete 'form.pdf'?"]
    assert seen["links"] == ["form.pdf", "scan.png"]
    assert seen["thumbnail_width"] == 8
    assert any("scan.png (" in text for text in seen["current"])
    assert seen["links_after_remove"] == ["form.pdf"]
    assert any(
        "Nothing deleted: rows use documents/form.pdf (Paperwork.attachment)." in f
        for f in seen["flash"]
    ), seen["flash"]
    with app.app_context():
        document = db.session.scalars(db.select(Document)).one()
        assert document.image is None
        assert document.attachment.relative_path == "documents/form.pdf"
    uploads = Path(app.config["STORE_PATH"])
    assert (uploads / "documents" / "form.pdf").exists()
    assert not (uploads / "images" / "scan.png").exists()  # deleted after commit
