"""Setting the admin up: SECRET_KEY, the link back to the app, row labels."""

from __future__ import annotations

import html
import os
from typing import Any

import pytest
from flask import Flask

from flask_store import Store
from flask_store.blueprint import blueprint
from flask_store.exceptions import NotConfiguredError
from flask_store.sqla import FlaskStoreType

from .conftest import make_app
from .test_blueprint_models import PREFIX, db, fsa

__all__ = ["fsa"]  # the fixture: an app on Flask-SQLAlchemy, the admin mounted


class Invoice(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "setup_invoice"
    id = db.Column(db.Integer, primary_key=True)
    number = db.Column(db.String(40))
    scan = db.Column(FlaskStoreType(128))

    def __str__(self) -> str:
        return f"Invoice {self.number}"


class Receipt(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "setup_receipt"
    id = db.Column(db.Integer, primary_key=True)
    scan = db.Column(FlaskStoreType(128))


def test_admin_without_secret_key_fails_at_setup(tmp_path: Any) -> None:
    app = make_app(tmp_path, STORE_ADMIN_ACCESS=True)
    app.config["SECRET_KEY"] = None
    Store(app)
    with pytest.raises(NotConfiguredError, match="SECRET_KEY"):
        app.register_blueprint(blueprint, url_prefix=PREFIX)


def admin_app(tmp_path: Any, **config: Any) -> Flask:
    app = make_app(tmp_path, STORE_ADMIN_ACCESS=True, **config)
    Store(app)
    app.register_blueprint(blueprint, url_prefix=PREFIX)
    return app


def page(app: Flask, url: str = PREFIX + "/") -> str:
    response = app.test_client().get(url)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def test_no_back_link_by_default(tmp_path: Any) -> None:
    assert "Back to the app" not in page(admin_app(tmp_path))


@pytest.mark.parametrize("target", ["/", "https://example.com/home"])
def test_back_link_to_a_url(tmp_path: Any, target: str) -> None:
    body = page(admin_app(tmp_path, STORE_ADMIN_BACK_URL=target))
    assert f'<a class="fs-back" href="{target}">← Back to the app</a>' in body


def test_back_link_to_an_endpoint(tmp_path: Any) -> None:
    app = admin_app(tmp_path, STORE_ADMIN_BACK_URL="home")
    app.add_url_rule("/start", "home", lambda: "home")
    assert '<a class="fs-back" href="/start">' in page(app)
    assert '<a class="fs-back" href="/start">' in page(app, PREFIX + "/models")


def test_back_link_to_a_missing_endpoint_is_logged(
    tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = admin_app(tmp_path, STORE_ADMIN_BACK_URL="nowhere")
    assert "Back to the app" not in page(app)
    assert "STORE_ADMIN_BACK_URL 'nowhere' is neither a URL nor an endpoint" in (
        caplog.text
    )


def test_rows_are_labelled_by_their_str(fsa: Flask) -> None:
    db.session.add(Invoice(number="2024-017", scan="scan.pdf"))
    db.session.add(Receipt(scan="scan.pdf"))
    db.session.commit()
    os.makedirs(fsa.config["STORE_PATH"], exist_ok=True)
    with open(f"{fsa.config['STORE_PATH']}/scan.pdf", "wb") as f:
        f.write(b"%PDF")
    models = page(fsa, PREFIX + "/models")
    assert '<th scope="row">Invoice 2024-017</th>' in models
    assert '<th scope="row">Receipt #1</th>' in models  # no __str__ of its own
    files = page(fsa)
    assert "Invoice 2024-017.scan" in files
    assert "Receipt #1.scan" in files
