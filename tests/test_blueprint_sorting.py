"""Sorting, paging and missing folders of the admin's index, on every backend.

The listing logic is checked without a request first (the cursors and the
order of a page), then through the test client on local, memory and S3
(moto), as a user sees it.
"""

from __future__ import annotations

import io
import re
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote

import pytest
from flask import Flask

from flask_store.backends.base import PageQuery, StoredFile, select_page
from flask_store.blueprint import blueprint
from flask_store.state import store_state

ADMIN = "/admin"


def stored(name: str, size: int | None = None, second: int = 0) -> StoredFile:
    modified = datetime.fromtimestamp(1_700_000_000 + second, tz=timezone.utc)
    if size is None:
        return StoredFile(name, is_folder=True, modified=modified)
    return StoredFile(name, size=size, modified=modified)


ENTRIES = [
    stored("b.txt", 30, second=1),
    stored("a.txt", 20, second=3),
    stored("docs"),
    stored("c.txt", 20, second=2),
    stored("archive"),
]


def all_pages(sort: str, limit: int) -> list[list[str]]:
    pages, after = [], None
    while True:
        page = select_page(ENTRIES, PageQuery(after=after, limit=limit, sort=sort))
        assert page.sort == sort
        pages.append([e.name for e in page.entries])
        if page.next_after is None:
            return pages
        after = page.next_after


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("name", ["a.txt", "archive", "b.txt", "c.txt", "docs"]),
        ("-name", ["docs", "c.txt", "b.txt", "archive", "a.txt"]),
        # Folders first, by name; then files, ties broken by name.
        ("size", ["archive", "docs", "a.txt", "c.txt", "b.txt"]),
        ("-size", ["docs", "archive", "b.txt", "c.txt", "a.txt"]),
        ("modified", ["archive", "docs", "b.txt", "c.txt", "a.txt"]),
        ("-modified", ["docs", "archive", "a.txt", "c.txt", "b.txt"]),
    ],
)
@pytest.mark.parametrize("limit", [1, 2, 5, 10])
def test_select_page_orders_and_pages(sort: str, order: list[str], limit: int) -> None:
    pages = all_pages(sort, limit)
    assert [name for page in pages for name in page] == order
    assert all(len(page) <= limit for page in pages)


@pytest.mark.parametrize(
    ("sort", "after"),
    [("size", "x"), ("size", "2:5:a"), ("modified", "1:-3:a"), ("-size", "1:")],
)
def test_malformed_cursor_is_refused(sort: str, after: str) -> None:
    with pytest.raises(ValueError, match="not a listing cursor"):
        select_page(ENTRIES, PageQuery(after=after, sort=sort))


@pytest.mark.parametrize("sort", ["", "date", "--size", "Size"])
def test_unknown_sort_is_refused(sort: str) -> None:
    with pytest.raises(ValueError, match="sort must be one of"):
        PageQuery(sort=sort)


# -- through the admin, on every backend ------------------------------------


def admin_client(app: Flask) -> Any:
    app.register_blueprint(blueprint, url_prefix=ADMIN)
    return app.test_client()


def shown(body: str) -> list[str]:
    return re.findall(r'<span class="fs-name-text">([^<]*)</span>', body)


def fill(app: Flask) -> None:
    backend = store_state(app).backend
    for name, size in [("b.txt", 3), ("a.txt", 1), ("c.txt", 2)]:
        backend.write(io.BytesIO(b"x" * size), [name])
        time.sleep(1.05)  # S3 keeps whole seconds
    backend.write(io.BytesIO(b"in a folder"), ["docs/readme.txt"])


@pytest.mark.store_config(STORE_ADMIN_ACCESS=True)
def test_sort_by_each_column(storage: Flask) -> None:
    fill(storage)
    client = admin_client(storage)
    expected = {
        "name": ["a.txt", "b.txt", "c.txt", "docs"],
        "-name": ["docs", "c.txt", "b.txt", "a.txt"],
        "size": ["docs", "a.txt", "c.txt", "b.txt"],
        "-size": ["docs", "b.txt", "c.txt", "a.txt"],
        "modified": ["docs", "b.txt", "a.txt", "c.txt"],
        "-modified": ["docs", "c.txt", "a.txt", "b.txt"],
    }
    for sort, order in expected.items():
        response = client.get(f"{ADMIN}/?sort={sort}")
        body = response.get_data(as_text=True)
        assert response.status_code == 200
        # The page shows folders first, then files, each in the asked order.
        folders = [n for n in order if n == "docs"]
        assert shown(body) == folders + [n for n in order if n != "docs"]
        key = sort.removeprefix("-")
        direction = "descending" if sort.startswith("-") else "ascending"
        assert re.search(
            rf'<th scope="col" class="[^"]*" aria-sort="{direction}">\s*'
            rf'<a class="fs-sort" href="[^"]*">{key.capitalize()}',
            body,
        )
        assert body.count("aria-sort=") == 1


@pytest.mark.store_config(STORE_ADMIN_ACCESS=True)
def test_header_link_reverses_the_active_sort(app: Flask) -> None:
    store_state(app).backend.write(io.BytesIO(b"x"), ["a.txt"])
    body = admin_client(app).get(f"{ADMIN}/?sort=size").get_data(as_text=True)
    assert 'href="/admin/?sort=-size"' in body
    assert 'href="/admin/?sort=modified"' in body
    assert 'href="/admin/"' in body  # name, the default, is left out


@pytest.mark.store_config(STORE_ADMIN_ACCESS=True)
def test_pages_keep_the_sort(storage: Flask) -> None:
    backend = store_state(storage).backend
    for i in range(7):
        backend.write(io.BytesIO(b"x" * (i * 7 % 5 + 1)), [f"f{i}.txt"])
    client = admin_client(storage)
    url, seen = f"{ADMIN}/?sort=-size&per_page=2", []
    while url:
        body = client.get(url).get_data(as_text=True)
        seen += shown(body)
        found = re.search(r'rel="next" href="([^"]+)"', body)
        url = found and found.group(1).replace("&amp;", "&")
        if url:
            assert "sort=-size" in url
    sizes = {f"f{i}.txt": i * 7 % 5 + 1 for i in range(7)}
    assert sorted(seen) == sorted(sizes)
    assert [sizes[n] for n in seen] == sorted(sizes.values(), reverse=True)


@pytest.mark.store_config(STORE_ADMIN_ACCESS=True, STORE_ADMIN_SORT_LIMIT=3)
def test_sort_past_the_limit(storage: Flask) -> None:
    backend = store_state(storage).backend
    for i in range(5):
        backend.write(io.BytesIO(b"x" * (5 - i)), [f"f{i}.txt"])
    body = admin_client(storage).get(f"{ADMIN}/?sort=size").get_data(as_text=True)
    if storage.config["STORE_PROVIDER"].endswith("S3Provider"):
        # S3 lists by name only: past the limit, the page says so.
        assert shown(body) == [f"f{i}.txt" for i in range(5)]
        assert "Listed by name, not by size" in body
        assert "STORE_ADMIN_SORT_LIMIT" in body
    else:
        assert shown(body) == [f"f{i}.txt" for i in reversed(range(5))]
        assert "Listed by name" not in body


@pytest.mark.store_config(STORE_ADMIN_ACCESS=True)
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("sort=date", "sort must be one of name, size, modified"),
        ("sort=size&after=nonsense", "not a listing cursor"),
    ],
)
def test_bad_sort_or_cursor_is_a_400(storage: Flask, query: str, message: str) -> None:
    client = admin_client(storage)
    response = client.get(f"{ADMIN}/?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    response = client.get(f"{ADMIN}/?{query}", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert message in response.json["error"]


@pytest.mark.store_config(STORE_ADMIN_ACCESS=True)
def test_missing_folder_is_a_404(storage: Flask) -> None:
    backend = store_state(storage).backend
    backend.write(io.BytesIO(b"x"), ["docs/a.txt"])
    backend.create_folder("empty")
    client = admin_client(storage)
    response = client.get(f"{ADMIN}/?folder=dosc")
    assert response.status_code == 404
    assert "There is no folder dosc in the store." in response.get_data(as_text=True)
    response = client.get(
        f"{ADMIN}/?folder=docs/nope", headers={"Accept": "application/json"}
    )
    assert response.status_code == 404
    assert response.json == {
        "error": "There is no folder docs/nope in the store.",
        "status": 404,
    }
    response = client.get(f"{ADMIN}/?folder=empty")
    assert response.status_code == 200
    assert "This folder is empty." in response.get_data(as_text=True)
    response = client.get(f"{ADMIN}/?folder=docs&q=zzz")
    assert response.status_code == 200
    assert "No names contain" in response.get_data(as_text=True)


@pytest.mark.store_config(STORE_ADMIN_ACCESS=True)
def test_root_of_an_empty_store_is_not_missing(app: Flask) -> None:
    response = admin_client(app).get(f"{ADMIN}/")
    assert response.status_code == 200
    assert "This folder is empty." in response.get_data(as_text=True)


@pytest.mark.store_config(STORE_ADMIN_ACCESS=True)
@pytest.mark.parametrize("sort", ["name", "-size"])
def test_paging_300_deep_keeps_urls_short(app: Flask, sort: str) -> None:
    # Long names of several-byte characters: each cursor costs ~700 bytes of URL.
    names = [f"{i:03}" + "é" * 120 + ".txt" for i in range(300)]
    backend = store_state(app).backend
    for name in names:
        backend.write(io.BytesIO(b"x"), [name])
    client = admin_client(app)
    url, seen, longest = f"{ADMIN}/?per_page=1&sort={sort}", [], 0
    while url:
        longest = max(longest, len(url.encode()))
        response = client.get(url)
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        seen += shown(body)
        found = re.search(r'rel="next" href="([^"]+)"', body)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert sorted(seen) == sorted(names)
    assert len(seen) == len(set(seen)) == 300
    assert longest < 4094
    # The last pages still link back: to the previous page and to the first.
    assert 'rel="prev"' in body
    assert re.search(r'href="([^"]+)">« First', body)
    previous = re.search(r'rel="prev" href="([^"]+)"', body)
    assert previous
    back = client.get(previous.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert shown(back) == [seen[-2]]
    assert unquote(previous.group(1)).count("back=") < 10
