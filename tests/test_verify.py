"""``flask store verify``: stored files read again against their checksums."""

from __future__ import annotations

import io
import json
from typing import Any

from click.testing import Result
from flask import Flask

from flask_store import store_provider

from .conftest import upload
from .s3_support import raw_client


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["store", "verify", *args])


def corrupt(app: Flask, path: str, data: bytes) -> None:
    """Change a stored file's bytes behind the store, keeping its record."""
    provider = app.config["STORE_PROVIDER"]
    backend = store_provider().backend_of(app)
    if provider.endswith("LocalProvider"):
        with open(backend.absolute_path(path), "r+b") as stream:  # same inode
            stream.write(data)
    elif provider.endswith("MemoryProvider"):
        blob = backend.files[path]
        backend.files[path] = type(blob)(data, blob.modified)
    else:  # the object rewritten with a raw client, its metadata copied
        raw = raw_client(None)
        bucket, key = app.config["STORE_S3_BUCKET"], backend.key(path)
        head = raw.head_object(Bucket=bucket, Key=key)
        raw.put_object(Bucket=bucket, Key=key, Body=data, Metadata=head["Metadata"])


def test_verify_every_file(storage: Flask) -> None:
    a = store_provider()(upload(b"alpha", "a.txt"), "docs").save()
    b = store_provider()(upload(b"bravo", "b.txt")).save()
    result = run(storage)
    assert result.exit_code == 0, result.output + result.stderr
    assert sorted(result.stdout.splitlines()) == ["ok b.txt", "ok docs/a.txt"]
    assert "2 ok, 0 mismatched, 0 without a checksum, 0 missing." in result.stderr

    corrupt(storage, a.relative_path, b"ALPHA")
    result = run(storage)
    assert result.exit_code == 1
    assert f"MISMATCH docs/a.txt: recorded sha256 {a.metadata.sha256}" in result.stdout
    assert "ok b.txt" in result.stdout

    result = run(storage, "--json", "b.txt")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["ok"] == [
        {
            "path": "b.txt",
            "status": "ok",
            "recorded": b.metadata.sha256,
            "found": b.metadata.sha256,
            "recorded_size": 5,
            "size": 5,
        }
    ]
    assert report["mismatch"] == report["missing"] == report["unchecked"] == []


def test_verify_a_folder_missing_paths_and_files_without_checksums(
    storage: Flask,
) -> None:
    store_provider()(upload(b"one", "1.txt"), "docs").save()
    backend = store_provider().backend_of(storage)
    backend.write(io.BytesIO(b"raw"), ["docs/raw.txt"])
    result = run(storage, "--json", "docs", "nowhere.txt")
    assert result.exit_code == 1  # a path that is not stored
    report: dict[str, Any] = json.loads(result.stdout)
    assert [v["path"] for v in report["ok"]] == ["docs/1.txt"]
    assert report["unchecked"] == [{"path": "docs/raw.txt", "status": "unchecked"}]
    assert report["missing"] == [{"path": "nowhere.txt", "status": "missing"}]
    result = run(storage, "docs")
    assert result.exit_code == 0
    assert "unchecked docs/raw.txt (no checksum recorded)" in result.stdout


def test_a_truncated_local_file_is_a_mismatch(app: Flask) -> None:
    saved = store_provider()(upload(b"x" * 1000, "t.bin")).save()
    with open(saved.absolute_path, "r+b") as stream:
        stream.truncate(10)
    result = run(app, "t.bin")
    assert result.exit_code == 1
    assert "(1000 bytes), now" in result.stdout
    assert "(10 bytes)" in result.stdout
