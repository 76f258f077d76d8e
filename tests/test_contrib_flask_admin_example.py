"""The example app's Flask-Admin views, driven as a user would."""

from __future__ import annotations

import html
import io

import pytest
from flask import Flask
from flask.testing import FlaskClient

from example_app.models import Document, db
from flask_store.state import current_state

from .test_example_app import PNG, app, clean_environment, client, csrf_token, log_in

# The example's tests' fixtures: its app and client, and the autouse one that
# keeps the environment out.
__all__ = ["app", "clean_environment", "client"]


@pytest.mark.parametrize(
    "url", ["/flask-admin/", "/flask-admin/document/", "/flask-admin/store_files/"]
)
def test_the_flask_admin_views_are_behind_the_login(
    client: FlaskClient, url: str
) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_a_document_is_created_with_its_files_and_listed(
    app: Flask, client: FlaskClient
) -> None:
    log_in(client)
    token = csrf_token(client.get("/flask-admin/document/new/").text)
    response = client.post(
        "/flask-admin/document/new/",
        data={
            "csrf_token": token,
            "title": "Paperwork",
            "attachment": (io.BytesIO(b"%PDF-1.7"), "form.pdf"),
            "image": (io.BytesIO(PNG), "scan.png"),
        },
    )
    assert response.status_code == 302, response.text
    listing = html.unescape(client.get("/flask-admin/document/").text)
    assert ">form.pdf</a>" in listing and ">scan.png</a>" in listing
    with app.app_context():
        document = db.session.scalars(db.select(Document)).one()
        assert document.attachment.relative_path == "documents/form.pdf"
        assert document.image.relative_path == "images/scan.png"
    files = html.unescape(client.get("/flask-admin/store_files/b/documents").text)
    assert "path=documents/form.pdf" in files

    # The file manager will not delete a file the document uses.
    token = csrf_token(files)
    client.post(
        "/flask-admin/store_files/delete/",
        data={"csrf_token": token, "path": "documents/form.pdf"},
    )
    page = html.unescape(client.get("/flask-admin/store_files/b/documents").text)
    # The row is named by its str(): the document's title.
    assert "rows use documents/form.pdf (Paperwork.attachment)" in page


def test_a_post_without_the_csrf_token_changes_nothing(
    app: Flask, client: FlaskClient
) -> None:
    log_in(client)
    response = client.post(
        "/flask-admin/document/new/",
        data={"title": "Forged", "attachment": (io.BytesIO(b"x"), "x.pdf")},
    )
    # Flask-Admin shows the form again (SecureForm's refusal names no field).
    assert response.status_code == 200
    assert 'value="Forged"' in response.text
    with app.app_context():
        assert db.session.scalars(db.select(Document)).all() == []
        assert list(current_state().backend.iter_files("")) == []
