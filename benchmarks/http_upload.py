"""End-to-end HTTP uploads to a real server on 127.0.0.1."""

from __future__ import annotations

import http.client
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

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
A client process streams a multipart/form-data POST of one file, read from
disk in 1 MiB blocks, over a keep-alive-less HTTP/1.1 connection to
127.0.0.1, and waits for the response; the time is the whole request. The
server is Werkzeug's threaded development server or gunicorn (2 sync
workers), running `benchmarks/httpapp.py`: Flask-Store routes (`/ours`, with
Flask's request class or with `StoreRequest`) against a route that calls
`FileStorage.save` directly (and, to compare with `STORE_FSYNC=True`, one that
fsyncs after it). Both sides of each comparison go through the same server,
the same multipart parser and the same page cache."""

BOUNDARY = "flask-store-benchmark-boundary"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def wait_for(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the server did not listen on port {port}")


@contextmanager
def server(kind: str, store: str) -> Iterator[int]:
    """Run the benchmark app under ``kind`` (werkzeug or gunicorn); yield its port."""
    port = free_port()
    env = {**os.environ, "BENCH_STORE": store}
    if kind == "werkzeug":
        command = [sys.executable, "-m", "benchmarks.httpapp", str(port)]
    else:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers=2",
            "--timeout=600",
            f"--bind=127.0.0.1:{port}",
            "benchmarks.httpapp:application",
        ]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    process = subprocess.Popen(
        command, env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(port, process)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def post_file(port: int, path: str, source: str) -> str:
    """POST ``source`` as the form field ``file``; return the response body."""
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="upload.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    size = os.path.getsize(source)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        connection.putrequest("POST", path)
        connection.putheader(
            "Content-Type", f"multipart/form-data; boundary={BOUNDARY}"
        )
        connection.putheader("Content-Length", str(len(head) + size + len(tail)))
        connection.endheaders()
        connection.send(head)
        with open(source, "rb") as f:
            while block := f.read(MiB):
                connection.send(block)
        connection.send(tail)
        response = connection.getresponse()
        body = response.read().decode()
        if response.status != 200:
            raise RuntimeError(f"POST {path} answered {response.status}: {body[:200]}")
        return body
    finally:
        connection.close()


def upload_variant(label: str, port: int, path: str, source: str) -> Variant:
    saved: list[str] = []

    def run() -> None:
        saved.append(post_file(port, path, source))

    def cleanup() -> None:
        while saved:
            os.unlink(saved.pop())

    return Variant(label, run, setup=os.sync, teardown=cleanup)


def run(settings: Settings) -> Section:
    section = Section("http", "End-to-end HTTP upload", METHOD)
    size = settings.size(256 * MiB, MiB)
    n = size_label(size)
    kinds = ["werkzeug"]
    if importlib.util.find_spec("gunicorn") is not None:
        kinds.append("gunicorn")
    else:
        section.method += "\n\ngunicorn is not installed: its cases were not run."
    workdir = os.path.join(settings.workdir, "http")
    os.makedirs(workdir)
    try:
        source = write_random(os.path.join(workdir, "source.bin"), size)
        store = os.path.join(workdir, "store")
        for kind in kinds:
            with server(kind, store) as port:
                post_file(port, "/copy/ours", source)  # warm up both sides
                variants = [
                    upload_variant(label, port, path, source)
                    for label, path in (
                        ("ours", "/copy/ours"),
                        ("ours spooled", "/spool/ours"),
                        ("FileStorage.save", "/copy/werkzeug"),
                        ("ours, fsync", "/copy-fsync/ours"),
                        ("ours spooled, fsync", "/spool-fsync/ours"),
                        ("FileStorage.save + fsync", "/copy/werkzeug-fsync"),
                    )
                ]
                samples = compare(variants, settings.times())
            m = {label: Measure(label, s, "s") for label, s in samples.items()}
            section.rows += [
                Row(
                    f"{kind}: upload {n}, no fsync", m["ours"], m["FileStorage.save"]
                ).within(1.10),
                Row(
                    f"{kind}: upload {n}, no fsync",
                    m["ours spooled"],
                    m["FileStorage.save"],
                ).within(1.0),
                Row(
                    f"{kind}: upload {n}, fsync",
                    m["ours, fsync"],
                    m["FileStorage.save + fsync"],
                ).within(1.10),
                Row(
                    f"{kind}: upload {n}, fsync",
                    m["ours spooled, fsync"],
                    m["FileStorage.save + fsync"],
                ).within(1.0),
            ]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return section
