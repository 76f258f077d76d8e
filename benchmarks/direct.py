"""Direct uploads to S3: what the app does per upload, and the browser's time."""

from __future__ import annotations

import os
import shutil
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from flask import Flask

from flask_store import Store
from flask_store.direct.s3 import s3_uploads

from .core import Measure, MiB, Row, Section, Settings, Variant, compare
from .motoserver import create_bucket, moto_server, raw_client, s3_config
from .throttle import throttled

METHOD = """\
An app with the direct-upload endpoints (`flask_store.direct.s3`) and moto's
S3 server in a process of its own, on the loopback interface. A client plays
the browser: it asks the app to start a multipart upload, to sign its 8 MiB
parts fifty to a request (as the upload macro's script does), and to
complete it (straight under the name it claimed at the start, then checked
by its size and first bytes), and sends the parts to S3 with `requests`,
three at a time (as the script does). *App CPU* is this process's CPU time
spent inside the app's requests (`time.process_time` around each one, the
app's boto3 calls included); *app bytes* are the request and response bodies
the app read and wrote. The browser's time is compared with one presigned
`PUT` of the same file, the single-request upload that other libraries
offer: once over the loopback interface, where nothing limits a connection
but moto itself (a Python server that handles one request's bytes at a time
and copies every part again to complete an upload), and once through a proxy
that carries each connection at 25 MB/s at most (`benchmarks/throttle.py`),
as one TCP connection over a long network path does; there parts sent side
by side add up. Beside each, how long the last request took (completing: S3
assembles the parts, then the app checks the file): a local server spends it
copying every part again, which a single PUT never pays."""

#: What one connection carries at most in the throttled case, in bytes per second.
CONNECTION_RATE = 25_000_000

PART = 8 * MiB

#: Parts the page's script has signed in one request (flask_store_transfers.js).
PARTS_PER_SIGNING = 50

#: Parts the page's script sends side by side.
PARTS_IN_FLIGHT = 3


class AppMeter:
    """Calls the app through its test client, counting CPU time and bytes."""

    def __init__(self, app: Flask) -> None:
        self.client = app.test_client()
        self.cpu = 0.0
        self.bytes = 0
        #: Wall time of the last request: the server's work included.
        self.wall = 0.0

    def call(self, method: str, url: str, **kwargs: Any) -> Any:
        started, wall = time.process_time(), time.perf_counter()
        response = self.client.open(url, method=method, **kwargs)
        self.cpu += time.process_time() - started
        self.wall = time.perf_counter() - wall
        self.bytes += len(response.get_data()) + (response.request.content_length or 0)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()


def direct_upload(app: Flask, data: bytes, name: str) -> AppMeter:
    """Upload ``data`` the way a browser does; return what the app spent."""
    meter = AppMeter(app)
    upload = meter.call(
        "POST",
        "/direct/s3/multipart",
        json={"filename": name, "type": "", "metadata": {}},
    )
    query = {"key": upload["key"]}
    chunks = [data[i : i + PART] for i in range(0, len(data), PART)]
    urls: list[str] = []
    # As the upload macro's script does: parts signed fifty at a time.
    for first in range(1, len(chunks) + 1, PARTS_PER_SIGNING):
        numbers = range(first, min(first + PARTS_PER_SIGNING, len(chunks) + 1))
        signed = meter.call(
            "GET",
            f"/direct/s3/multipart/{upload['uploadId']}/batch",
            query_string={**query, "partNumbers": ",".join(map(str, numbers))},
        )["presignedUrls"]
        urls.extend(signed[str(n)] for n in numbers)
    with requests.Session() as http, ThreadPoolExecutor(PARTS_IN_FLIGHT) as pool:
        etags = list(
            pool.map(
                lambda pair: http.put(pair[0], data=pair[1]).headers["ETag"],
                zip(urls, chunks, strict=True),
            )
        )
    parts = [{"PartNumber": n, "ETag": etag} for n, etag in enumerate(etags, start=1)]
    meter.call(
        "POST",
        f"/direct/s3/multipart/{upload['uploadId']}/complete",
        query_string=query,
        json={"parts": parts},
    )
    return meter


def one_put(client: Any, bucket: str, data: bytes) -> None:
    url = client.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": f"plain/{uuid.uuid4().hex}"}
    )
    response = requests.put(url, data=data, timeout=600)
    assert response.status_code == 200, response.text


def make_app(workdir: str, endpoint: str, bucket: str) -> Flask:
    app = Flask("bench", instance_path=os.path.join(workdir, "instance"))
    # No page hands out grants here: the endpoints are open.
    app.config.update(
        s3_config(endpoint, bucket),
        SECRET_KEY="bench",
        STORE_UPLOADS_ACCESS=True,
    )
    Store(app)
    app.register_blueprint(s3_uploads, url_prefix="/direct")
    return app


def browser_row(
    settings: Settings, app: Flask, endpoint: str, bucket: str, size: int, how: str
) -> Row:
    """The browser's time for ``size`` bytes: parts side by side against one PUT."""
    data = os.urandom(size)
    client = raw_client(endpoint)
    completing: list[float] = []

    def ours() -> None:
        completing.append(direct_upload(app, data, "timed.bin").wall)

    samples = compare(
        [
            Variant("ours", ours),
            Variant("put", lambda: one_put(client, bucket, data)),
        ],
        settings.times(3),
    )
    return Row(
        f"browser to S3, {size // MiB} MiB {how}: parallel parts against one "
        "presigned PUT",
        Measure(f"multipart, {PARTS_IN_FLIGHT} parts at a time", samples["ours"], "s"),
        Measure("one PUT", samples["put"], "s"),
        note=f"of which completing: {statistics.median(completing):.2f} s",
    ).within(1.0)


def run(settings: Settings) -> Section:
    section = Section("direct", "Direct uploads to S3", METHOD)
    workdir = os.path.join(settings.workdir, "direct")
    os.makedirs(workdir)
    try:
        with moto_server() as endpoint:
            bucket = f"bench-{uuid.uuid4().hex[:8]}"
            create_bucket(endpoint, bucket)
            app = make_app(workdir, endpoint, bucket)
            small, large = MiB, settings.size(256 * MiB, 16 * MiB)
            metered = {}
            for size in (small, large):
                data = os.urandom(size)
                runs = [
                    direct_upload(app, data, f"f{size}.bin")
                    for _ in range(settings.times(3))
                ]
                metered[size] = runs
            label = f"{large // MiB} MiB"
            section.rows.append(
                Row(
                    f"app CPU per direct upload, {label} against 1 MiB",
                    Measure(label, [m.cpu for m in metered[large]], "s"),
                    Measure("1 MiB", [m.cpu for m in metered[small]], "s"),
                ).within(2.0)
            )
            section.rows.append(
                Row(
                    f"bytes through the app per direct upload of {label}",
                    Measure(
                        "app bytes", [float(m.bytes) for m in metered[large]], "bytes"
                    ),
                ).under(64 * 1024, "≤ 64 KiB")
            )
            section.rows.append(
                browser_row(settings, app, endpoint, bucket, large, "over loopback")
            )
            # Presigned URLs name the proxy, so the app talks to S3 through it.
            with throttled(endpoint, CONNECTION_RATE) as proxy:
                slow = make_app(os.path.join(workdir, "throttled"), proxy, bucket)
                rate = f"at {CONNECTION_RATE // 1_000_000} MB/s a connection"
                section.rows.append(
                    browser_row(settings, slow, proxy, bucket, large, rate)
                )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return section
