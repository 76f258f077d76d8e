"""The S3 providers' contract, against two independent S3 servers over HTTP.

moto's ``ThreadedMotoServer`` honours conditional writes; ``s3rver`` accepts
``If-None-Match: *`` and ``If-Match`` and overwrites anyway, as some
S3-compatible servers do. On both, no save overwrites a stored file, every
key a ``save()`` reports holds its own bytes, a background upload's
placeholder is never read as the file, and active content is an attachment.
"""

from __future__ import annotations

import io
import logging
import os
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flask_store.blueprint import blueprint
from flask_store.exceptions import NotConfiguredError, UploadFailed, UploadPending
from flask_store.providers.s3 import (
    S3GeventProvider,
    S3Provider,
    s3_client,
    wait_for_uploads,
)
from flask_store.signals import upload_failed

from . import s3_support
from .conftest import upload
from .s3_support import (
    S3_GEVENT,
    Requests,
    ask_conditional_writes,
    create_bucket,
    is_final_upload,
    object_keys,
    raw_client,
    s3_app,
)

pytestmark = pytest.mark.s3server

moto_server = s3_support.moto_server
s3rver = s3_support.s3rver

MiB = 1024 * 1024

#: Whether each server honours conditional writes.
HONOURS = {"moto": True, "s3rver": False}

PROVIDERS = {"S3Provider": S3Provider, "S3GeventProvider": S3GeventProvider}


@pytest.fixture(params=sorted(HONOURS))
def server(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(name, endpoint URL) of each S3 server."""
    fixture = "moto_server" if request.param == "moto" else "s3rver"
    return request.param, request.getfixturevalue(fixture)


@pytest.fixture
def endpoint(server: tuple[str, str]) -> str:
    return server[1]


@pytest.fixture
def bucket(endpoint: str) -> str:
    name = f"contract-{uuid.uuid4().hex[:12]}"
    create_bucket(name, endpoint)
    return name


@pytest.fixture
def raw(endpoint: str) -> Any:
    return raw_client(endpoint)


@pytest.fixture(params=sorted(PROVIDERS))
def provider(request: pytest.FixtureRequest) -> type[S3Provider]:
    cls: type[S3Provider] = PROVIDERS[request.param]
    return cls


@pytest.fixture
def app(
    tmp_path: Path, bucket: str, endpoint: str, provider: type[S3Provider]
) -> Iterator[Flask]:
    app = s3_app(
        tmp_path,
        bucket,
        endpoint,
        STORE_PROVIDER=f"{provider.__module__}.{provider.__name__}",
        STORE_S3_SPOOL_PATH=str(tmp_path / "spool"),
    )
    with app.app_context():
        yield app
    assert wait_for_uploads(timeout=60)


def body(raw: Any, bucket: str, key: str) -> bytes:
    data: bytes = raw.get_object(Bucket=bucket, Key=key)["Body"].read()
    return data


def saved_bytes(raw: Any, bucket: str, saved: dict[str, bytes]) -> dict[str, bytes]:
    """What each reported key holds, once background uploads are done."""
    assert wait_for_uploads(timeout=60)
    return {key: body(raw, bucket, key) for key in saved}


# -- detection ------------------------------------------------------------


def test_check_says_truthfully_what_the_server_does(
    server: tuple[str, str], app: Flask, raw: Any, bucket: str
) -> None:
    name, _ = server
    (result,) = S3Provider.backend_checks(app=app)
    assert result.check == "conditional writes"
    assert result.ok
    if HONOURS[name]:
        assert result.detail.startswith("the server honours them")
    else:
        assert result.detail.startswith("the server IGNORES them")
        assert "saves from several machines can race" in result.detail
    assert object_keys(raw, bucket) == []  # the probe is gone again


def test_a_wrong_setting_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(NotConfiguredError, match="STORE_S3_CONDITIONAL_WRITES"):
        s3_app(tmp_path, "any-bucket", None, STORE_S3_CONDITIONAL_WRITES="yes")


def test_true_refuses_to_save_where_the_server_ignores_them(
    server: tuple[str, str], tmp_path: Path, bucket: str, endpoint: str, raw: Any
) -> None:
    app = s3_app(tmp_path, bucket, endpoint, STORE_S3_CONDITIONAL_WRITES=True)
    with app.app_context():
        (result,) = S3Provider.backend_checks(app=app)
        if HONOURS[server[0]]:
            assert result.ok
            assert S3Provider(upload(b"x", "a.txt")).save().filename == "a.txt"
            assert object_keys(raw, bucket) == ["a.txt"]
            return
        assert not result.ok and "saves are refused" in result.detail
        with pytest.raises(UploadFailed, match="STORE_S3_CONDITIONAL_WRITES") as info:
            S3Provider(upload(b"x", "a.txt"), location="docs").save()
        assert str(info.value).startswith("Not saving 'docs/a.txt': ")
    assert object_keys(raw, bucket) == []


def test_a_warning_once_per_app_where_the_server_ignores_them(
    server: tuple[str, str], app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="flask_store.providers.s3"):
        for _ in range(3):
            store_provider(app)(upload(b"x", "w.txt")).save()
    warnings = [
        r for r in caplog.records if "ignores conditional writes" in r.getMessage()
    ]
    assert len(warnings) == (0 if HONOURS[server[0]] else 1)


def store_provider(app: Flask) -> type[S3Provider]:
    cls: type[S3Provider] = app.extensions["store"].provider
    return cls


# -- never overwrite --------------------------------------------------------


def test_same_name_saves_one_after_another_keep_every_byte(
    app: Flask, raw: Any, bucket: str
) -> None:
    saved: dict[str, bytes] = {}
    for index in range(4):
        data = b"hello %d" % index
        saved[store_provider(app)(upload(data, "hello.txt")).save().absolute_path] = (
            data
        )
    assert len(saved) == 4 and "hello.txt" in saved
    assert saved_bytes(raw, bucket, saved) == saved
    assert sorted(object_keys(raw, bucket)) == sorted(saved)


def test_concurrent_same_name_saves_in_one_process_keep_every_byte(
    app: Flask, raw: Any, bucket: str
) -> None:
    # Every save passes this point before any reaches S3.
    barrier = threading.Barrier(8, timeout=30)
    results: dict[bytes, str] = {}
    errors: list[BaseException] = []

    def save(index: int) -> None:
        data = b"race %d " % index * 1000
        try:
            with app.app_context():
                barrier.wait()
                results[data] = (
                    store_provider(app)(upload(data, "race.txt")).save().absolute_path
                )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    saved = {key: data for data, key in results.items()}
    assert len(saved) == 8 and "race.txt" in saved
    assert saved_bytes(raw, bucket, saved) == saved
    assert sorted(object_keys(raw, bucket)) == sorted(saved)


def test_same_name_multipart_saves_keep_every_byte(
    tmp_path: Path, bucket: str, endpoint: str, raw: Any, provider: type[S3Provider]
) -> None:
    app = s3_app(
        tmp_path,
        bucket,
        endpoint,
        STORE_PROVIDER=f"{provider.__module__}.{provider.__name__}",
        STORE_S3_MULTIPART_THRESHOLD=5 * MiB,
        STORE_S3_SPOOL_PATH=str(tmp_path / "spool"),
    )
    requests = Requests(app)
    saved: dict[str, bytes] = {}
    with app.app_context():
        for fill in (b"a", b"b"):
            data = fill * (6 * MiB)
            key = provider(io.BytesIO(data), filename="big.bin").save().absolute_path
            saved[key] = data
    assert len(saved) == 2 and "big.bin" in saved
    assert saved_bytes(raw, bucket, saved) == saved
    assert "CompleteMultipartUpload" in requests.sent


def test_false_sends_no_condition_and_still_never_overwrites(
    tmp_path: Path, bucket: str, endpoint: str, raw: Any, provider: type[S3Provider]
) -> None:
    app = s3_app(
        tmp_path,
        bucket,
        endpoint,
        STORE_PROVIDER=f"{provider.__module__}.{provider.__name__}",
        STORE_S3_CONDITIONAL_WRITES=False,
        STORE_S3_SPOOL_PATH=str(tmp_path / "spool"),
    )
    requests = Requests(app)
    saved: dict[str, bytes] = {}
    with app.app_context():
        for index in range(3):
            data = b"no condition %d" % index
            saved[provider(upload(data, "same.txt")).save().absolute_path] = data
    assert len(saved) == 3
    assert saved_bytes(raw, bucket, saved) == saved
    writes = [p for op, p in requests.params if op == "PutObject"]
    assert writes and not any("IfNoneMatch" in p or "IfMatch" in p for p in writes)
    assert ".flask-store-probe" not in str(requests.params)  # never probed


# -- background uploads -------------------------------------------------------


class Gate:
    """Holds every upload of a file (not a placeholder) until opened.

    With ``heads``, also the HeadObject requests of background uploads: the
    check they make first on a server that ignores ``If-Match``.
    """

    def __init__(self, app: Flask, *, heads: bool = False) -> None:
        self.open = threading.Event()
        events = s3_client(app).meta.events
        events.register("before-send.s3.PutObject", self._wait)
        if heads:
            events.register("before-send.s3.HeadObject", self._wait_in_background)

    def _wait(self, request: Any, **_: Any) -> None:
        if is_final_upload(request):
            assert self.open.wait(timeout=30)

    def _wait_in_background(self, **_: Any) -> None:
        # This process is not monkey-patched: uploads run in this thread.
        if threading.current_thread().name == "flask-store-uploads":
            assert self.open.wait(timeout=30)


@pytest.fixture
def gapp(tmp_path: Path, bucket: str, endpoint: str) -> Iterator[Flask]:
    app = s3_app(
        tmp_path,
        bucket,
        endpoint,
        STORE_PROVIDER=S3_GEVENT,
        STORE_S3_SPOOL_PATH=str(tmp_path / "spool"),
        STORE_S3_MAX_ATTEMPTS=1,
        STORE_S3_BACKGROUND_ATTEMPTS=1,
    )
    ask_conditional_writes(app)  # so the gates below see the uploads alone
    with app.app_context():
        yield app
    assert wait_for_uploads(timeout=60)


def test_a_pending_upload_is_never_read_as_the_file(
    gapp: Flask, raw: Any, bucket: str
) -> None:
    gate = Gate(gapp)
    saved = S3GeventProvider(upload(b"the file", "pending.txt")).save()
    # The name is claimed on S3 before save() returns.
    assert object_keys(raw, bucket) == ["pending.txt"]
    with pytest.raises(UploadPending, match=r"'pending\.txt' is still being uploaded"):
        saved.read()
    with pytest.raises(UploadPending):
        S3GeventProvider("pending.txt").open()
    gate.open.set()
    assert wait_for_uploads(timeout=30)
    assert saved.read() == b"the file"


def test_a_placeholder_replaced_meanwhile_is_not_overwritten(
    gapp: Flask, raw: Any, bucket: str, tmp_path: Path
) -> None:
    gate = Gate(gapp, heads=True)
    failures: list[dict[str, Any]] = []
    with upload_failed.connected_to(lambda sender, **kw: failures.append(kw), gapp):
        S3GeventProvider(upload(b"ours", "race.txt")).save()
        # Another tool writes over the placeholder before our upload gets there.
        raw.put_object(Bucket=bucket, Key="race.txt", Body=b"theirs")
        gate.open.set()
        assert wait_for_uploads(timeout=30)
    assert body(raw, bucket, "race.txt") == b"theirs"
    (failure,) = failures
    assert "taken by another writer" in str(failure["exception"])
    assert Path(failure["spooled_path"]).read_bytes() == b"ours"  # never lost


def test_a_file_deleted_before_its_upload_stays_deleted(
    gapp: Flask, raw: Any, bucket: str, tmp_path: Path
) -> None:
    gate = Gate(gapp, heads=True)
    failures: list[Any] = []
    with upload_failed.connected_to(lambda sender, **kw: failures.append(kw), gapp):
        saved = S3GeventProvider(upload(b"short-lived", "gone.txt")).save()
        saved.delete()
        gate.open.set()
        assert wait_for_uploads(timeout=30)
    assert failures == []
    assert object_keys(raw, bucket) == []
    assert list((tmp_path / "spool").iterdir()) == []


# -- active content -------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "data", "content_type", "attachment"),
    [
        ("drawing.svg", b"<svg onload=alert(1)/>", "image/svg+xml", True),
        ("page.html", b"<html><script>alert(1)</script>", "text/html", True),
        ("data.unknownext", b"\x00\x01", "application/octet-stream", True),
        ("photo.png", b"\x89PNG\r\n\x1a\n", "image/png", False),
        ("notes.txt", b"plain notes", "text/plain", False),
    ],
)
def test_active_content_is_stored_and_served_as_an_attachment(
    app: Flask,
    raw: Any,
    bucket: str,
    filename: str,
    data: bytes,
    content_type: str,
    attachment: bool,
) -> None:
    saved = store_provider(app)(upload(data, filename)).save()
    assert wait_for_uploads(timeout=30)
    head = raw.head_object(Bucket=bucket, Key=saved.absolute_path)
    assert head["ContentType"] == content_type
    assert head.get("ContentDisposition") == ("attachment" if attachment else None)
    with urllib.request.urlopen(saved.presigned_url(60)) as response:
        assert response.headers["Content-Type"] == content_type
        disposition = response.headers.get("Content-Disposition")
        assert (disposition == "attachment") if attachment else not disposition


def test_presigned_urls_ignore_a_type_another_tool_stored(
    app: Flask, raw: Any, bucket: str
) -> None:
    raw.put_object(
        Bucket=bucket, Key="photo.png", Body=b"<script>", ContentType="text/html"
    )
    url = store_provider(app)("photo.png").presigned_url(60)
    with urllib.request.urlopen(url) as response:
        assert response.headers["Content-Type"] == "image/png"


def test_the_admin_download_of_active_content_is_an_attachment(
    tmp_path: Path, bucket: str, endpoint: str
) -> None:
    app = s3_app(tmp_path, bucket, endpoint, STORE_ADMIN_ACCESS=True)
    app.register_blueprint(blueprint, url_prefix="/admin/files")
    with app.app_context():
        S3Provider(upload(b"<svg onload=alert(1)/>", "drawing.svg")).save()
        S3Provider(upload(b"plain", "notes.txt")).save()
    client = app.test_client()
    svg = client.get("/admin/files/file/drawing.svg")
    assert svg.status_code == 302
    with urllib.request.urlopen(svg.headers["Location"]) as response:
        assert response.headers["Content-Disposition"] == "attachment"
        assert response.headers["Content-Type"] == "image/svg+xml"
    text = client.get("/admin/files/file/notes.txt")
    with urllib.request.urlopen(text.headers["Location"]) as response:
        assert not response.headers.get("Content-Disposition")
        assert response.read() == b"plain"


# -- host-wide name locks ------------------------------------------------------


def test_name_locks_refuse_a_lock_folder_others_may_write_in(tmp_path: Any) -> None:
    from flask_store.backends import s3_locks

    folder = str(tmp_path / "locks")
    taken, fd = s3_locks._lock_slot(folder, "bucket", "a.txt")
    assert (taken, fd is not None) == (False, True)
    # A second process (here: a second lock on the slot) sees it taken.
    assert s3_locks._lock_slot(folder, "bucket", "a.txt") == (True, None)
    os.close(fd)  # type: ignore[arg-type]

    os.chmod(folder, 0o777)  # anyone could plant a symlink in it
    with pytest.raises(UploadFailed, match="STORE_S3_LOCK_PATH") as info:
        s3_locks._lock_slot(folder, "bucket", "a.txt")
    assert repr(folder) in str(info.value)
    os.chmod(folder, 0o700)
    target = tmp_path / "elsewhere"
    slot = next((tmp_path / "locks").iterdir())
    slot.unlink()
    slot.symlink_to(target)
    with pytest.raises(UploadFailed, match="cannot be used"):
        s3_locks._lock_slot(folder, "bucket", "a.txt")
    assert not target.exists()


# -- copies ---------------------------------------------------------------


def test_a_copy_is_made_by_s3_and_never_overwrites(
    server: tuple[str, str],
    app: Flask,
    raw: Any,
    bucket: str,
    provider: type[S3Provider],
) -> None:
    data = os.urandom(6 * MiB)
    original = provider(io.BytesIO(data), "videos", filename="talk.mp4").save()
    assert wait_for_uploads(timeout=60)
    raw.put_object(Bucket=bucket, Key="archive/talk.mp4", Body=b"someone else's")
    requests = Requests(app)
    backend = provider.backend_of(app)
    copied = backend.copy(original.relative_path, "archive")
    assert copied.startswith("archive/talk") and copied != "archive/talk.mp4"
    # A copy made through the app is a save: with gevent, in the background.
    assert wait_for_uploads(timeout=60)
    assert body(raw, bucket, copied) == data
    assert body(raw, bucket, "archive/talk.mp4") == b"someone else's"
    assert body(raw, bucket, "videos/talk.mp4") == data
    assert "UploadPartCopy" in requests.sent
    if server[0] == "moto":
        # No byte of the file came through the app: S3 copied the parts.
        # (s3rver answers part copies without making them: the copy is
        # found short and made through the app instead.)
        assert "GetObject" not in requests.sent
    moved = backend.move(copied, "old")
    assert wait_for_uploads(timeout=60)
    assert body(raw, bucket, moved) == data
    assert not backend.exists(copied)
