"""Stored XSS through file and folder names, in a real Chromium.

The admin is served without any Content-Security-Policy here, so escaping
alone must keep the names inert. Every payload calls back to ``/beacon`` (by
a script, an event handler, a link or a plain image) if it ever becomes
markup; hovering, following links and the delete confirmation must trigger
none of them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from flask import request
from werkzeug.serving import make_server

from flask_store.backends.memory import _Blob

from .conftest import ADMIN, admin_app

pytestmark = pytest.mark.browser

#: Relative beacon URLs keep most names free of "/", so they are file names;
#: the two with a "/" are folders (and a file inside them).
NAMES = [
    '"><img src="beacon?k=dq-img">',
    "'><img src='beacon?k=sq-img'>",
    '" onmouseover="fetch(\'beacon?k=dq-hover\')" x="',
    "' onmouseover='fetch(`beacon?k=sq-hover`)' x='",
    "<svg onload=fetch('beacon?k=svg')>",
    "javascript:fetch('beacon?k=js-url')",
    "\u2028';fetch('beacon?k=js-string');x='",
    "</script><script>fetch('beacon?k=script')</script>",
    "</textarea></title><img src=beacon?k=title>",
]


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, list[str], list[str]]]:
    """The open admin on a real server, with hostile names stored."""
    app = admin_app(tmp_path, "memory")
    beacons: list[str] = []

    @app.get(ADMIN + "/beacon")
    @app.get("/beacon")
    def beacon() -> str:
        beacons.append(request.args.get("k", "?"))
        return ""

    @app.get(ADMIN + "/unescaped")
    def unescaped() -> str:
        # The control: what a template marking names safe would produce.
        items = "".join(
            f'<li><a href="{name}" title="{name}">{name}</a></li>' for name in NAMES
        )
        return f"<!doctype html><ul>{items}</ul>"

    now = datetime.now(timezone.utc)
    leaves = []
    with app.app_context():
        files = app.extensions["store"].backend.files
        for name in NAMES:
            leaf = name.rpartition("/")[2] + ".txt"
            files[name + ".txt"] = _Blob(b"x", now)
            files[f"dir{len(leaves)}/{leaf}"] = _Blob(b"x", now)
            leaves.append(leaf)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", beacons, leaves
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


POKE = """() => {
    for (const element of document.querySelectorAll("body *")) {
        for (const type of ["mouseover", "mouseenter", "focus", "animationstart"]) {
            element.dispatchEvent(new MouseEvent(type, { bubbles: true }));
        }
    }
}"""


def poke(page: Any) -> None:
    """Point at every element, as a user moving the mouse around would."""
    page.evaluate(POKE)


def test_the_payloads_fire_when_names_are_not_escaped(
    chromium: Any, live: tuple[str, list[str], list[str]]
) -> None:
    base, beacons, _ = live
    context = chromium.new_context()
    page = context.new_page()
    try:
        page.goto(base + ADMIN + "/unescaped")
        poke(page)
        page.wait_for_timeout(300)
    finally:
        context.close()
    assert {"dq-img", "sq-img", "dq-hover", "svg", "title"} <= set(beacons)


def test_hostile_names_stay_text_in_the_browser(
    chromium: Any, live: tuple[str, list[str], list[str]]
) -> None:
    base, beacons, leaves = live
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    dialogs: list[tuple[str, str]] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append((dialog.type, dialog.message))
        dialog.dismiss()

    page.on("dialog", on_dialog)
    try:
        page.goto(base + ADMIN + "/?per_page=100")
        shown = page.locator("table .fs-name-text").all_inner_texts()
        for name in NAMES:
            assert name.partition("/")[0] + ("" if "/" in name else ".txt") in shown
        poke(page)
        # The delete confirmation names the file as plain text.
        button = page.get_by_role("button", name=f"Delete {NAMES[0]}.txt")
        button.click()
        page.wait_for_timeout(200)
        assert dialogs == [
            ("confirm", f"Delete {NAMES[0]}.txt? This cannot be undone.")
        ]
        # Into each folder, through its link, where the name is also a title.
        for index in range(len(NAMES)):
            page.goto(base + ADMIN + "/")
            page.get_by_role("link", name=f"dir{index}", exact=True).click()
            page.wait_for_load_state()
            assert page.locator("table .fs-name-text").all_inner_texts() == [
                leaves[index]
            ]
            poke(page)
        page.wait_for_timeout(300)
        assert beacons == []
        assert [kind for kind, _ in dialogs] == ["confirm"]
    finally:
        context.close()
