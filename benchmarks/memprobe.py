"""Peak memory of one save, measured in a fresh process.

Run as ``python -m benchmarks.memprobe MODE SOURCE STORE_DIR``; prints JSON
with the growth of the resident set's high-water mark during the save and
tracemalloc's peak for a second, traced save. Modes: ``ours``, ``spooled``,
``werkzeug``, ``reuploaded``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tracemalloc
from collections.abc import Callable
from typing import IO

from flask import Flask
from werkzeug.datastructures import FileStorage

from flask_store import Store
from flask_store.providers.local import LocalProvider
from flask_store.spool import spool_file


def _status(field: str) -> int:
    """A ``VmRSS``/``VmHWM`` figure of this process, in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} missing from /proc/self/status")


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux 4.0+); False when not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def saver(mode: str, source: str, store: str) -> Callable[[], Callable[[], None]]:
    """A factory of one-shot saves: prepares the input, returns the save."""
    app = Flask("memprobe", instance_path=os.path.join(store, "instance"))
    app.config.update(STORE_PATH=os.path.join(store, "ours"), STORE_FSYNC=True)
    Store(app)
    target = os.path.join(store, "werkzeug.bin")

    def prepare() -> Callable[[], None]:
        shutil.rmtree(app.config["STORE_PATH"], ignore_errors=True)
        if mode == "spooled":
            stream: IO[bytes] = spool_file(app)
            with open(source, "rb") as f:
                shutil.copyfileobj(f, stream, 1024 * 1024)
            stream.seek(0)
        else:
            stream = open(source, "rb")  # noqa: SIM115 - closed by the run
        upload = FileStorage(stream, filename="upload.bin")

        def run() -> None:
            try:
                if mode in ("ours", "spooled"):
                    LocalProvider(upload, app=app).save()
                elif mode == "werkzeug":
                    upload.save(target)
                elif mode == "reuploaded":
                    from flask_uploads import ALL, UploadSet, configure_uploads

                    app.config["UPLOADED_FILES_DEST"] = os.path.join(store, "reup")
                    files = UploadSet("files", ALL)
                    configure_uploads(app, files)
                    with app.app_context():
                        files.save(upload)
                else:
                    raise SystemExit(f"unknown mode {mode!r}")
            finally:
                stream.close()
                if os.path.exists(target):
                    os.unlink(target)
                shutil.rmtree(os.path.join(store, "reup"), ignore_errors=True)

        return run

    return prepare


def main(argv: list[str]) -> None:
    mode, source, store = argv
    prepare = saver(mode, source, store)
    prepare()()  # warm up imports and caches outside the measurement

    run = prepare()
    exact = _reset_peak()
    before = _status("VmRSS") if exact else _status("VmHWM")
    run()
    rss_growth = _status("VmHWM") - before

    run = prepare()
    tracemalloc.start()
    run()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    json.dump(
        {"rss_growth": max(rss_growth, 0), "traced_peak": traced_peak, "exact": exact},
        sys.stdout,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
