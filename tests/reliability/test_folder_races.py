"""A deletion deletes what was checked, and only that, even while others save.

Orphan deletion and ``STORE_DELETE_ORPHANS`` check each file right before
deleting it.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from flask_store.signals import file_deleted

from .test_used_files import Invoice, app, on_disk, put, use

__all__ = ["app"]  # the fixture

App = tuple[Flask, sessionmaker[Session]]


def rows(app: Flask, factory: sessionmaker[Session]) -> list[str]:
    with app.app_context(), factory() as session:
        return [r[0] for r in session.execute(text("SELECT pdf FROM used_invoice"))]


def test_orphans_delete_checks_each_file_right_before_deleting_it(app: App) -> None:
    flask_app, factory = app
    first = put(flask_app, "a.pdf", "inbox")
    second = put(flask_app, "b.pdf", "inbox")

    def another_request(sender: Any, **_: Any) -> None:
        if not rows(flask_app, factory):  # a row starts using the other orphan
            use(flask_app, factory, second)

    with file_deleted.connected_to(another_request, flask_app):
        result: Any = flask_app.test_cli_runner().invoke(
            args=["store", "orphans", "--delete", "--yes", "--older-than", "0s"]
        )

    assert result.exit_code == 0, result.output
    assert f"deleted {first}" in result.output
    assert f"kept {second}: a row uses it now" in result.output
    assert on_disk(flask_app, second)
    assert not on_disk(flask_app, first)


def test_delete_orphans_setting_checks_each_file_before_deleting_it(
    app: App,
) -> None:
    flask_app, factory = app
    flask_app.config["STORE_DELETE_ORPHANS"] = True
    first = put(flask_app, "a.pdf")
    second = put(flask_app, "b.pdf")
    with flask_app.app_context(), factory() as session:
        session.add_all([Invoice(pdf=first), Invoice(pdf=second)])
        session.commit()

    def another_request(sender: Any, **_: Any) -> None:
        if len(rows(flask_app, factory)) == 0:  # a new row for the second file
            use(flask_app, factory, second)

    with (
        file_deleted.connected_to(another_request, flask_app),
        flask_app.app_context(),
        factory() as session,
    ):
        for invoice in session.query(Invoice).all():
            session.delete(invoice)
        session.commit()

    assert rows(flask_app, factory) == [second]
    assert on_disk(flask_app, second)
    assert not on_disk(flask_app, first)
