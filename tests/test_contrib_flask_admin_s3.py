"""StoreFileAdmin on S3 never lists a whole folder for one check.

Flask-Admin's own S3 storage lists the whole parent prefix to answer "is it
a folder?" and "does it exist?"; here each answer is one bounded request, and
a listing page asks for one page of keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_admin import Admin

from flask_store.contrib.flask_admin import StoreFileAdmin

from .contrib.flask_admin_support import admin_app
from .s3_support import Requests, raw_client

#: More keys than one ListObjectsV2 page (1000) holds.
KEYS = 1100


@pytest.fixture
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    with admin_app("s3-mock", tmp_path, request) as app:
        raw = raw_client()
        for n in range(KEYS):
            raw.put_object(Bucket="test-bucket", Key=f"big/f{n:04}.txt", Body=b"x")
        Admin(app).add_view(StoreFileAdmin(name="Files", endpoint="files"))
        yield app


def listings(requests: Requests) -> list[int]:
    """The MaxKeys of each ListObjectsV2 call made."""
    return [
        p.get("MaxKeys", 1000) for op, p in requests.params if op == "ListObjectsV2"
    ]


def test_one_bounded_listing_per_check(app: Flask) -> None:
    client = app.test_client()
    for url, made in [
        # The view checks twice that the path exists: each check is a HEAD,
        # then for a folder one list of at most one key.
        ("/admin/files/rename/?path=big", [1, 1]),
        ("/admin/files/rename/?path=big/f0500.txt", []),
        # A folder's page: the check, then one page of keys.
        ("/admin/files/b/big", [1, StoreFileAdmin.page_size + 2]),
    ]:
        requests = Requests(app)
        response = client.get(url)
        assert response.status_code == 200, response.text
        assert listings(requests) == made, url


def test_the_listing_pages_through_a_folder(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/admin/files/b/big").text
    assert "path=big/f0000.txt" in page and "path=big/f0199.txt" in page
    assert "path=big/f0200.txt" not in page
    assert 'rel="next" href="/admin/files/b/big?after=f0199.txt"' in page
    page = client.get("/admin/files/b/big?after=f0199.txt").text
    assert "path=big/f0200.txt" in page and "path=big/f0199.txt" not in page
