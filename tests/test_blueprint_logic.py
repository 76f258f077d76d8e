"""The admin's logic without requests: access, queries, page links, redirects."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest

from flask_store import admin
from flask_store.admin import BrowseQuery

from .docs_examples import example


@pytest.mark.parametrize(
    ("setting", "allowed"),
    [
        (None, False),
        (False, False),
        ("yes", False),  # only True itself opens the admin
        (1, False),
        (True, True),
        (lambda: True, True),
        (lambda: False, False),
        (lambda: None, False),
        (lambda: "false", False),  # truthy, but not True
        (lambda: 1, False),
    ],
)
def test_admin_allowed(setting: Any, allowed: bool) -> None:
    assert admin.admin_allowed(setting) is allowed


def test_docs_access_example() -> None:
    block = example("admin-access")
    app = Flask(__name__)
    exec(block, {"app": app, "request": request})
    assert app.config["STORE_ADMIN_ACCESS"] is True
    exec(block.splitlines()[0], {"app": app, "request": request})
    setting = app.config["STORE_ADMIN_ACCESS"]
    with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        assert admin.admin_allowed(setting)
    with app.test_request_context(environ_base={"REMOTE_ADDR": "10.0.0.8"}):
        assert not admin.admin_allowed(setting)


def test_query_from_args() -> None:
    query = BrowseQuery.from_args(
        MultiDict(
            [
                ("folder", "a//b/"),
                ("after", "x.txt"),
                ("back", ""),
                ("back", "m.txt"),
                ("per_page", "25"),
                ("q", "  report "),
            ]
        )
    )
    assert query == BrowseQuery("a/b", "x.txt", ("", "m.txt"), 25, "report")
    assert BrowseQuery.from_args(MultiDict()) == BrowseQuery()


@pytest.mark.parametrize(
    "args", [{"per_page": "-1"}, {"per_page": "1.5"}, {"folder": "/etc"}]
)
def test_bad_query_args(args: dict[str, str]) -> None:
    with pytest.raises(BadRequest):
        BrowseQuery.from_args(MultiDict(args))


def test_query_args_leave_defaults_out() -> None:
    assert BrowseQuery().args() == {}
    assert BrowseQuery("a", per_page=25, contains="x").args(after="k") == {
        "folder": "a",
        "after": "k",
        "per_page": 25,
        "q": "x",
    }


def make_store(tmp_path: Any, count: int) -> Flask:
    from flask_store import Store

    from .conftest import make_app

    app = make_app(
        tmp_path, STORE_PROVIDER="flask_store.providers.memory.MemoryProvider"
    )
    Store(app)
    with app.app_context():
        for i in range(count):
            app.extensions["store"].provider(
                io.BytesIO(b"x"), filename=f"{i:03}.txt"
            ).save()
    return app


def followed(args: dict[str, Any]) -> BrowseQuery:
    """The query a browser sends when it follows a link built from ``args``."""
    pairs = [
        (key, str(item))
        for key, value in args.items()
        for item in (value if isinstance(value, list) else [value])
    ]
    return BrowseQuery.from_args(MultiDict(pairs))


def test_browse_links(tmp_path: Any) -> None:
    app = make_store(tmp_path, 7)
    provider = app.extensions["store"].provider
    first = admin.browse(provider, BrowseQuery(per_page=3), app=app)
    assert [e.name for e in first.page.entries] == ["000.txt", "001.txt", "002.txt"]
    assert first.prev_args is None
    assert first.first_args is None
    assert first.next_args == {"after": "002.txt", "back": [""], "per_page": 3}

    second = admin.browse(provider, followed(first.next_args), app=app)
    assert [e.name for e in second.page.entries] == ["003.txt", "004.txt", "005.txt"]
    assert second.prev_args == {"per_page": 3}
    assert second.first_args is None  # the previous page is the first

    third = admin.browse(provider, followed(second.next_args), app=app)
    assert [e.name for e in third.page.entries] == ["006.txt"]
    assert third.next_args is None
    assert third.prev_args == {"after": "002.txt", "back": [""], "per_page": 3}
    assert third.first_args == {"per_page": 3}


def test_deep_pages_drop_old_cursors_but_keep_a_way_back(tmp_path: Any) -> None:
    assert admin.trim_back(["a" * 10] * 5, limit=40) == ("a" * 10,) * 2
    assert admin.trim_back(["", "b"], limit=100) == ("", "b")
    app = make_store(tmp_path, 3)
    provider = app.extensions["store"].provider
    # Arrived from a page whose own cursors were dropped: no previous page is
    # known, the first page is.
    lost = admin.browse(provider, BrowseQuery(after="000.txt", per_page=1), app=app)
    assert lost.prev_args is None
    assert lost.first_args == {"per_page": 1}


def test_breadcrumbs() -> None:
    assert admin.breadcrumbs("") == [("Files", "")]
    assert admin.breadcrumbs("a/b") == [("Files", ""), ("a", "a"), ("b", "a/b")]


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        (None, None),
        ("", None),
        ("/admin/files/?folder=a", "/admin/files/?folder=a"),
        ("relative/path", None),
        ("//evil.example/x", None),
        ("/\\evil.example", None),
        ("https://evil.example/", None),
        ("https://site.example/ok", "https://site.example/ok"),
        ("ftp://site.example/x", None),
        ("javascript:alert(1)", None),
        ("/ok\r\nSet-Cookie: x=1", None),
    ],
)
def test_safe_next(target: str | None, safe: str | None) -> None:
    assert admin.safe_next(target, "site.example") == safe
