"""The opt-in request class that spools uploads inside STORE_PATH."""

from __future__ import annotations

import errno
import gc
import io
import os
from typing import Any

import pytest
from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import FileStorage

from flask_store import Store
from flask_store.providers.local import LocalProvider
from flask_store.spool import (
    MEMORY_LIMIT,
    SPOOL_FOLDER,
    SpooledUpload,
    StoreRequest,
    spool_file,
)

from .conftest import PROVIDERS, make_app

BIG = os.urandom(MEMORY_LIMIT + 4096)


def spool_app(tmp_path: Any, **config: Any) -> Flask:
    app = make_app(tmp_path, **config)
    app.request_class = StoreRequest
    Store(app)

    @app.post("/upload")
    def upload() -> ResponseReturnValue:
        upload = request.files["file"]
        provider = app.extensions["store"].provider(
            upload, location=request.form.get("location")
        )
        provider.save()
        stream = upload.stream
        linked = isinstance(stream, SpooledUpload) and (
            os.fstat(stream.fileno()).st_ino == os.stat(provider.absolute_path).st_ino
        )
        return jsonify(
            path=provider.relative_path,
            spooled=isinstance(stream, SpooledUpload),
            linked=linked,
        )

    return app


def spooled_leftovers(app: Flask) -> list[str]:
    gc.collect()
    folder = os.path.join(app.config["STORE_PATH"], SPOOL_FOLDER)
    return os.listdir(folder) if os.path.isdir(folder) else []


def post(app: Flask, data: bytes, filename: str = "big.bin", **form: str) -> Any:
    response = app.test_client().post(
        "/upload", data={"file": (io.BytesIO(data), filename), **form}
    )
    close_body(response)
    return response


def close_body(response: Any) -> None:
    """Close the temporary file the test client encoded a large body into."""
    response.close()
    response.request.input_stream.close()


def stored(app: Flask, path: str) -> bytes:
    with open(os.path.join(app.config["STORE_PATH"], path), "rb") as f:
        return f.read()


def test_large_upload_is_linked_not_copied(tmp_path: Any) -> None:
    app = spool_app(tmp_path)
    response = post(app, BIG, location="docs")
    assert response.status_code == 200
    assert response.json == {"path": "docs/big.bin", "spooled": True, "linked": True}
    assert stored(app, "docs/big.bin") == BIG
    st = os.stat(os.path.join(app.config["STORE_PATH"], "docs", "big.bin"))
    assert st.st_nlink == 1  # the spooled name is gone after the request
    assert st.st_mode & 0o777 == 0o666 & ~_umask()
    assert spooled_leftovers(app) == []


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_small_upload_stays_in_memory(tmp_path: Any) -> None:
    app = spool_app(tmp_path)
    response = post(app, b"small", filename="small.txt")
    assert response.json == {"path": "small.txt", "spooled": False, "linked": False}
    assert stored(app, "small.txt") == b"small"


def test_taken_name_gets_suffix_and_existing_file_is_kept(tmp_path: Any) -> None:
    app = spool_app(tmp_path)
    first = post(app, BIG).json["path"]
    second_data = BIG[::-1]
    second = post(app, second_data).json["path"]
    assert first == "big.bin"
    assert second != first and second.startswith("big_") and second.endswith(".bin")
    assert stored(app, first) == BIG
    assert stored(app, second) == second_data


def test_same_upload_saved_twice(tmp_path: Any) -> None:
    app = spool_app(tmp_path)

    @app.post("/twice")
    def twice() -> ResponseReturnValue:
        upload = request.files["file"]
        a = LocalProvider(upload).save()
        b = LocalProvider(upload).save()
        return jsonify([a.relative_path, b.relative_path])

    response = app.test_client().post(
        "/twice", data={"file": (io.BytesIO(BIG), "twice.bin")}
    )
    close_body(response)
    a, b = response.json
    assert a != b
    assert stored(app, a) == stored(app, b) == BIG


def test_without_fsync(tmp_path: Any) -> None:
    app = spool_app(tmp_path, STORE_FSYNC=False)
    assert post(app, BIG).json["linked"] is True
    assert stored(app, "big.bin") == BIG


def test_copies_when_linking_is_impossible(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = spool_app(tmp_path)

    def no_link(src: str, dst: str, **kwargs: Any) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_link)
    response = post(app, BIG)
    assert response.json == {"path": "big.bin", "spooled": True, "linked": False}
    assert stored(app, "big.bin") == BIG
    assert spooled_leftovers(app) == []


def test_spool_folder_is_neither_listed_nor_served(tmp_path: Any) -> None:
    app = spool_app(tmp_path)
    post(app, BIG)
    os.makedirs(os.path.join(app.config["STORE_PATH"], SPOOL_FOLDER), exist_ok=True)
    with open(
        os.path.join(app.config["STORE_PATH"], SPOOL_FOLDER, "stale.upload"), "wb"
    ) as f:
        f.write(b"x")
    with app.app_context():
        page = LocalProvider.list_folder("")
        files = list(LocalProvider.iter_files(""))
    assert [e.path for e in page.entries] == ["big.bin"]
    assert [f.path for f in files] == ["big.bin"]
    client = app.test_client()
    assert client.get(f"/uploads/{SPOOL_FOLDER}/stale.upload").status_code == 404


def test_truncated_upload_is_refused_and_leaves_nothing(tmp_path: Any) -> None:
    app = spool_app(tmp_path)
    boundary = "x" * 16
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="cut.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body = head + BIG  # the closing boundary never arrives
    response = app.test_client().post(
        "/upload",
        input_stream=io.BytesIO(body),
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Content-Length": str(len(body) + 1000)},
    )
    assert response.status_code == 400
    assert not os.path.exists(os.path.join(app.config["STORE_PATH"], "cut.bin"))
    assert spooled_leftovers(app) == []


def test_other_providers_parse_as_usual(tmp_path: Any) -> None:
    app = spool_app(tmp_path, STORE_PROVIDER=PROVIDERS["memory"])
    response = post(app, BIG)
    assert response.json == {"path": "big.bin", "spooled": False, "linked": False}
    assert not os.path.exists(os.path.join(app.instance_path, "uploads"))


def test_spooled_upload_removes_its_file_when_closed(tmp_path: Any) -> None:

    app = make_app(tmp_path, STORE_PATH=str(tmp_path / "store"))
    Store(app)
    upload = spool_file(app)
    upload.write(b"data")
    assert os.path.dirname(upload.path) == str(tmp_path / "store" / SPOOL_FOLDER)
    assert os.path.exists(upload.path)
    upload.close()
    assert not os.path.exists(upload.path)


# -- uploads already on disk are copied by the kernel ------------------------


class CopyCalls:
    """Wraps os.copy_file_range, counting calls; optionally failing."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail: Any = None) -> None:
        self.calls = 0
        self.real = os.copy_file_range
        self.fail = fail
        monkeypatch.setattr(os, "copy_file_range", self)

    def __call__(self, *args: Any) -> int:
        self.calls += 1
        if self.fail is not None:
            return int(self.fail(self.calls, *args))
        return int(self.real(*args))


def saved_files(app: Flask) -> list[str]:
    root = app.config["STORE_PATH"]
    return sorted(
        os.path.relpath(os.path.join(d, f), root)
        for d, _, files in os.walk(root)
        for f in files
    )


@pytest.fixture
def local_app(tmp_path: Any) -> Any:
    app = make_app(tmp_path)
    Store(app)
    with app.app_context():
        yield app


def test_open_file_is_copied_by_the_kernel(
    local_app: Flask, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    copies = CopyCalls(monkeypatch)
    source = tmp_path / "source.bin"
    source.write_bytes(BIG)
    with open(source, "rb") as f:
        f.read(10)  # save() rewinds
        provider = LocalProvider(f, filename="copy.bin").save()
        assert not f.closed
        assert f.tell() == len(BIG)
    assert copies.calls >= 1
    assert stored(local_app, provider.relative_path) == BIG


def test_werkzeug_containers(local_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    from werkzeug.formparser import default_stream_factory

    copies = CopyCalls(monkeypatch)
    saved = {}
    for label, data in (("small", b"tiny upload"), ("large", BIG)):
        container = default_stream_factory(len(data), "application/octet-stream", "x")
        container.write(data)
        container.seek(0)
        upload = FileStorage(container, filename=f"{label}.bin")
        saved[label] = (LocalProvider(upload).save().relative_path, data)
        # A small upload stays in memory: nothing is written to disk for it.
        assert getattr(container, "_rolled", True) is (label == "large")
        container.close()
    assert copies.calls >= 1  # the large one only
    for path, data in saved.values():
        assert stored(local_app, path) == data


def test_falls_back_when_the_kernel_cannot_copy(
    local_app: Flask, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def cross_device(call: int, *args: Any) -> int:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    CopyCalls(monkeypatch, fail=cross_device)
    source = tmp_path / "source.bin"
    source.write_bytes(BIG)
    with open(source, "rb") as f:
        provider = LocalProvider(f, filename="copy.bin").save()
    assert stored(local_app, provider.relative_path) == BIG


def test_reads_a_file_the_kernel_copies_nothing_from(
    local_app: Flask, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    CopyCalls(monkeypatch, fail=lambda call, *args: 0)
    source = tmp_path / "source.bin"
    source.write_bytes(b"content the kernel reports as empty")
    with open(source, "rb") as f:
        provider = LocalProvider(f, filename="proc.txt").save()
    assert stored(local_app, provider.relative_path) == source.read_bytes()


def test_failed_kernel_copy_leaves_nothing(
    local_app: Flask, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.copy_file_range

    def fail_midway(call: int, *args: Any) -> int:
        if call == 1:
            return int(real(args[0], args[1], 4096, *args[3:]))
        raise OSError(errno.EIO, "Input/output error")

    CopyCalls(monkeypatch, fail=fail_midway)
    source = tmp_path / "source.bin"
    source.write_bytes(BIG)
    with open(source, "rb") as f, pytest.raises(OSError, match="Input/output"):
        LocalProvider(f, filename="broken.bin").save()
    assert saved_files(local_app) == []


def test_wrapped_file_is_read_not_copied_raw(
    local_app: Flask, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gzip

    copies = CopyCalls(monkeypatch)
    packed = tmp_path / "data.gz"
    with gzip.open(packed, "wb") as f:
        f.write(BIG)
    with gzip.open(packed, "rb") as f:
        provider = LocalProvider(f, filename="data.bin").save()
    assert copies.calls == 0
    assert stored(local_app, provider.relative_path) == BIG


@pytest.mark.parametrize("planted", ["symlink", "file"])
def test_a_spool_folder_replaced_by_a_link_or_file_is_never_used(
    tmp_path: Any, planted: str
) -> None:
    # A local actor put a symlink (to a folder outside) or a file where the
    # spool folder goes: uploads are parsed as Flask does, nothing is
    # written outside, and the save still works.
    app = spool_app(tmp_path)
    root = os.path.join(app.config["STORE_PATH"])
    os.makedirs(root)
    outside = tmp_path / "outside"
    outside.mkdir()
    spool = os.path.join(root, SPOOL_FOLDER)
    if planted == "symlink":
        os.symlink(outside, spool)
    else:
        with open(spool, "wb") as f:
            f.write(b"not a folder")
    response = post(app, BIG)
    assert response.status_code == 200
    assert response.json == {"path": "big.bin", "spooled": False, "linked": False}
    assert stored(app, "big.bin") == BIG
    assert list(outside.iterdir()) == []


def test_a_spooled_file_replaced_in_the_spool_folder_is_copied_not_linked(
    local_app: Flask,
) -> None:
    # Someone swapped the spooled file's name for another file (or a
    # symlink): the upload's own bytes are saved, never what the name holds.
    with local_app.app_context():
        upload = spool_file(local_app)
        upload.write(b"the upload's bytes")
        upload.seek(0)
        folder = os.path.dirname(upload.path)
        os.unlink(upload.path)
        os.symlink(os.path.join(folder, "elsewhere"), upload.path)
        saved = LocalProvider(FileStorage(upload, filename="u.txt")).save()
        assert saved.read() == b"the upload's bytes"
        assert not os.path.islink(saved.absolute_path)
        upload.close()
        assert not os.path.lexists(upload.path)
