"""Local save: ``LocalProvider.save()`` against copying the same bytes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import IO

from flask import Flask
from werkzeug.datastructures import FileStorage

from flask_store import Store
from flask_store.providers.local import LocalProvider
from flask_store.spool import SpooledUpload, spool_file

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

METHOD = """\
The upload is what Werkzeug hands a view for a large file: a `FileStorage`
over a temporary file on disk, here an open file of random bytes (warm in the
page cache, as a just-parsed upload is). *Ours* is `LocalProvider(upload).save()`;
*ours, spooled* is the same save of an upload that `flask_store.spool.StoreRequest`
spooled inside `STORE_PATH`, which is published with a hard link. The limit is
a plain copy of the same bytes (`shutil.copyfile`, which uses `sendfile`), and
with `STORE_FSYNC=True` a copy followed by `fsync` of the file and its folder,
which is what a durable save must do. Werkzeug's `FileStorage.save` and
Flask-Reuploaded's `UploadSet.save` do not fsync, so they are compared with
`STORE_FSYNC=False`. Peak memory is measured in a fresh process per saver
(`python -m benchmarks.memprobe`): the growth of the resident set's high-water
mark (`VmHWM`, reset through `/proc/self/clear_refs`) during one save, and
tracemalloc's peak during another."""


def _fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Saves:
    """The savers of one size, sharing one source file and store folder."""

    def __init__(self, workdir: str, size: int) -> None:
        self.size = size
        self.source = write_random(os.path.join(workdir, "source.bin"), size)
        self.out = os.path.join(workdir, "out")
        os.makedirs(self.out, exist_ok=True)
        self.copy_target = os.path.join(self.out, "copy.bin")
        self.apps = {}
        for fsync in (True, False):
            app = Flask("bench", instance_path=os.path.join(workdir, "instance"))
            app.config.update(
                STORE_PATH=os.path.join(workdir, f"store-{fsync}"),
                STORE_FSYNC=fsync,
                UPLOADED_FILES_DEST=self.out,
            )
            Store(app)
            self.apps[fsync] = app
        from flask_uploads import ALL, UploadSet, configure_uploads

        self.upload_set = UploadSet("files", ALL)
        configure_uploads(self.apps[False], self.upload_set)
        self.stream: IO[bytes] | None = None
        self.saved: list[str] = []

    # -- inputs -----------------------------------------------------------

    def settle(self) -> None:
        """Write back dirty pages first, so no case pays for the previous one."""
        os.sync()

    def open_source(self) -> None:
        self.settle()
        self.stream = open(self.source, "rb")  # noqa: SIM115 - closed in cleanup

    def spool(self, fsync: bool) -> None:
        self.settle()
        upload: SpooledUpload = spool_file(self.apps[fsync])
        with open(self.source, "rb") as f:
            shutil.copyfileobj(f, upload, MiB)
        # Left dirty, as a just-spooled upload is: a durable save writes it back.
        upload.seek(0)
        self.stream = upload

    def cleanup(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        for path in (*self.saved, self.copy_target):
            if os.path.exists(path):
                os.unlink(path)
        self.saved.clear()

    def upload(self) -> FileStorage:
        assert self.stream is not None
        return FileStorage(self.stream, filename="upload.bin")

    # -- savers -----------------------------------------------------------

    def ours(self, fsync: bool) -> None:
        provider = LocalProvider(self.upload(), app=self.apps[fsync]).save()
        self.saved.append(provider.absolute_path)

    def copy(self) -> None:
        shutil.copyfile(self.source, self.copy_target)

    def copy_fsync(self) -> None:
        shutil.copyfile(self.source, self.copy_target)
        _fsync_path(self.copy_target)
        _fsync_path(self.out)

    def werkzeug(self) -> None:
        self.upload().save(self.copy_target)

    def reuploaded(self) -> None:
        with self.apps[False].app_context():
            name = self.upload_set.save(self.upload())
        self.saved.append(os.path.join(self.out, name))

    def variants(self) -> list[Variant]:
        return [
            Variant("copy", self.copy, setup=self.settle, teardown=self.cleanup),
            Variant(
                "copy + fsync",
                self.copy_fsync,
                setup=self.settle,
                teardown=self.cleanup,
            ),
            Variant(
                "ours, fsync",
                lambda: self.ours(True),
                setup=self.open_source,
                teardown=self.cleanup,
            ),
            Variant(
                "ours",
                lambda: self.ours(False),
                setup=self.open_source,
                teardown=self.cleanup,
            ),
            Variant(
                "ours spooled, fsync",
                lambda: self.ours(True),
                setup=lambda: self.spool(True),
                teardown=self.cleanup,
            ),
            Variant(
                "ours spooled",
                lambda: self.ours(False),
                setup=lambda: self.spool(False),
                teardown=self.cleanup,
            ),
            Variant(
                "FileStorage.save",
                self.werkzeug,
                setup=self.open_source,
                teardown=self.cleanup,
            ),
            Variant(
                "UploadSet.save",
                self.reuploaded,
                setup=self.open_source,
                teardown=self.cleanup,
            ),
        ]


def memory(mode: str, source: str, workdir: str) -> dict[str, int]:
    """Peak memory of one save in a fresh process (see benchmarks.memprobe)."""
    store = os.path.join(workdir, f"probe-{mode}")
    os.makedirs(store, exist_ok=True)
    try:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.memprobe", mode, source, store],
            check=True,
            capture_output=True,
            text=True,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        ).stdout
    finally:
        shutil.rmtree(store, ignore_errors=True)
    result: dict[str, int] = json.loads(out)
    return result


def run(settings: Settings) -> Section:
    section = Section("local", "Local save", METHOD)
    sizes = [settings.size(256 * MiB, MiB), settings.size(2 * GiB, 2 * MiB)]
    for size in sizes:
        workdir = os.path.join(settings.workdir, f"local-{size}")
        os.makedirs(workdir)
        try:
            saves = _Saves(workdir, size)
            repeats = settings.times()
            samples = compare(saves.variants(), repeats)
            m = {label: Measure(label, s, "s") for label, s in samples.items()}
            n = size_label(size)
            section.rows += [
                Row(f"save {n}, fsync", m["ours, fsync"], m["copy + fsync"]).within(
                    1.10
                ),
                Row(f"save {n}, no fsync", m["ours"], m["copy"]).within(1.10),
                Row(
                    f"save {n} spooled by StoreRequest, fsync",
                    m["ours spooled, fsync"],
                    m["copy + fsync"],
                ).within(1.0),
                Row(
                    f"save {n} spooled by StoreRequest, no fsync",
                    m["ours spooled"],
                    m["copy"],
                ).within(1.0),
                Row(f"save {n}, no fsync", m["ours"], m["FileStorage.save"]),
                Row(f"save {n}, no fsync", m["ours"], m["UploadSet.save"]),
            ]
            if size == sizes[-1]:
                section.rows += _memory_rows(saves.source, workdir, n)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    return section


def _memory_rows(source: str, workdir: str, n: str) -> list[Row]:
    probes = {
        mode: memory(mode, source, workdir) for mode in ("ours", "spooled", "werkzeug")
    }
    limit = 32 * MiB
    rows = []
    for key, what in (
        ("rss_growth", "RSS high-water growth"),
        ("traced_peak", "tracemalloc peak"),
    ):
        base = Measure("FileStorage.save", [probes["werkzeug"][key] / MiB], "MiB")
        for mode, label in (("ours", "ours"), ("spooled", "ours spooled")):
            ours = Measure(label, [probes[mode][key] / MiB], "MiB")
            rows.append(
                Row(f"{what}, save {n}", ours, base).under(limit / MiB, "< 32 MiB")
            )
    return rows
