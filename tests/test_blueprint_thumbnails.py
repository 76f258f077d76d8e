"""The admin's image previews are small variants at signed URLs, for every
provider; without Pillow, or for what Pillow cannot read, they are as before."""

from __future__ import annotations

import html
import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from flask_store import variants
from flask_store.admin import browsing
from flask_store.blueprint import blueprint

from .hostile_files import HTML, image

PREFIX = "/admin/files"


@pytest.fixture
def admin(storage: Flask) -> Flask:
    storage.config["STORE_ADMIN_ACCESS"] = True
    storage.register_blueprint(blueprint, url_prefix=PREFIX)
    return storage


def save(app: Flask, name: str, data: bytes, location: str = "") -> str:
    provider = app.extensions["store"].provider
    saved = provider(io.BytesIO(data), location, filename=name).save()
    return str(saved.relative_path)


def previews(client: FlaskClient, url: str = PREFIX + "/") -> dict[str, str | None]:
    """Each file row's name and its preview's ``src`` (None for an icon)."""
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    found = {}
    for row in re.findall(r'<tr class="fs-file-row">(.*?)</tr>', page, re.DOTALL):
        name = re.search(r'<span class="fs-name-text">([^<]+)</span>', row)
        src = re.search(r'<span class="fs-thumb"><img src="([^"]+)"', row)
        assert name is not None
        found[html.unescape(name.group(1))] = (
            html.unescape(src.group(1)) if src else None
        )
    return found


def fetch_image(client: FlaskClient, url: str) -> tuple[str, tuple[int, int], str]:
    with client.get(url) as response:
        assert response.status_code == 200, response.get_data(as_text=True)
        picture = Image.open(io.BytesIO(response.data))
        return picture.format or "", picture.size, response.headers["Cache-Control"]


def test_image_previews_are_small_variants(admin: Flask) -> None:
    save(admin, "beach.jpg", image("JPEG", 800, 600))
    save(admin, "scan.tiff", image("TIFF", 300, 900))
    save(admin, "notes.txt", b"words")
    save(admin, "logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>')
    client = admin.test_client()
    found = previews(client)
    assert found["notes.txt"] is None  # an icon
    assert found["logo.svg"] is None  # Pillow reads no SVG: an icon
    for name in ("beach.jpg", "scan.tiff"):
        src = found[name]
        assert src is not None and src.startswith("/_flask_store/variants/")
        assert fetch_image(client, src) == (
            "WEBP",
            (80, 80),
            "public, max-age=31536000, immutable",
        )
    # The same URL on the next visit: browsers keep the thumbnail.
    assert previews(client)["beach.jpg"] == found["beach.jpg"]
    # The variants stay out of the listing they illustrate.
    assert sorted(previews(client)) == [
        "beach.jpg",
        "logo.svg",
        "notes.txt",
        "scan.tiff",
    ]


def test_without_pillow_previews_show_the_file(
    admin: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(variants, "readable_types", frozenset)
    save(admin, "beach.png", image("PNG", 800, 600))
    save(admin, "scan.tiff", image("TIFF", 30, 90))
    found = previews(admin.test_client())
    assert found == {"beach.png": f"{PREFIX}/file/beach.png", "scan.tiff": None}


def test_a_page_named_as_an_image_gets_no_thumbnail_it_could_run(admin: Flask) -> None:
    save(admin, "page.png", HTML)
    client = admin.test_client()
    src = previews(client)["page.png"]
    assert src is not None
    with client.get(src) as response:
        assert response.status_code == 415
        assert b"<script" not in response.data
    assert sorted(previews(client)) == ["page.png"]


def test_the_delete_confirmation_shows_the_thumbnail(tmp_path: Any) -> None:
    from .conftest import make_app

    app = make_app(tmp_path, STORE_ADMIN_ACCESS=True, STORE_ADMIN_CSRF=False)
    app.config["WTF_CSRF_ENABLED"] = False
    from flask_store import Store

    Store(app)
    app.register_blueprint(blueprint, url_prefix=PREFIX)
    with app.app_context():
        path = save(app, "cat.png", image("PNG", 200, 100), "pets")
    client = app.test_client()
    response = client.post(PREFIX + "/delete", data={"path": path})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    src = re.search(
        r'<p class="fs-confirm-file"><span class="fs-thumb"><img src="([^"]+)"', page
    )
    assert src is not None
    assert fetch_image(client, html.unescape(src.group(1)))[:2] == ("WEBP", (80, 80))


def test_thumbnail_url_without_a_request(app: Flask) -> None:
    provider = app.extensions["store"].provider
    saved = provider(io.BytesIO(image()), filename="a.png").save()
    url = browsing.thumbnail_url(saved, app=app)
    assert url == saved.variant(80, 80, fit="cover").url
    assert browsing.thumbnail_url(provider("a.txt"), app=app) is None


@pytest.mark.store_config(
    STORE_EAGER_VARIANTS=[{"width": 80, "height": 80, "fit": "cover"}]
)
def test_thumbnails_listed_in_eager_variants_are_made_at_upload(
    admin: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    save(admin, "beach.png", image("PNG", 800, 600))
    monkeypatch.setattr(variants, "render", pytest.fail)
    client = admin.test_client()
    src = previews(client)["beach.png"]
    assert src is not None
    assert fetch_image(client, src)[:2] == ("WEBP", (80, 80))
