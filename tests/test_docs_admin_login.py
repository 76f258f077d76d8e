"""The README's file admin behind Flask-Login, run as it is written there."""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_login import login_user

from .docs_examples import ROOT, example, run_example


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.chdir(tmp_path)  # the app's root and instance folder
    monkeypatch.delitem(sys.modules, "readme_admin_login", raising=False)
    yield run_example("readme-admin-login", "readme_admin_login")
    sys.modules.pop("readme_admin_login", None)


def logged_in_as(module: ModuleType, name: str | None) -> FlaskClient:
    """A client of the example's app, logged in as ``name`` (not at all: ``None``).

    The login goes through Flask-Login's ``login_user``, as the app's own
    login view would call it.
    """
    app: Flask = module.app
    if "test_login" not in app.view_functions:

        @app.post("/test-login/<name>")
        def test_login(name: str) -> str:
            login_user(module.USERS[name])
            return "ok"

    client = app.test_client()
    if name is not None:
        assert client.post(f"/test-login/{name}").text == "ok"
    return client


def test_only_admins_get_the_file_admin(module: ModuleType) -> None:
    anonymous = logged_in_as(module, None).get("/admin/files/")
    assert anonymous.status_code == 403
    assert "STORE_ADMIN_ACCESS" in anonymous.text
    assert logged_in_as(module, "bob").get("/admin/files/").status_code == 403
    assert logged_in_as(module, "ada").get("/admin/files/").status_code == 200


def test_the_admin_works_for_an_admin(module: ModuleType) -> None:
    client = logged_in_as(module, "ada")
    page = client.get("/admin/files/").text
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert token, "the admin page has no CSRF token"
    response = client.post(
        "/admin/files/upload",
        data={"csrf_token": token.group(1), "file": (io.BytesIO(b"hi"), "hello.txt")},
    )
    assert response.status_code in (302, 303), response.text
    assert "hello.txt" in client.get("/admin/files/").text
    with module.app.app_context():
        assert module.store.Provider("hello.txt").read() == b"hi"


def test_the_readme_says_what_to_install_and_stays_short() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install Flask-Login" in readme
    assert len(readme.splitlines()) < 200
    # The quick start's two commands, unchanged.
    assert (
        '```sh\npip install -e ".[all]" && flask --app example_app run\n```' in readme
    )
    assert '```sh\npip install -e ".[all,test]" && pytest\n```' in readme
    code = example("readme-admin-login")
    for needed in ("LoginManager(app)", "@login_manager.user_loader", "is_admin"):
        assert needed in code
