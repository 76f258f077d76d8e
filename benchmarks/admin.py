"""Admin listing: the first page of a very large folder, local and on S3."""

from __future__ import annotations

import heapq
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask

from flask_store import Store
from flask_store.blueprint import blueprint

from .core import Measure, Row, Section, Settings, Variant, compare
from .motoserver import create_bucket, moto_server, s3_config

METHOD = """\
A local folder of 100,000 empty files and an S3 prefix (moto server on
127.0.0.1, in its own process) of 10,000 keys. *Ours* is the provider's
`list_folder(folder, limit=100)` and the admin blueprint's index page
(`GET /files/?folder=...`, rendered HTML) through Flask's test client. The
local baseline is the least work any sorted first page needs: `os.scandir`
of the folder, the 100 smallest names (`heapq.nsmallest`) and a `stat` of
each; the S3 baseline is one raw boto3 `list_objects_v2` call with
`Delimiter="/"` and `MaxKeys=100`."""

LIMIT = 100


def make_app(workdir: str, **config: Any) -> Flask:
    app = Flask("bench", instance_path=os.path.join(workdir, "instance"))
    app.config.update(
        # A folder for the local provider; S3 overrides it with its prefix.
        STORE_PATH=config.pop("STORE_PATH", os.path.join(workdir, "store")),
        STORE_ADMIN_ACCESS=True,
        SECRET_KEY="benchmark",
        **config,
    )
    Store(app)
    app.register_blueprint(blueprint, url_prefix="/files")
    return app


def page_variant(app: Flask, folder: str) -> Variant:
    client = app.test_client()

    def get() -> None:
        response = client.get(f"/files/?folder={folder}&per_page={LIMIT}")
        if response.status_code != 200:
            raise RuntimeError(f"the admin page answered {response.status_code}")

    return Variant("admin page", get)


def list_variant(app: Flask, folder: str, count: int) -> Variant:
    provider = app.extensions["store"].provider

    def list_page() -> None:
        page = provider.list_folder(folder, limit=LIMIT, app=app)
        if len(page.entries) != min(LIMIT, count):
            raise RuntimeError(f"listed {len(page.entries)} entries")

    return Variant("list_folder", list_page)


def local_rows(settings: Settings, workdir: str) -> list[Row]:
    count = settings.count(100_000, 1000)
    app = make_app(workdir)
    folder = os.path.join(app.config["STORE_PATH"], "big")
    os.makedirs(folder)
    for i in range(count):
        os.close(
            os.open(os.path.join(folder, f"f{i:06}.txt"), os.O_CREAT | os.O_WRONLY)
        )

    def scandir_page() -> None:
        with os.scandir(folder) as it:
            first = heapq.nsmallest(LIMIT, (e.name for e in it))
        for name in first:
            os.stat(os.path.join(folder, name))

    variants = [
        list_variant(app, "big", count),
        page_variant(app, "big"),
        Variant("scandir", scandir_page),
    ]
    compare(variants, 1)  # warm the directory cache and the templates
    samples = compare(variants, settings.count(max(settings.repeats, 7), 1))
    m = {
        label: Measure(label, [s * 1000 for s in v], "ms")
        for label, v in samples.items()
    }
    return [
        Row(
            f"first page of a local folder of {count:,} files",
            m["list_folder"],
            m["scandir"],
        ),
        Row(
            f"first page of a local folder of {count:,} files",
            m["admin page"],
            m["scandir"],
        ).under(300, "< 300 ms"),
    ]


def s3_rows(settings: Settings, workdir: str) -> list[Row]:
    count = settings.count(10_000, 50)
    bucket = "bench-listing"
    with moto_server() as endpoint:
        raw = create_bucket(endpoint, bucket)
        with ThreadPoolExecutor(8) as pool:
            list(
                pool.map(
                    lambda i: raw.put_object(
                        Bucket=bucket, Key=f"big/f{i:06}.txt", Body=b""
                    ),
                    range(count),
                )
            )
        app = make_app(workdir, **s3_config(endpoint, bucket), STORE_PATH="")

        def raw_page() -> None:
            raw.list_objects_v2(
                Bucket=bucket, Prefix="big/", Delimiter="/", MaxKeys=LIMIT
            )

        variants = [
            list_variant(app, "big", count),
            page_variant(app, "big"),
            Variant("list_objects_v2", raw_page),
        ]
        compare(variants, 1)  # connect and warm up
        samples = compare(variants, settings.count(max(settings.repeats, 7), 1))
    m = {
        label: Measure(label, [s * 1000 for s in v], "ms")
        for label, v in samples.items()
    }
    return [
        Row(
            f"first page of an S3 prefix of {count:,} keys",
            m["list_folder"],
            m["list_objects_v2"],
        ),
        Row(
            f"first page of an S3 prefix of {count:,} keys",
            m["admin page"],
            m["list_objects_v2"],
        ).under(300, "< 300 ms"),
    ]


def run(settings: Settings) -> Section:
    section = Section("admin", "Admin listing", METHOD)
    workdir = os.path.join(settings.workdir, "admin")
    try:
        os.makedirs(os.path.join(workdir, "local"))
        os.makedirs(os.path.join(workdir, "s3"))
        section.rows += local_rows(settings, os.path.join(workdir, "local"))
        section.rows += s3_rows(settings, os.path.join(workdir, "s3"))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return section
