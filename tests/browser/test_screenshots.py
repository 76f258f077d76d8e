"""Screenshots of the admin's pages, for people to look at.

Set ``FLASK_STORE_SCREENSHOTS`` to a folder to keep them; otherwise they go
to the test's temporary folder. The test also checks what a screenshot
cannot: nothing overflows a phone-width screen.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_store.sqla import FlaskStoreType

from .conftest import png

pytestmark = pytest.mark.browser

db = SQLAlchemy()


class Invoice(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "shots_invoice"
    id = db.Column(db.Integer, primary_key=True)
    customer = db.Column(db.String(40))
    pdf = db.Column(FlaskStoreType(128, location="invoices"))
    logo = db.Column(FlaskStoreType(128, location="logos"))


COLOURS = [(59, 91, 219), (230, 73, 128), (64, 192, 87), (250, 176, 5)]

#: A file name longer than a phone is wide, with hyphens to break at.
LONG_NAME = "quarterly-financial-statement-2026-final-reviewed-by-the-board.pdf"


def fill(app: Flask, tmp_path: Any) -> None:
    """A store that looks lived in: folders, images, documents, rows."""
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path}/shots.db"
    db.init_app(app)
    with app.app_context():
        db.create_all()
        provider = app.extensions["store"].provider

        def save(name: str, data: bytes, location: str = "") -> Any:
            return provider(io.BytesIO(data), filename=name, location=location).save()

        for folder in ("invoices", "logos", "reports"):
            provider.create_folder(folder)
        for i, colour in enumerate(COLOURS):
            save(f"photo-{i + 1}.png", png(48, 48, colour))
        save("annual-report-2026-final-version-approved.pdf", b"%PDF" + b"x" * 250_000)
        save("notes.txt", b"hello" * 40)
        save("data.csv", b"a,b\n" * 3000)
        save("archive.zip", b"PK" * 900_000)
        for i, customer in enumerate(["Acme", "Globex", "Initech"]):
            db.session.add(
                Invoice(
                    customer=customer,
                    pdf=save(f"invoice-{i + 1}.pdf", b"%PDF" * 300, "invoices"),
                    logo=save(
                        f"{customer.lower()}.png", png(32, 32, COLOURS[i]), "logos"
                    ),
                )
            )
        db.session.add(Invoice(customer="Hooli"))
        db.session.add(
            Invoice(
                customer="Vereinigte Übersetzungsdienstleistungsgesellschaft",
                pdf=save(LONG_NAME, b"%PDF" * 300, "invoices"),
            )
        )
        db.session.commit()
        # One row uses a file at the root, so the listing shows "Used by".
        invoice = db.session.get(Invoice, 1)
        invoice.logo = "photo-1.png"
        db.session.commit()
        db.session.remove()


def test_screenshots(chromium: Any, live_app: tuple[Flask, str], tmp_path: Any) -> None:
    app, base = live_app
    fill(app, tmp_path)
    keep = os.environ.get("FLASK_STORE_SCREENSHOTS")
    shots = Path(keep) if keep else tmp_path / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    for name, width, height, path in [
        ("browse-desktop", 1280, 900, "/admin/files/"),
        ("browse-phone", 390, 844, "/admin/files/"),
        ("folder-desktop", 1280, 700, "/admin/files/?folder=logos"),
        ("models-desktop", 1280, 800, "/admin/files/models"),
        ("models-phone", 390, 844, "/admin/files/models"),
    ]:
        context = chromium.new_context(viewport={"width": width, "height": height})
        try:
            page = context.new_page()
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0, f"{name} is {overflow}px wider than the screen"
            images = page.evaluate(
                "() => [...document.images].filter(i => i.loading !== 'lazy'"
                " || i.getBoundingClientRect().top < innerHeight)"
                ".every(i => i.complete && i.naturalWidth > 0)"
            )
            assert images, f"{name} has a broken image"
            target = shots / f"{name}.png"
            page.screenshot(path=str(target), full_page=True)
            assert target.stat().st_size > 10_000
        finally:
            context.close()
    # The page a refused user sees.
    app.config["STORE_ADMIN_ACCESS"] = None
    context = chromium.new_context(viewport={"width": 1024, "height": 640})
    try:
        page = context.new_page()
        response = page.goto(base + "/admin/files/")
        assert response.status == 403
        assert "STORE_ADMIN_ACCESS" in page.inner_text("main")
        page.screenshot(path=str(shots / "access-denied.png"))
    finally:
        context.close()


def test_models_page_on_a_phone(
    chromium: Any, live_app: tuple[Flask, str], tmp_path: Any
) -> None:
    """Rows are cards: paths break between words, never inside one, and
    the top bar wraps between its links, not inside them."""
    app, base = live_app
    fill(app, tmp_path)
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(base + "/admin/files/models")
        lines = page.evaluate(
            """() => [...document.querySelectorAll(".fs-model .fs-name-text")].map(e => {
                const height = parseFloat(getComputedStyle(e).lineHeight);
                return [e.textContent, Math.round(e.getBoundingClientRect().height / height),
                        e.getBoundingClientRect().right <= innerWidth];
            })"""
        )
        by_path = {path: (count, inside) for path, count, inside in lines}
        assert by_path["invoices/invoice-1.pdf"] == (1, True)
        assert by_path["logos/globex.png"] == (1, True)
        count, inside = by_path[f"invoices/{LONG_NAME}"]
        assert inside and 2 <= count <= 3
        # Each column's name labels its value, as the header does on a desktop.
        label = page.locator(".fs-model td[data-label='pdf']").first
        assert label.evaluate("e => getComputedStyle(e, '::before').content") == '"pdf"'
        for link in ["Flask-Store", "Files", "Models"]:
            box = (
                page.locator(".fs-topbar").get_by_role("link", name=link).bounding_box()
            )
            assert box is not None and box["height"] < 40, link
    finally:
        context.close()
