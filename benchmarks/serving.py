"""Serving: the Flask-Store route against Flask's ``send_from_directory``."""

from __future__ import annotations

import os
import shutil
import time
from typing import Any

from flask import Flask, send_from_directory

from flask_store import Store

from .core import (
    Measure,
    MiB,
    Row,
    Section,
    Settings,
    Variant,
    compare,
    rate,
    size_label,
    write_random,
)

METHOD = """\
Requests go through Flask's test client (no network, so the route's own cost
is what differs): `GET /uploads/<path>` (Flask-Store's serving route, with
its path checks, ETag and security headers) against a route returning
`send_from_directory(STORE_PATH, path)` for the same files. Small files are
1 KiB text files; the large file is read to the end in the chunks the WSGI
layer yields. The conditional GET sends the file's ETag in `If-None-Match`
(both answer 304); the Range request asks for 1 KiB in the middle (206).
Request rates are medians over many rounds of 200 requests, alternating ours
and the baseline, timed in CPU seconds of the benchmark process (client and
app share it), which other load on the machine barely disturbs."""


def make_app(root: str) -> Flask:
    app = Flask("bench", instance_path=os.path.join(root, "instance"))
    app.config["STORE_PATH"] = os.path.join(root, "uploads")
    Store(app)

    @app.get("/plain/<path:filename>")
    def plain(filename: str) -> Any:
        return send_from_directory(app.config["STORE_PATH"], filename)

    return app


def requests(client: Any, url: str, count: int, status: int, **headers: str) -> Variant:
    def run() -> None:
        for _ in range(count):
            response = client.get(url, headers=headers, buffered=False)
            for _chunk in response.response:
                pass
            response.close()
            if response.status_code != status:
                raise RuntimeError(f"GET {url} answered {response.status_code}")

    return Variant(url, run)


def run(settings: Settings) -> Section:
    section = Section("serving", "Serving", METHOD)
    root = os.path.join(settings.workdir, "serving")
    os.makedirs(root)
    try:
        app = make_app(root)
        uploads = app.config["STORE_PATH"]
        os.makedirs(os.path.join(uploads, "docs"))
        small = os.urandom(1024).hex()[:1024].encode()
        for i in range(100):
            with open(os.path.join(uploads, "docs", f"note{i}.txt"), "wb") as f:
                f.write(small)
        size = settings.size(256 * MiB, 2 * MiB)
        write_random(os.path.join(uploads, "docs", "big.bin"), size)
        client = app.test_client()
        # Each route has its own ETag for the file (ours comes from the
        # descriptor it opened): each is asked with its own.
        etags = {
            route: client.get(f"/{route}/docs/big.bin").headers["ETag"]
            for route in ("uploads", "plain")
        }
        mid = size // 2
        # Many short rounds, alternating ours and the baseline, so a burst of
        # load on the machine hits both alike.
        count = settings.count(200, 20)
        big_count = 1
        rounds = settings.count(max(15, 3 * settings.repeats), 1)
        cases: list[tuple[str, str, int, int, dict[str, str], str]] = [
            ("small file (1 KiB)", "docs/note7.txt", count, 200, {}, "req/s"),
            (
                f"large file ({size_label(size)})",
                "docs/big.bin",
                big_count,
                200,
                {},
                "MiB/s",
            ),
            (
                "conditional GET",
                "docs/big.bin",
                count,
                304,
                {"If-None-Match": "{etag}"},
                "req/s",
            ),
            (
                "Range request",
                "docs/big.bin",
                count,
                206,
                {"Range": f"bytes={mid}-{mid + 1023}"},
                "req/s",
            ),
        ]
        for case, path, n, status, headers, unit in cases:
            variants = [
                requests(
                    client,
                    f"/{route}/{path}",
                    n,
                    status,
                    **{k: v.format(etag=etags[route]) for k, v in headers.items()},
                )
                for route in ("uploads", "plain")
            ]
            compare(variants[:1] + variants[1:], 1)  # warm up
            # CPU time of this process: the test client runs in it, and other
            # load on the machine then barely moves the figures.
            samples = compare(
                variants, rounds if n > 1 else settings.times(), time.process_time
            )
            amount = n * size / MiB if unit == "MiB/s" else n
            ours = Measure("ours", rate(samples[variants[0].label], amount), unit)
            base = Measure(
                "send_from_directory", rate(samples[variants[1].label], amount), unit
            )
            section.rows.append(Row(case, ours, base).within(1.15))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return section
