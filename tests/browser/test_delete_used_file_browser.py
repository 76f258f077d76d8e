"""Deleting a file that rows use, in a real Chromium: the rows are named first.

With JavaScript the confirmation dialog names the rows, as the page without
JavaScript does; a row that started using the file after the page was shown
gets the confirmation page before anything is deleted.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Integer, create_engine
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker
from werkzeug.serving import make_server

from flask_store.providers.base import store_state
from flask_store.sqla import FlaskStoreType, init_session

from .conftest import build_app

pytestmark = pytest.mark.browser

ADMIN = "/admin/files/"


class Base(DeclarativeBase):
    pass


class Memo(Base):
    __tablename__ = "browser_memo"
    id = mapped_column(Integer, primary_key=True)
    file = mapped_column(FlaskStoreType(128))


@pytest.fixture
def live_db_app(tmp_path: Path) -> Iterator[tuple[Flask, str, sessionmaker[Session]]]:
    app = build_app(tmp_path)
    engine = create_engine(
        f"sqlite:///{tmp_path}/memos.db", connect_args={"check_same_thread": False}
    )
    Base.metadata.create_all(engine)
    factory = sessionmaker(engine)
    init_session(factory, app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}", factory
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        engine.dispose()


def put(app: Flask, name: str) -> str:
    with app.app_context():
        provider = store_state(app).provider(io.BytesIO(b"x"), "docs", filename=name)
        return provider.save().relative_path


def exists(app: Flask, path: str) -> bool:
    with app.app_context():
        return store_state(app).provider(path).exists()


def add_memo(app: Flask, factory: sessionmaker[Session], path: str) -> None:
    with app.app_context(), factory() as session:
        session.add(Memo(file=path))
        session.commit()


def test_the_confirmation_dialog_names_the_rows_using_the_file(
    live_db_app: tuple[Flask, str, sessionmaker[Session]], page: Any
) -> None:
    app, base, factory = live_db_app
    used = put(app, "report.txt")
    unused = put(app, "draft.txt")
    add_memo(app, factory, used)
    add_memo(app, factory, used)
    page.goto(base + ADMIN + "?folder=docs")

    messages: list[str] = []

    def dismiss(dialog: Any) -> None:
        messages.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Delete report.txt").click()
    page.wait_for_function("() => true")  # let the dialog handler run
    assert messages == [
        "Delete report.txt? This cannot be undone. It is used by 2 rows: "
        "Memo #1.file, Memo #2.file; they will point at a missing file."
    ]
    assert exists(app, used)

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Delete draft.txt").click()
    page.wait_for_function("() => true")
    assert messages[-1] == "Delete draft.txt? This cannot be undone."

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete report.txt").click()
    page.wait_for_selector(".fs-flash >> text=Deleted report.txt.")
    assert not exists(app, used)
    assert exists(app, unused)


def test_a_row_added_after_the_page_was_shown_gets_named_before_deleting(
    live_db_app: tuple[Flask, str, sessionmaker[Session]], page: Any
) -> None:
    app, base, factory = live_db_app
    path = put(app, "late.txt")
    page.goto(base + ADMIN + "?folder=docs")
    add_memo(app, factory, path)  # behind the page's back

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete late.txt").click()
    page.wait_for_selector("h1 >> text=Delete late.txt?")
    warning = page.locator(".fs-warning").inner_text()
    assert "This file is used by" in warning and "Memo #1.file" in warning
    assert exists(app, path)

    page.locator(".fs-confirm").get_by_role("button", name="Delete").click()
    page.wait_for_selector(".fs-flash >> text=Deleted late.txt.")
    assert not exists(app, path)


def test_without_javascript_the_confirmation_page_names_the_rows(
    live_db_app: tuple[Flask, str, sessionmaker[Session]], chromium: Any
) -> None:
    app, base, factory = live_db_app
    path = put(app, "plain.txt")
    add_memo(app, factory, path)
    context = chromium.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(base + ADMIN + "?folder=docs")
        page.get_by_role("button", name="Delete plain.txt").click()
        page.wait_for_selector("h1 >> text=Delete plain.txt?")
        assert "Memo #1.file" in page.locator(".fs-warning").inner_text()
        assert exists(app, path)
        page.locator(".fs-confirm").get_by_role("button", name="Delete").click()
        page.wait_for_selector(".fs-flash >> text=Deleted plain.txt.")
        assert not exists(app, path)
    finally:
        context.close()
