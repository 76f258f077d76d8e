"""A deletion deletes what was checked, and only that, even while others save.

A folder deletion (``flask store rm -r``, the admin's) deletes exactly the
files it checked, then only empty folders: a file saved into the folder
meanwhile stays, with its folder, and is reported. Orphan deletion and
``STORE_DELETE_ORPHANS`` check each file right before deleting it.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from flask_store.admin import changes
from flask_store.signals import file_deleted

from ..security.conftest import ADMIN
from .test_used_files import Invoice, app, on_disk, put, rm, use

__all__ = ["app"]  # the fixture

App = tuple[Flask, sessionmaker[Session]]


def rows(app: Flask, factory: sessionmaker[Session]) -> list[str]:
    with app.app_context(), factory() as session:
        return [r[0] for r in session.execute(text("SELECT pdf FROM used_invoice"))]


def test_rm_recursive_keeps_a_used_file_saved_while_it_deleted(app: App) -> None:
    flask_app, factory = app
    put(flask_app, "old1.txt", "reports")
    put(flask_app, "old2.txt", "reports")
    saved: list[str] = []

    def another_request(sender: Any, **_: Any) -> None:
        if not saved:  # an upload with its row, after the first deletion
            saved.append(put(flask_app, "invoice.pdf", "reports"))
            use(flask_app, factory, saved[0])

    with file_deleted.connected_to(another_request, flask_app):
        result: Any = rm(flask_app, "-r", "reports")

    assert result.exit_code == 1
    assert "deleted reports/old1.txt" in result.output
    assert "deleted folder reports" not in result.output
    assert (
        "Folder reports was not removed: it holds files saved into it after the "
        "check, which were kept: reports/invoice.pdf." in result.output
    )
    assert rows(flask_app, factory) == ["reports/invoice.pdf"]
    assert on_disk(flask_app, "reports/invoice.pdf")
    assert not on_disk(flask_app, "reports/old1.txt")
    assert not on_disk(flask_app, "reports/old2.txt")


def test_rm_recursive_json_names_what_it_kept(app: App) -> None:
    flask_app, _ = app
    put(flask_app, "old.txt", "reports")

    def another_request(sender: Any, **_: Any) -> None:
        if not on_disk(flask_app, "reports/new.txt"):
            put(flask_app, "new.txt", "reports")

    with file_deleted.connected_to(another_request, flask_app):
        result: Any = rm(flask_app, "-r", "--json", "reports")

    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["deleted"] == ["reports/old.txt"]
    assert report["folders"] == []
    assert report["kept"] == {"reports": ["reports/new.txt"]}


def test_admin_folder_deletion_keeps_a_file_saved_after_the_plan(
    app: App, monkeypatch: Any
) -> None:
    flask_app, factory = app
    put(flask_app, "old.txt", "reports")
    plan = changes.plan_folder_deletion

    def plan_then_upload(*args: Any) -> changes.FolderDeletion:
        planned = plan(*args)
        use(flask_app, factory, put(flask_app, "invoice.pdf", "reports"))
        return planned

    monkeypatch.setattr(changes, "plan_folder_deletion", plan_then_upload)
    response = flask_app.test_client().post(
        ADMIN + "/delete-folder",
        data={"folder": "reports", "confirmed": "yes", "count": "1"},
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 200
    assert response.json == {
        "deleted": ["reports/old.txt"],
        "deleted_folder": None,
        "kept": ["reports/invoice.pdf"],
        "message": "Folder reports was not removed: it holds files saved into "
        "it after the check, which were kept: reports/invoice.pdf.",
    }
    assert on_disk(flask_app, "reports/invoice.pdf")
    assert rows(flask_app, factory) == ["reports/invoice.pdf"]


def test_admin_folder_deletion_page_says_the_folder_stayed(
    app: App, monkeypatch: Any
) -> None:
    flask_app, _ = app
    put(flask_app, "old.txt", "reports")
    plan = changes.plan_folder_deletion

    def plan_then_upload(*args: Any) -> changes.FolderDeletion:
        planned = plan(*args)
        put(flask_app, "new.txt", "reports")
        return planned

    monkeypatch.setattr(changes, "plan_folder_deletion", plan_then_upload)
    response = flask_app.test_client().post(
        ADMIN + "/delete-folder",
        data={"folder": "reports", "confirmed": "yes", "count": "1"},
        follow_redirects=True,
    )

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Folder reports was not removed" in page
    assert "reports/new.txt" in page
    assert on_disk(flask_app, "reports/new.txt")


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
