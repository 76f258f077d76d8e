"""Image variants: provider.variant(...), rendered on first request, on every provider."""

from __future__ import annotations

import io
import re
import struct
import zlib
from typing import Any

import pytest
from flask import Flask
from PIL import Image

from flask_store import store_provider, variants
from flask_store.admin.browsing import THUMBNAIL, thumbnail_url
from flask_store.backends.base import PageQuery

from .conftest import make_app


def image_bytes(
    size: tuple[int, int] = (800, 600), fmt: str = "PNG", **save: Any
) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, fmt, **save)
    return out.getvalue()


def save(
    app: Flask, data: bytes, filename: str = "photo.png", location: str = "pics"
) -> Any:
    with app.app_context():
        return store_provider()(io.BytesIO(data), location, filename=filename).save()


def fetch(app: Flask, url: str) -> tuple[int, bytes, Any]:
    with app.test_client().get(url) as response:
        return response.status_code, response.data, response.headers


def test_a_variant_is_rendered_once_and_cached_for_good(
    storage: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = save(storage, image_bytes())
    with storage.app_context():
        variant = original.variant(200)
        url = variant.url
    rendered = []
    real_render = variants.render
    monkeypatch.setattr(
        variants, "render", lambda *a: rendered.append(1) or real_render(*a)
    )
    status, body, headers = fetch(storage, url)
    assert status == 200
    assert headers["Content-Type"] == "image/webp"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert headers["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(body)) as image:
        assert (image.format, image.size) == ("WEBP", (200, 150))
    assert fetch(storage, url)[1] == body
    assert rendered == [1]  # the second request sent the stored copy
    with storage.app_context():
        assert original.backend.exists(variant.relative_path)


def test_variants_stay_out_of_listings_and_the_serving_route(storage: Flask) -> None:
    original = save(storage, image_bytes())
    with storage.app_context():
        variant = original.variant(120, 120, fit="cover")
        variant.generate()
        backend = original.backend
        assert [f.path for f in backend.iter_files("")] == ["pics/photo.png"]
        assert [e.path for e in backend.list_folder("").entries] == ["pics"]
        by_size = backend.list_folder("", sort="-size").entries
        assert [e.path for e in by_size] == ["pics"]
    listed = storage.test_cli_runner().invoke(args=["store", "ls", "-r"])
    assert ".flask-store-variants" not in listed.output
    if storage.config["STORE_PROVIDER"].endswith("LocalProvider"):
        assert fetch(storage, "/uploads/" + variant.relative_path)[0] == 404


def test_deleting_the_original_deletes_its_variants(storage: Flask) -> None:
    original = save(storage, image_bytes())
    kept = save(storage, image_bytes(), filename="other.png")
    with storage.app_context():
        paths = [
            original.variant(100).generate(),
            original.variant(50, format="png").generate(),
        ]
        other = kept.variant(100).generate()
        original.delete()
        backend = original.backend
        assert [backend.exists(p) for p in paths] == [False, False]
        assert backend.exists(other)


@pytest.mark.parametrize(
    ("spec", "size"),
    [
        ({"width": 200}, (200, 150)),
        ({"height": 60}, (80, 60)),
        ({"width": 100, "height": 100}, (100, 75)),
        ({"width": 100, "height": 100, "fit": "cover"}, (100, 100)),
        ({"width": 2000}, (800, 600)),  # never enlarged
    ],
)
def test_sizes_and_fits(
    app: Flask, spec: dict[str, Any], size: tuple[int, int]
) -> None:
    original = save(app, image_bytes())
    with app.app_context(), original.variant(**spec).open() as stream:
        assert Image.open(stream).size == size


def test_exif_orientation_is_applied_and_metadata_stripped(app: Flask) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: rotate 90 degrees to show it
    exif[0x010F] = "Camera maker"
    original = save(app, image_bytes((400, 200), "JPEG", exif=exif), "turned.jpg")
    with app.app_context(), original.variant(100, format="jpeg").open() as stream:
        image = Image.open(stream)
        assert image.size == (100, 200)
        assert dict(image.getexif()) == {}


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"<html><script>alert(1)</script></html>", "page.png"),
        (image_bytes()[:200], "truncated.png"),
        (b"GIF89a<html><script>alert(1)</script>", "polyglot.gif"),
    ],
)
def test_what_is_not_an_image_is_refused_and_nothing_stored(
    app: Flask, data: bytes, name: str
) -> None:
    original = save(app, data, name)
    with app.app_context():
        variant = original.variant(100)
        url = variant.url
    status, body, _ = fetch(app, url)
    assert status == 415
    assert b"Not an image Flask-Store can resize" in body
    with app.app_context():
        assert not original.backend.exists(variant.relative_path)


def test_a_decompression_bomb_is_refused(app: Flask) -> None:
    # A valid PNG header claiming 30,000 x 30,000 pixels (900 million).
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + chunk(b"IEND", b"")
    )
    original = save(app, bomb, "bomb.png")
    with app.app_context():
        status, body, _ = fetch(app, original.variant(100).url)
    assert status == 415
    assert b"decompression bomb" in body.lower() or b"exceeds limit" in body


def test_forged_and_foreign_tokens_are_unknown(app: Flask, tmp_path: Any) -> None:
    original = save(app, image_bytes())
    with app.app_context():
        url = original.variant(100).url
    assert fetch(app, url[:-3] + "AAA")[0] == 404
    other = make_app(tmp_path / "other")
    other.secret_key = "another"
    from flask_store import Store

    Store(other)
    assert fetch(other, url)[0] == 404


def test_a_missing_original_is_a_404(app: Flask) -> None:
    original = save(app, image_bytes())
    with app.app_context():
        url = original.variant(100).url
        original.backend.delete(original.relative_path)
    status, body, _ = fetch(app, url)
    assert status == 404 and b"not stored" in body


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "width, its height or both"),
        ({"width": 0}, "from 1 to 4096"),
        ({"width": 5000}, "from 1 to 4096"),
        ({"width": 10, "format": "gif"}, "format is one of"),
        ({"width": 10, "fit": "stretch"}, "fit is one of"),
        ({"width": 10, "fit": "cover"}, "needs both"),
    ],
)
def test_impossible_options_are_refused(
    app: Flask, kwargs: dict[str, Any], message: str
) -> None:
    original = save(app, image_bytes())
    with app.app_context(), pytest.raises(ValueError, match=message):
        original.variant(**kwargs)


def test_absolute_url_follows_the_request_host(app: Flask) -> None:
    original = save(app, image_bytes())
    with app.test_request_context(base_url="https://example.org"):
        variant = original.variant(64)
        assert variant.absolute_url.startswith(
            "https://example.org/_flask_store/variants/"
        )
        assert variant.url.startswith("/_flask_store/variants/")


def test_docs_example_shows_variants(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from .docs_examples import run_example

    monkeypatch.chdir(tmp_path)
    module = run_example("variants", "docs_variants_example")
    try:
        app: Flask = module.app
        save(app, image_bytes((1280, 960)), "beach.png")
        client = app.test_client()
        page = client.get("/photos/pics/beach.png").get_data(as_text=True)
        urls = re.findall(r"/_flask_store/variants/[^\" ]+", page)
        assert len(urls) == 2
        for url, width in zip(urls, (320, 640), strict=True):
            with client.get(url) as response:
                assert Image.open(io.BytesIO(response.data)).width == width
    finally:
        sys.modules.pop("docs_variants_example", None)


def test_a_variant_its_format_cannot_encode_is_refused(app: Flask) -> None:
    # 20,000 pixels high: more than WebP encodes, and width=200 keeps it so.
    original = save(app, image_bytes((100, 20000)), "strip.png")
    with app.app_context():
        variant = original.variant(200)
        url = variant.url
    status, body, _ = fetch(app, url)
    assert status == 415
    assert b"A webp variant of this image cannot be made" in body
    with app.app_context():
        assert not original.backend.exists(variant.relative_path)
        png = original.variant(200, format="png")
        with png.open() as stream:
            assert Image.open(stream).size == (100, 20000)


def test_a_variants_url_stays_the_same_over_time(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    original = save(app, image_bytes())
    with app.app_context():
        first = original.variant(100).url
        later = time.time() + 3600
        monkeypatch.setattr(time, "time", lambda: later)
        assert original.variant(100).url == first
        assert original.variant(101).url != first
    assert fetch(app, first)[0] == 200


@pytest.mark.parametrize(
    ("size", "orientation", "spec", "decoded"),
    [
        ((4000, 3000), 1, variants.VariantSpec(400), (800, 600)),
        # Turned a quarter: the width asked for is the stored height.
        ((4000, 3000), 6, variants.VariantSpec(300), (800, 600)),
        ((4000, 3000), 1, variants.VariantSpec(100, 100), (200, 150)),
        # Cover fills the box: the shorter side decides.
        ((4000, 3000), 1, variants.VariantSpec(100, 100, fit="cover"), (267, 200)),
        # Never smaller than the image needs, never above its own size in effect.
        ((300, 200), 1, variants.VariantSpec(200), (400, 267)),
    ],
    ids=["width", "turned", "box", "cover", "small"],
)
def test_images_are_decoded_at_twice_the_variants_size(
    size: tuple[int, int],
    orientation: int,
    spec: variants.VariantSpec,
    decoded: tuple[int, int],
) -> None:
    assert variants.decoded_size(size, orientation, spec) == decoded


def test_a_variant_deleted_while_it_is_sent_is_made_again(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = save(app, image_bytes())
    with app.app_context():
        variant = original.variant(100)
        url = variant.url
        variant.generate()
    backend = app.extensions["store"].backend
    real_open = backend.open
    deleted = []

    def open_after_a_deletion(path: str) -> Any:
        if path == variant.relative_path and not deleted:
            deleted.append(path)
            backend.delete(path)  # another request deleted it meanwhile
        return real_open(path)

    monkeypatch.setattr(backend, "open", open_after_a_deletion)
    status, body, _ = fetch(app, url)
    assert status == 200 and deleted == [variant.relative_path]
    assert Image.open(io.BytesIO(body)).size == (100, 75)


EPS = (
    b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\n"
    b"newpath 0 0 moveto 100 100 lineto stroke\n%%EOF\n"
)


@pytest.mark.parametrize("name", ["drawing.eps", "drawing.png"])
def test_postscript_is_never_handed_to_ghostscript(
    app: Flask, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    from PIL import EpsImagePlugin

    called = []

    def ghostscript(*args: Any, **kwargs: Any) -> Any:
        called.append(args)
        raise OSError("Ghostscript was run")

    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", ghostscript)
    original = save(app, EPS, name)
    with app.app_context():
        url = original.variant(100).url
    status, body, _ = fetch(app, url)
    assert status == 415
    assert b"Not an image Flask-Store can resize" in body
    assert called == []
    assert "application/postscript" not in variants.readable_types()


def test_a_listing_entry_and_a_stat_give_one_version(storage: Flask) -> None:
    # The admin signs thumbnails from listing entries (no request per file);
    # the serving route checks them against a stat of the original.
    original = save(storage, image_bytes())
    with storage.app_context():
        (entry,) = original.backend.list_folder("pics").files
        url = thumbnail_url(entry, app=storage)
        assert url == variants.ImageVariant(original, THUMBNAIL).url
        assert url == thumbnail_url(original, app=storage)
        (walked,) = original.backend.iter_files("pics")
        assert variants.content_version(walked) == variants.content_version(entry)
    status, body, _ = fetch(storage, url)
    assert status == 200
    assert Image.open(io.BytesIO(body)).size == (80, 80)


def test_a_variant_is_stored_under_its_originals_version(storage: Flask) -> None:
    original = save(storage, image_bytes())
    with storage.app_context():
        variant = original.variant(100)
        version = variants.content_version(original.backend.stat("pics/photo.png"))
        assert variant.generate() == (
            f".flask-store-variants/pics/photo.png/{version}-100x-contain.webp"
        )


def test_a_missing_files_thumbnail_is_none(storage: Flask) -> None:
    # The models page shows a row's file that may be gone: no preview, no error.
    with storage.app_context():
        gone = store_provider()("pics/gone.png")
        assert thumbnail_url(gone, app=storage) is None


def test_the_url_of_a_missing_originals_variant_answers_404(storage: Flask) -> None:
    # A page may show a variant of a file that is gone: it renders, the
    # image answers 404, and nothing is stored.
    with storage.app_context():
        gone = store_provider()("pics/gone.png")
        url = gone.variant(100).url
    assert fetch(storage, url)[0] == 404
    save(storage, image_bytes(), filename="gone.png")
    assert fetch(storage, url)[0] == 404  # a URL made before it was stored
    with storage.app_context():
        backend = gone.backend
        listed = backend.list_page(
            variants.variants_location("pics/gone.png"), PageQuery()
        )
        assert listed.entries == []
