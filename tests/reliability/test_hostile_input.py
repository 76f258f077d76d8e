"""Hostile input gets a 4xx with a message and leaves nothing behind.

Names and locations past the filesystem's limits (counted in bytes), digits
of other scripts in page arguments, hidden locations on every upload path, a
full disk, and durations past any clock: each is refused up front, plainly.
"""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.datastructures import FileStorage, MultiDict

from flask_store import names
from flask_store.exceptions import InsufficientStorage
from flask_store.forms import UploadForm
from flask_store.providers.base import store_state
from flask_store.spelling import split_stored_path

from ..security.conftest import ADMIN, admin_app

CJK_200 = "漢" * 200  # 200 characters, 600 bytes in UTF-8


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return admin_app(tmp_path, STORE_ADMIN_CSRF=False)


def everything_on_disk(app: Flask) -> list[str]:
    root = app.config["STORE_PATH"]
    found = []
    for folder, dirs, files in os.walk(root):
        found += [os.path.relpath(os.path.join(folder, d), root) for d in dirs]
        found += [os.path.relpath(os.path.join(folder, f), root) for f in files]
    return sorted(found)


def post_upload(app: Flask, location: str, *files: tuple[bytes, str], **kw: Any) -> Any:
    data = {"file": [(io.BytesIO(b), n) for b, n in files], "location": location}
    return app.test_client().post(ADMIN + "/upload", data=data, **kw)


# -- lengths in bytes ---------------------------------------------------------


def test_limits_are_counted_in_bytes() -> None:
    assert names.clean_location("漢" * 85) == "漢" * 85  # 255 bytes
    with pytest.raises(ValueError, match="765 bytes long"):
        names.clean_location("漢" * 255)  # 255 characters, 765 bytes
    with pytest.raises(ValueError, match="at most 255"):
        names.clean_location("ok/" + "漢" * 86)
    deep = "/".join(["漢" * 80] * 4)  # every part fits, the whole does not
    with pytest.raises(ValueError, match="at most 768"):
        names.clean_location(deep)
    with pytest.raises(ValueError, match="at most 255"):
        split_stored_path("docs/" + CJK_200 + ".txt")
    assert len(names.secure_name(CJK_200 + ".txt").encode()) <= 255
    # Whatever location passes, a saved name fits after it.
    longest = "/".join(["a" * 255, "b" * 255, "c" * 255])[: names.MAX_LOCATION_BYTES]
    location = names.clean_location(longest)
    split_stored_path(location + "/" + "d" * 255)


@pytest.mark.parametrize("as_json", [False, True], ids=["page", "json"])
def test_a_folder_name_too_long_in_bytes_is_a_400(app: Flask, as_json: bool) -> None:
    headers = {"Accept": "application/json"} if as_json else {}
    response = app.test_client().post(
        ADMIN + "/folder", data={"name": CJK_200}, headers=headers
    )
    assert response.status_code == 400
    message = response.json["error"] if as_json else response.get_data(as_text=True)
    assert "600 bytes long" in message
    assert everything_on_disk(app) == []


@pytest.mark.parametrize(
    "location",
    [CJK_200, "a/" + CJK_200, "/".join(["漢" * 80] * 4)],
    ids=["one part", "a deep part", "a deep path"],
)
def test_an_upload_location_too_long_is_a_400_and_creates_nothing(
    app: Flask, location: str
) -> None:
    response = post_upload(
        app, location, (b"x", "a.txt"), headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert "bytes long" in response.json["error"]
    page = post_upload(app, location, (b"x", "a.txt"))
    assert page.status_code == 400
    assert "bytes long" in page.get_data(as_text=True)
    assert everything_on_disk(app) == []


# -- digits -------------------------------------------------------------------

#: Arabic-Indic three, superscript two, circled one, double-struck eight,
#: Arabic-Indic thirty, one and Arabic-Indic zero, N'Ko one, superscript one
#: and zero: str.isdigit() is true for all of them (spelt as escapes).
NON_ASCII_DIGITS = [
    "\u0663",
    "\u00b2",
    "\u2460",
    "\U0001d7e0",
    "\u0663\u0660",
    "1\u0660",
    "\u07c1",
    "\u00b90",
]


@pytest.mark.parametrize("digits", NON_ASCII_DIGITS)
def test_non_ascii_digits_in_page_arguments_are_a_400(app: Flask, digits: str) -> None:
    client = app.test_client()
    for url, name in ((ADMIN + "/", "per_page"), (ADMIN + "/models", "page")):
        response = client.get(url, query_string={name: digits})
        assert response.status_code == 400, (url, digits)
        assert f"{name} must be a whole number" in response.get_data(as_text=True)
        as_json = client.get(
            url, query_string={name: digits}, headers={"Accept": "application/json"}
        )
        assert as_json.status_code == 400
        assert name in as_json.json["error"]


def test_a_huge_page_number_is_a_400(app: Flask) -> None:
    response = app.test_client().get(
        ADMIN + "/models", query_string={"page": "9" * 5000}
    )
    assert response.status_code == 400


# -- hidden locations -----------------------------------------------------------


@pytest.mark.parametrize("location", [".secret", "a/.b", ".git/hooks", "./.x"])
def test_hidden_locations_are_refused_on_every_upload_path(
    app: Flask, location: str
) -> None:
    refused = post_upload(
        app, location, (b"x", "a.txt"), headers={"Accept": "application/json"}
    )
    assert refused.status_code == 400
    assert "may not have a part starting with a dot" in refused.json["error"]
    folder = app.test_client().post(
        ADMIN + "/folder",
        data={"name": "x", "location": location},
        headers={"Accept": "application/json"},
    )
    assert folder.status_code == 400
    with app.test_request_context(method="POST"):
        form = UploadForm(
            formdata=MultiDict(
                [
                    ("file", FileStorage(io.BytesIO(b"x"), "a.txt")),
                    ("location", location),
                ]
            ),
            meta={"csrf": False},
        )
        assert not form.validate()
        assert "starting with a dot" in form.location.errors[0]
        with pytest.raises(ValueError, match="starting with a dot"):
            store_state(app).provider(FileStorage(io.BytesIO(b"x"), "a.txt"), location)
    assert everything_on_disk(app) == []


# -- a full disk ----------------------------------------------------------------


def fail_second_save(
    app: Flask, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    provider = store_state(app).provider
    real = provider._write
    calls = []

    def write(self: Any, stream: Any, candidates: list[str]) -> str:
        calls.append(candidates[0])
        if len(calls) == 2:
            raise error
        return real(self, stream, candidates)

    monkeypatch.setattr(provider, "_write", write)


@pytest.mark.parametrize(
    "error",
    [InsufficientStorage(), OSError(errno.ENOSPC, "No space left on device")],
    ids=["InsufficientStorage", "ENOSPC"],
)
@pytest.mark.parametrize("as_json", [False, True], ids=["page", "json"])
def test_a_full_disk_is_a_507_with_a_message_and_keeps_nothing(
    app: Flask, monkeypatch: pytest.MonkeyPatch, error: Exception, as_json: bool
) -> None:
    fail_second_save(app, monkeypatch, error)
    headers = {"Accept": "application/json"} if as_json else {}
    response = post_upload(
        app, "docs", (b"one", "one.txt"), (b"two", "two.txt"), headers=headers
    )
    assert response.status_code == 507
    message = response.json["error"] if as_json else response.get_data(as_text=True)
    assert "no room left" in message
    assert "nothing was stored" in message
    # The first file, saved before the disk filled up, is gone again.
    assert [p for p in everything_on_disk(app) if p.endswith(".txt")] == []


def test_no_room_for_a_new_folder_is_a_507(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(location: str) -> str:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store_state(app).backend, "create_folder", full)
    response = app.test_client().post(
        ADMIN + "/folder", data={"name": "new"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 507
    assert "no room left" in response.json["error"]


# -- durations ------------------------------------------------------------------


@pytest.mark.parametrize(
    "duration", ["99999999999w", "1" * 5000 + "s", "999999999999999999999d1s"]
)
@pytest.mark.parametrize("command", ["orphans", "check", "cleanup"])
def test_durations_of_any_size_are_a_usage_error(
    app: Flask, command: str, duration: str
) -> None:
    result = app.test_cli_runner().invoke(
        args=["store", command, "--older-than", duration]
    )
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--older-than'" in result.output
    assert "too long a duration" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
