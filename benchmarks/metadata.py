"""Metadata: a local save that sniffs and hashes against the same save without."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import statistics
import time
from typing import IO, cast

from flask import Flask
from werkzeug.datastructures import FileStorage

from flask_store import Store
from flask_store.backends.local import local_backend
from flask_store.providers.local import LocalProvider

from .core import (
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
*Ours* is `LocalProvider(upload).save()`, which reads the upload through
`flask_store.metadata.Measured` (SHA-256, size, the type sniffed from the
first 64 KiB) and records the metadata on the file; the baseline is the same
local backend's `write()` of the same bytes with nothing measured, so the
difference is the cost of knowing what the file is. Each case runs with
`STORE_FSYNC` on (the default: the save returns once the file is on disk) and
off, which leaves the hashing nothing to hide behind; the note gives SHA-256
alone of the same bytes, timed in the same run, as a ratio to the plain save:
a floor no save that hashes can go below without hashing beside the copy.
Large saves hash in a worker thread beside the copy. *A file on disk* is an
open file (warm in the page cache), hashed by the worker from its own
descriptor while the kernel copies it; *a stream* is the same bytes through a
reader that is not a file, copied through Python while the worker hashes."""


class _Pipe(io.RawIOBase):
    """The bytes of a file through a reader that is not one (no fileno)."""

    def __init__(self, path: str) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 - closed with the pipe

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        return self._file.readinto(buffer)

    def close(self) -> None:
        self._file.close()
        super().close()


class _Saves:
    def __init__(self, workdir: str, source: str, fsync: bool) -> None:
        self.source = source
        folder = os.path.join(workdir, f"fsync-{fsync}")
        self.app = Flask("bench", instance_path=os.path.join(folder, "instance"))
        self.app.config.update(
            STORE_PATH=os.path.join(folder, "store"), STORE_FSYNC=fsync
        )
        Store(self.app)
        self.backend = local_backend(self.app)
        self.stream: IO[bytes] | None = None
        self.count = 0

    def open(self, pipe: bool) -> None:
        os.sync()
        self.stream = (
            cast(IO[bytes], _Pipe(self.source)) if pipe else open(self.source, "rb")  # noqa: SIM115
        )

    def cleanup(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        shutil.rmtree(self.backend.path, ignore_errors=True)

    def ours(self) -> None:
        assert self.stream is not None
        LocalProvider(FileStorage(self.stream, filename="a.bin"), app=self.app).save()

    def plain(self) -> None:
        assert self.stream is not None
        self.backend.write(self.stream, ["a.bin"])

    def variants(self, pipe: bool) -> list[Variant]:
        kind = "stream" if pipe else "file"
        return [
            Variant(
                f"{label} {kind}",
                run,
                setup=lambda: self.open(pipe),
                teardown=self.cleanup,
            )
            for label, run in (("ours", self.ours), ("plain", self.plain))
        ]


def _hash_only(path: str, repeats: int) -> float:
    """The median time SHA-256 alone takes over the file ``path``."""
    with open(path, "rb") as f:
        data = f.read()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        hashlib.sha256(data).hexdigest()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(settings: Settings) -> Section:
    section = Section("metadata", "Metadata: sniffing and hashing a save", METHOD)
    size = settings.size(256 * MiB, MiB)
    workdir = os.path.join(settings.workdir, "metadata")
    os.makedirs(workdir)
    try:
        source = write_random(os.path.join(workdir, "source.bin"), size)
        hashing = _hash_only(source, settings.times())
        n = size_label(size)
        for fsync in (True, False):
            saves = _Saves(workdir, source, fsync)
            for pipe, what in ((False, "a file on disk"), (True, "a stream")):
                samples = compare(saves.variants(pipe), settings.times())
                m = {label: Measure(label, s, "s") for label, s in samples.items()}
                kind = "stream" if pipe else "file"
                plain = statistics.median(samples[f"plain {kind}"])
                section.rows.append(
                    Row(
                        f"save {n} from {what}, sniffed and hashed, "
                        + ("fsync" if fsync else "no fsync"),
                        m[f"ours {kind}"],
                        m[f"plain {kind}"],
                        note=f"SHA-256 alone: {hashing / plain:.2f}x",
                    ).within(1.15)
                )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return section
