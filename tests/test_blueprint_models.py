"""The admin's models page, and which rows use a file, with SQLAlchemy."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from flask_store import Store
from flask_store.blueprint import blueprint
from flask_store.providers.base import Provider
from flask_store.sqla import FlaskStoreType, init_session

from .conftest import make_app, upload

PREFIX = "/admin/files"

db = SQLAlchemy()


class Report(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "admin_report"
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(40))
    pdf = db.Column(FlaskStoreType(128, location="reports"))
    cover = db.Column(FlaskStoreType(128, location="covers"))


class Base(DeclarativeBase):
    pass


class Photo(Base):
    __tablename__ = "admin_photo"
    id: Mapped[int] = mapped_column(primary_key=True)
    caption: Mapped[str | None] = mapped_column(String(40))
    image: Mapped[Provider | None] = mapped_column(FlaskStoreType(128))


def admin_app(tmp_path: Any) -> Flask:
    app = make_app(tmp_path, STORE_ADMIN_ACCESS=True)
    Store(app)
    app.register_blueprint(blueprint, url_prefix=PREFIX)
    return app


@pytest.fixture
def fsa(tmp_path: Any) -> Iterator[Flask]:
    """An app using Flask-SQLAlchemy, with the admin mounted."""
    app = admin_app(tmp_path)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path}/admin.db"
    db.init_app(app)
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def body(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    return html.unescape(response.get_data(as_text=True))


def test_models_page_lists_rows_and_their_files(fsa: Flask) -> None:
    report = Report(
        title="Q1",
        pdf=upload(b"%PDF", "q1.pdf"),
        cover=upload(b"\x89PNG", "cover.png"),
    )
    db.session.add_all([report, Report(title="empty")])
    db.session.commit()
    page = body(fsa.test_client(), PREFIX + "/models")
    assert '<h2 id="model-Report-title">Report</h2>' in page
    assert '<th scope="col">pdf</th>' in page
    assert '<th scope="col">cover</th>' in page
    assert '<tr id="Report-1">' in page
    assert '<th scope="row">Report #1</th>' in page
    assert f'<a class="fs-name" href="{PREFIX}/file/reports/q1.pdf">' in page
    assert re.search(
        r'<img src="/_flask_store/variants/[^"]+" alt="" loading="lazy"', page
    )
    assert '<th scope="row">Report #2</th>' in page
    # The model from another registry, not in this app's database, is absent.
    assert "Photo" not in page


def test_models_page_is_paginated(fsa: Flask) -> None:
    db.session.add_all(
        [Report(title=f"r{i}", pdf=upload(b"x", f"r{i}.pdf")) for i in range(30)]
    )
    db.session.commit()
    client = fsa.test_client()
    first = body(client, PREFIX + "/models")
    rows = re.findall(r'<th scope="row">Report #(\d+)</th>', first)
    assert rows == [str(i) for i in range(1, 26)]
    link = re.search(r'rel="next" href="([^"]+)"', first)
    assert link is not None
    second = body(client, link.group(1))
    rows = re.findall(r'<th scope="row">Report #(\d+)</th>', second)
    assert rows == [str(i) for i in range(26, 31)]
    assert 'rel="next"' not in second
    assert 'rel="prev"' in second


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("?model=Report&page=0", 400, "page must be a whole number from 1"),
        ("?model=Report&page=x", 400, "page must be a whole number from 1"),
        ("?model=Nope", 404, "No model named Nope has file columns."),
    ],
)
def test_models_page_bad_arguments(
    fsa: Flask, query: str, status: int, message: str
) -> None:
    assert message in body(fsa.test_client(), PREFIX + "/models" + query, status)


def test_browse_shows_which_rows_use_a_file(fsa: Flask) -> None:
    db.session.add(Report(title="Q1", pdf=upload(b"%PDF", "q1.pdf")))
    db.session.commit()
    provider = fsa.extensions["store"].provider
    provider(io.BytesIO(b"x"), filename="unused.pdf", location="reports").save()
    page = body(fsa.test_client(), PREFIX + "/?folder=reports")
    assert (
        f'<a class="fs-chip" href="{PREFIX}/models?model=Report#Report-1">'
        "Report #1.pdf</a>" in page
    )
    assert page.count('class="fs-chip"') == 1


def test_delete_confirmation_warns_about_rows(fsa: Flask) -> None:
    db.session.add(Report(title="Q1", pdf=upload(b"%PDF", "q1.pdf")))
    db.session.commit()
    client = fsa.test_client()
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', body(client, PREFIX + "/")
    )
    assert token is not None
    response = client.post(
        PREFIX + "/delete",
        data={"csrf_token": token.group(1), "path": "reports/q1.pdf"},
    )
    page = html.unescape(response.get_data(as_text=True))
    assert "This file is used by:" in page
    assert "Report #1.pdf" in page


def test_plain_sqlalchemy_session(tmp_path: Any) -> None:
    app = admin_app(tmp_path)
    engine = create_engine(f"sqlite:///{tmp_path}/plain.db")
    Base.metadata.create_all(engine)
    factory = sessionmaker(engine)
    init_session(factory, app)
    try:
        with app.app_context():
            session = factory()
            session.add(Photo(caption="cat", image=upload(b"\x89PNG", "cat.png")))
            session.commit()
            session.close()
        client = app.test_client()
        page = body(client, PREFIX + "/models")
        assert '<th scope="row">Photo #1</th>' in page
        assert re.search(r'<img src="/_flask_store/variants/[^"]+"', page)
        assert "Report" not in page
        assert "Photo #1.image" in body(client, PREFIX + "/")
    finally:
        engine.dispose()


def test_models_page_without_a_database(tmp_path: Any) -> None:
    page = body(admin_app(tmp_path).test_client(), PREFIX + "/models")
    assert "No model with a FlaskStoreType column is in this app's database." in (
        re.sub(r"</?code>", "", page)
    )
