"""Who may use the admin, and that its CSRF check stands on its own.

Access: ``STORE_ADMIN_ACCESS`` is ``True``, or a callable (sync or async) that
returns exactly ``True``; anything else is a 403 and a logged warning. CSRF:
Flask-WTF's ``WTF_CSRF_ENABLED = False`` (an app's choice for its own forms)
never opens the admin to cross-site posts; only ``STORE_ADMIN_CSRF = False``.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request
from flask.testing import FlaskClient

from flask_store import Store
from flask_store.exceptions import NotConfiguredError
from flask_store.providers.base import store_state

from ..conftest import make_app
from .conftest import ADMIN, admin_app


async def async_yes() -> bool:
    return True


async def async_no() -> bool:
    return False


async def async_string() -> str:
    return "true"


def returns_a_coroutine() -> Any:
    return async_yes()  # never awaited by its caller


def from_header() -> bool:
    return request.headers.get("X-User") == "admin"


async def async_from_header() -> bool:
    return request.headers.get("X-User") == "admin"


class AsyncCheck:
    """An access check object whose ``__call__`` is ``async def``."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer

    async def __call__(self) -> Any:
        return self.answer


async def async_answer(answer: Any) -> Any:
    return answer


ALLOWED: list[tuple[str, Any]] = [
    ("True", True),
    ("lambda: True", lambda: True),
    ("async def returning True", async_yes),
    ("an object with async __call__ returning True", AsyncCheck(True)),
    ("a partial of an async def returning True", partial(async_answer, True)),
]

REFUSED: list[tuple[str, Any]] = [
    ("None", None),
    ("False", False),
    ('"false"', "false"),
    ("1", 1),
    ("lambda: 'false'", lambda: "false"),
    ("lambda: 1", lambda: 1),
    ("lambda: [True]", lambda: [True]),
    ("async def returning False", async_no),
    ("async def returning 'true'", async_string),
    ("a function returning a coroutine", returns_a_coroutine),
    ("an object with async __call__ returning 1", AsyncCheck(1)),
    ("a partial of an async def returning 'true'", partial(async_answer, "true")),
]

VIEWS = ["/", "/models", "/file/a.txt"]


def in_thread(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a request in a thread of its own, as a server does.

    Playwright's sync API (the browser tests, in the same process) keeps an
    event loop in the main thread, where asgiref refuses to run an async
    access check; a server's request threads have none.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call, *args, **kwargs).result()


@pytest.mark.parametrize(
    "setting", [s for _, s in ALLOWED], ids=[i for i, _ in ALLOWED]
)
def test_access_is_granted_only_by_true(tmp_path: Path, setting: Any) -> None:
    app = admin_app(tmp_path, STORE_ADMIN_ACCESS=setting)
    response = in_thread(app.test_client().get, ADMIN + "/")
    assert response.status_code == 200


@pytest.mark.parametrize("setting", ["false", "yes", 1, [True]])
def test_a_setting_of_the_wrong_type_is_refused_at_init_app(
    tmp_path: Path, setting: Any
) -> None:
    app = make_app(tmp_path, STORE_ADMIN_ACCESS=setting)
    with pytest.raises(NotConfiguredError, match="STORE_ADMIN_ACCESS must be"):
        Store(app)


@pytest.mark.parametrize(
    "setting", [s for _, s in REFUSED], ids=[i for i, _ in REFUSED]
)
def test_anything_else_is_a_403_and_a_logged_warning(
    tmp_path: Path, setting: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = admin_app(tmp_path, STORE_ADMIN_ACCESS=setting)
    client = app.test_client()
    for view in VIEWS:
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger=app.logger.name):
            response = in_thread(client.get, ADMIN + view)
        assert response.status_code == 403
        assert "STORE_ADMIN_ACCESS" in response.get_data(as_text=True)
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert f"GET {ADMIN}{view}" in warnings[0].getMessage()
        assert "not True" in warnings[0].getMessage()
    for view in ("/upload", "/delete", "/folder"):
        response = in_thread(
            client.post, ADMIN + view, data={"name": "x", "path": "a.txt"}
        )
        assert response.status_code == 403
    assert list(store_state(app).provider.iter_files(app=app)) == []


@pytest.mark.parametrize(
    "check", [from_header, async_from_header], ids=["sync", "async"]
)
def test_a_callable_decides_per_request(
    tmp_path: Path, check: Callable[[], Any]
) -> None:
    app = admin_app(tmp_path, STORE_ADMIN_ACCESS=check)
    client = app.test_client()
    admin = in_thread(client.get, ADMIN + "/", headers={"X-User": "admin"})
    assert admin.status_code == 200
    guest = in_thread(client.get, ADMIN + "/", headers={"X-User": "guest"})
    assert guest.status_code == 403
    assert in_thread(client.get, ADMIN + "/").status_code == 403


# -- CSRF ---------------------------------------------------------------------


def token(client: FlaskClient) -> str:
    page = client.get(ADMIN + "/").get_data(as_text=True)
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert found, "the admin rendered no CSRF token"
    return found.group(1)


def stored(app: Flask) -> set[str]:
    with app.app_context():
        return {f.path for f in store_state(app).provider.iter_files(app=app)}


def put(app: Flask, name: str) -> None:
    with app.app_context():
        store_state(app).provider(io.BytesIO(b"x"), filename=name).save()


def posts(client: FlaskClient, csrf: str | None) -> list[Any]:
    extra = {} if csrf is None else {"csrf_token": csrf}
    return [
        client.post(
            ADMIN + "/upload",
            data={"file": (io.BytesIO(b"new"), "new.txt"), **extra},
        ),
        client.post(ADMIN + "/folder", data={"name": "made", **extra}),
        client.post(
            ADMIN + "/delete", data={"path": "keep.txt", "confirmed": "yes", **extra}
        ),
    ]


def test_wtf_csrf_enabled_false_does_not_turn_off_the_admins_check(
    tmp_path: Path,
) -> None:
    app = admin_app(tmp_path, WTF_CSRF_ENABLED=False)
    put(app, "keep.txt")
    client = app.test_client()
    for response in posts(client, None):
        assert response.status_code == 400
        assert "security token (CSRF)" in response.get_data(as_text=True)
    assert stored(app) == {"keep.txt"}
    # With this session's token, each change goes through.
    for response in posts(client, token(client)):
        assert response.status_code == 302
    assert stored(app) == {"new.txt"}


def test_a_token_of_another_session_is_refused(tmp_path: Path) -> None:
    app = admin_app(tmp_path, WTF_CSRF_ENABLED=False)
    put(app, "keep.txt")
    stolen = token(app.test_client())
    for response in posts(app.test_client(), stolen):
        assert response.status_code == 400
    assert stored(app) == {"keep.txt"}


def test_store_admin_csrf_false_turns_it_off(tmp_path: Path) -> None:
    app = admin_app(tmp_path, STORE_ADMIN_CSRF=False)
    put(app, "keep.txt")
    client = app.test_client()
    page = client.get(ADMIN + "/").get_data(as_text=True)
    assert 'name="csrf_token"' not in page
    for response in posts(client, None):
        assert response.status_code == 302
    assert stored(app) == {"new.txt"}


def test_the_app_wide_switch_leaves_the_apps_own_forms_alone(tmp_path: Path) -> None:
    # WTF_CSRF_ENABLED still governs the app's forms (an UploadForm of its own).
    from flask_store.forms import UploadForm

    app = admin_app(tmp_path, WTF_CSRF_ENABLED=False)
    with app.test_request_context(method="POST"):
        assert "csrf_token" not in UploadForm(formdata=None)._fields
