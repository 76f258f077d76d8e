"""Property-based tests: whatever name or location a client sends, nothing is
written outside the store, nothing is overwritten, and every stored name is
safe on Linux, macOS and Windows and in a URL."""

from __future__ import annotations

import io
import os
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flask_store import Store, names, store_provider
from flask_store.exceptions import StorageError

from ..conftest import make_app

WINDOWS_FORBIDDEN = set('<>:"/\\|?*') | {chr(c) for c in range(32)}
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {
    f"{d}{n}" for d in ("COM", "LPT") for n in "0123456789¹²³"
}

# Names built from the parts attackers combine: separators, dots, controls,
# reserved device names, URL metacharacters and arbitrary Unicode.
hostile_names = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "..",
                ".",
                "/",
                "\\",
                "\x00",
                "%2e",
                "%2f",
                "CON",
                "nul",
                "lpt1",
                " ",
                "~",
                "#",
                "?",
                "%",
                "&",
                ":",
                "\u202e",
                "\ufeff",
                ".txt",
                "\n",
            ]
        ),
        st.text(min_size=1, max_size=20),
    ),
    max_size=12,
).map("".join)


def assert_safe_name(name: str) -> None:
    assert name
    assert len(name.encode()) <= names.MAX_NAME_BYTES
    assert unicodedata.normalize("NFC", name) == name
    assert not set(name) & WINDOWS_FORBIDDEN
    assert not any(unicodedata.category(c)[0] in "CZ" and c != " " for c in name)
    assert name not in (".", "..") and not name.startswith(".")
    assert not name.endswith((".", " "))
    assert name.split(".")[0].upper() not in WINDOWS_RESERVED
    assert unquote(names.url_path(name)) == "/" + name
    assert "/" not in names.url_path(name)[1:]


@settings(max_examples=500)
@given(hostile_names)
def test_secure_name_is_always_safe(name: str) -> None:
    assert_safe_name(names.secure_name(name))


@settings(max_examples=300)
@given(hostile_names)
def test_secure_name_is_stable(name: str) -> None:
    once = names.secure_name(name)
    if not once.startswith("file-"):
        assert names.secure_name(once) == once


@settings(max_examples=300)
@given(st.text(max_size=60))
def test_location_is_refused_or_stays_inside(location: str) -> None:
    try:
        cleaned = names.clean_location(location)
    except ValueError:
        return
    parts = cleaned.split("/") if cleaned else []
    assert ".." not in parts and "" not in parts
    assert not cleaned.startswith("/") and "\\" not in cleaned
    root = "/store/root"
    assert os.path.normpath(os.path.join(root, cleaned)).startswith(root)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    app = make_app(tmp_path_factory.mktemp("hostile"), STORE_FSYNC=False)
    Store(app)
    os.makedirs(app.config["STORE_PATH"])
    with app.app_context():
        yield app


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=hostile_names, location=st.one_of(st.none(), st.text(max_size=30)))
def test_saving_hostile_names_stays_inside_and_never_overwrites(
    app,
    name: str,
    location: str | None,  # type: ignore[no-untyped-def]
) -> None:
    root = Path(app.config["STORE_PATH"]).resolve()
    outside_before = set(root.parent.parent.iterdir())
    try:
        provider = store_provider()(
            io.BytesIO(b"payload"), filename=name, location=location
        )
    except ValueError:
        return
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    try:
        provider.save()
    except StorageError:
        # A file already has the location's name: refused, nothing changed.
        assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before
        return
    written = Path(provider.absolute_path).resolve()
    assert written.is_relative_to(root)
    assert written.read_bytes() == b"payload"
    assert_safe_name(provider.filename)
    # Every file that was there before is still there, unchanged.
    for path, data in before.items():
        assert path.read_bytes() == data
    assert written not in before
    assert set(root.parent.parent.iterdir()) == outside_before
