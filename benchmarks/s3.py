"""S3: uploads against raw boto3, requests per save, and the gevent provider."""

from __future__ import annotations

import io
import os
import shutil
import time
import uuid
from collections.abc import Callable
from typing import IO, Any

from flask import Flask
from werkzeug.datastructures import FileStorage

from flask_store import Store

from .core import (
    GiB,
    Measure,
    MiB,
    Row,
    Section,
    Settings,
    Variant,
    compare,
    size_label,
    write_random,
)
from .motoserver import create_bucket, moto_server, s3_config

METHOD = """\
Against moto's `ThreadedMotoServer` on 127.0.0.1, run in its own process.
*Ours* is `S3Provider(upload).save()` (one managed upload with ACL,
Content-Type, metadata and a conditional write; parts of
`STORE_S3_MULTIPART_THRESHOLD`, 8 MiB); the baseline is raw boto3
`upload_fileobj` of the same open file with boto3's defaults, on a client of
its own, and (to tell our own cost from the transfer settings') with the
`TransferConfig` Flask-Store passes (8 MiB parts, 4 threads). Both clients
are warmed up first (the first save of an app in a process also asks the
server, once, whether it honours conditional writes: its requests are a row
of their own). HTTP requests are counted with a botocore `before-send`
hook; "checking names first" is `STORE_S3_CONDITIONAL_WRITES = False`, the
path saves take on a server that ignores conditional writes. For the gevent
provider, every request to S3 is
delayed by 300 ms (a `before-send` hook that sleeps), and the time is how long
`save()` takes to return; the background upload is awaited outside the timing."""

LATENCY = 0.3

#: Raw boto3 with the transfer settings Flask-Store uses (part size, threads).
TUNED = "boto3, same TransferConfig"


def make_app(
    workdir: str, endpoint: str, bucket: str, provider: str, **config: Any
) -> Flask:
    app = Flask("bench", instance_path=os.path.join(workdir, "instance"))
    app.config.update(s3_config(endpoint, bucket, provider))
    app.config["STORE_S3_SPOOL_PATH"] = os.path.join(workdir, "spool")
    app.config.update(config)
    Store(app)
    return app


def ask_conditional_writes(app: Flask) -> None:
    """Have the app find out now what its first save would find out."""
    from flask_store.providers.s3 import S3Provider

    for _ in S3Provider.backend_checks(app=app):
        pass


def client_of(app: Flask) -> Any:
    from flask_store.providers.s3 import s3_client

    return s3_client(app)


def counter(client: Any) -> list[str]:
    """Record every HTTP request ``client`` sends (its operation name)."""
    sent: list[str] = []

    def record(request: Any, **kwargs: Any) -> None:
        sent.append(request.method)

    client.meta.events.register("before-send.s3", record)
    return sent


def delay(client: Any, seconds: float) -> None:
    """Make every request ``client`` sends wait ``seconds`` first."""

    def sleep(**kwargs: Any) -> None:
        time.sleep(seconds)

    client.meta.events.register("before-send.s3", sleep)


class _Uploads:
    def __init__(self, app: Flask, raw: Any, bucket: str, source: str) -> None:
        self.app, self.raw, self.bucket, self.source = app, raw, bucket, source
        self.stream: IO[bytes] | None = None
        self.keys: list[str] = []

    def open(self) -> None:
        self.stream = open(self.source, "rb")  # noqa: SIM115 - closed in cleanup

    def cleanup(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        for key in self.keys:
            self.raw.delete_object(Bucket=self.bucket, Key=key)
        self.keys.clear()

    def ours(self) -> None:
        assert self.stream is not None
        provider = self.app.extensions["store"].provider
        saved = provider(
            FileStorage(self.stream, filename="upload.bin"), app=self.app
        ).save()
        self.keys.append(saved.absolute_path)

    def boto3(self) -> None:
        assert self.stream is not None
        key = f"raw/{uuid.uuid4().hex}.bin"
        self.raw.upload_fileobj(self.stream, self.bucket, key)
        self.keys.append(key)

    def boto3_like_ours(self) -> None:
        """Raw boto3 with Flask-Store's transfer settings: what is left is ours."""
        from flask_store.state import store_state

        assert self.stream is not None
        key = f"raw/{uuid.uuid4().hex}.bin"
        config = store_state(self.app).backend.transfer  # type: ignore[attr-defined]
        self.raw.upload_fileobj(self.stream, self.bucket, key, Config=config)
        self.keys.append(key)

    def variants(self) -> list[Variant]:
        return [
            Variant("ours", self.ours, setup=self.open, teardown=self.cleanup),
            Variant(
                TUNED,
                self.boto3_like_ours,
                setup=self.open,
                teardown=self.cleanup,
            ),
            Variant(
                "boto3 upload_fileobj",
                self.boto3,
                setup=self.open,
                teardown=self.cleanup,
            ),
        ]


def upload_rows(settings: Settings, workdir: str, endpoint: str) -> list[Row]:
    bucket = "bench-uploads"
    raw = create_bucket(endpoint, bucket)
    app = make_app(workdir, endpoint, bucket, "S3Provider")
    rows = []
    for size in (settings.size(64 * MiB, MiB), settings.size(GiB, 9 * MiB)):
        source = write_random(os.path.join(workdir, "source.bin"), size)
        uploads = _Uploads(app, raw, bucket, source)
        compare(uploads.variants(), 1)  # warm up clients and connections
        samples = compare(uploads.variants(), settings.times())
        os.unlink(source)
        m = {label: Measure(label, s, "s") for label, s in samples.items()}
        n = size_label(size)
        rows += [
            Row(f"upload {n}", m["ours"], m["boto3 upload_fileobj"]).within(1.10),
            Row(f"upload {n}", m["ours"], m[TUNED]),
        ]
    return rows


def request_rows(workdir: str, endpoint: str) -> list[Row]:
    bucket = "bench-requests"
    raw = create_bucket(endpoint, bucket)
    raw_sent = counter(raw)
    data = os.urandom(1024)

    def boto3(key: str) -> int:
        raw_sent.clear()
        raw.upload_fileobj(io.BytesIO(data), bucket, key)
        return len(raw_sent)

    def counting(provider: str, folder: str, **config: Any) -> Callable[[str], int]:
        app = make_app(
            os.path.join(workdir, folder),
            endpoint,
            bucket,
            provider,
            STORE_PATH=folder,
            **config,
        )
        sent = counter(client_of(app))
        cls = app.extensions["store"].provider

        def save(name: str) -> int:
            from flask_store.providers.s3 import wait_for_uploads

            sent.clear()
            cls(FileStorage(io.BytesIO(data), filename=name), app=app).save()
            if not wait_for_uploads(timeout=60):
                raise RuntimeError("background upload did not finish")
            return len(sent)

        return save

    baseline = Measure("boto3 upload_fileobj", [boto3("raw/fresh.txt")], "requests")
    ours = counting("S3Provider", "plain")
    first = ours("first.txt")  # and the probe, once per app and process
    fresh = ours("fresh.txt")
    taken = ours("fresh.txt")
    careful = counting("S3Provider", "careful", STORE_S3_CONDITIONAL_WRITES=False)
    careful("first.txt")
    careful_fresh = careful("fresh.txt")
    background = counting("S3GeventProvider", "background")
    background("first.txt")
    background_fresh = background("fresh.txt")
    return [
        Row(
            "HTTP requests, first save of an app in a process",
            Measure("ours", [first], "requests"),
            baseline,
            note="the save and, once, the conditional-write probe: two writes "
            "and a delete",
        ),
        Row(
            "HTTP requests per 1 KiB save",
            Measure("ours", [fresh], "requests"),
            baseline,
        ).under(2, "≤ 2"),
        Row(
            "HTTP requests per 1 KiB save, name taken",
            Measure("ours", [taken], "requests"),
            baseline,
            note="one refused conditional write, then the suffixed name",
        ).under(2, "≤ 2"),
        Row(
            "HTTP requests per 1 KiB save, checking names first",
            Measure("ours", [careful_fresh], "requests"),
            baseline,
            note="a HEAD, then the write",
        ).under(2, "≤ 2"),
        Row(
            "HTTP requests per 1 KiB save, S3GeventProvider",
            Measure("ours", [background_fresh], "requests"),
            baseline,
            note="the placeholder that claims the name, then the upload",
        ).under(2, "≤ 2"),
    ]


def gevent_rows(settings: Settings, workdir: str, endpoint: str) -> list[Row]:
    bucket = "bench-gevent"
    raw = create_bucket(endpoint, bucket)
    apps = {
        name: make_app(os.path.join(workdir, name), endpoint, bucket, name)
        for name in ("S3Provider", "S3GeventProvider")
    }
    for app in apps.values():
        ask_conditional_writes(app)  # connects, too
        delay(client_of(app), 0.01 if settings.quick else LATENCY)
    rows = []
    latency = "10 ms" if settings.quick else f"{LATENCY * 1000:.0f} ms"
    for size in (1024, settings.size(64 * MiB, MiB)):
        source = write_random(os.path.join(workdir, "source.bin"), size)
        samples = compare(
            _latency_variants(apps, raw, bucket, source), settings.times(3)
        )
        os.unlink(source)
        rows.append(
            Row(
                f"save() latency, {size_label(size)}, {latency} per S3 request",
                Measure("S3GeventProvider", samples["S3GeventProvider"], "s"),
                Measure("S3Provider", samples["S3Provider"], "s"),
            )
        )
    return rows


def _latency_variants(
    apps: dict[str, Flask], raw: Any, bucket: str, source: str
) -> list[Variant]:
    """Saves of ``source`` per app; background uploads are awaited untimed."""
    from flask_store.providers.s3 import wait_for_uploads

    keys: list[str] = []

    def saver(app: Flask) -> Callable[[], None]:
        def save() -> None:
            provider = app.extensions["store"].provider
            with open(source, "rb") as f:
                saved = provider(FileStorage(f, filename="upload.bin"), app=app).save()
            keys.append(saved.absolute_path)

        return save

    def settle() -> None:
        if not wait_for_uploads(timeout=600):
            raise RuntimeError("background uploads did not finish")
        while keys:
            raw.delete_object(Bucket=bucket, Key=keys.pop())

    return [Variant(name, saver(app), teardown=settle) for name, app in apps.items()]


def run(settings: Settings) -> Section:
    section = Section("s3", "S3", METHOD)
    workdir = os.path.join(settings.workdir, "s3")
    os.makedirs(workdir)
    try:
        with moto_server() as endpoint:
            section.rows += upload_rows(settings, workdir, endpoint)
            section.rows += request_rows(workdir, endpoint)
            section.rows += gevent_rows(settings, workdir, endpoint)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return section
