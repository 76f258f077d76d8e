"""Which conditional writes an S3 server honours, and what a save makes of it.

Against moto's server (which honours ``If-None-Match`` on PUTs and on
completing multipart uploads, and ``If-Match`` on PUTs, but ignores
``If-Match`` on completing a multipart upload) and s3rver (which ignores
them all): a background upload's ``If-Match`` goes on its own requests only,
a placeholder deleted and taken again is never overwritten, name locks that
cannot be had refuse the save, and a folder marker never replaces an object.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flask_store.backends import s3_gevent
from flask_store.backends.s3_locks import reservations
from flask_store.direct.s3 import s3_uploads
from flask_store.exceptions import UploadFailed
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
    is_placeholder,
    object_keys,
    raw_client,
    s3_app,
)

pytestmark = pytest.mark.s3server

moto_server = s3_support.moto_server
s3rver = s3_support.s3rver

MiB = 1024 * 1024

#: Whether each server honours If-None-Match.
HONOURS = {"moto": True, "s3rver": False}


@pytest.fixture(params=sorted(HONOURS))
def server(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(name, endpoint URL) of each S3 server."""
    fixture = "moto_server" if request.param == "moto" else "s3rver"
    return request.param, request.getfixturevalue(fixture)


@pytest.fixture
def endpoint(server: tuple[str, str]) -> str:
    return server[1]


def new_bucket(endpoint: str) -> str:
    name = f"cond-{uuid.uuid4().hex[:12]}"
    create_bucket(name, endpoint)
    return name


@pytest.fixture
def bucket(endpoint: str) -> str:
    return new_bucket(endpoint)


@pytest.fixture
def raw(endpoint: str) -> Any:
    return raw_client(endpoint)


def body(raw: Any, bucket: str, key: str) -> bytes:
    data: bytes = raw.get_object(Bucket=bucket, Key=key)["Body"].read()
    return data


def gevent_app(tmp_path: Path, bucket: str, endpoint: str, **config: Any) -> Flask:
    app = s3_app(
        tmp_path,
        bucket,
        endpoint,
        STORE_PROVIDER=S3_GEVENT,
        STORE_S3_SPOOL_PATH=str(tmp_path / "spool"),
        **config,
    )
    ask_conditional_writes(app)
    return app


class Hold:
    """Holds a background upload's first request of the file itself.

    ``reached`` is set when the upload is about to send it (its conditions
    are decided by then); ``meanwhile`` runs there, in the upload's thread,
    before the request goes on.
    """

    def __init__(self, app: Flask, meanwhile: Callable[[], None] | None = None) -> None:
        self.reached = threading.Event()
        self.go_on = threading.Event()
        self.meanwhile = meanwhile
        self.done = False
        events = s3_client(app).meta.events
        for operation in ("PutObject", "CreateMultipartUpload"):
            events.register(f"before-send.s3.{operation}", self._hold)

    def _hold(self, request: Any, **_: Any) -> None:
        if self.done or is_placeholder(request):
            return
        self.done = True
        if self.meanwhile is not None:
            self.meanwhile()
        self.reached.set()
        assert self.go_on.wait(timeout=60)


def failures_of(app: Flask) -> list[dict[str, Any]]:
    failures: list[dict[str, Any]] = []
    upload_failed.connect(lambda sender, **kw: failures.append(kw), app, weak=False)
    return failures


# -- the If-Match goes on the owning upload's requests only -------------------


def test_a_move_onto_a_pending_background_upload_gets_a_name_of_its_own(
    tmp_path: Path, bucket: str, endpoint: str, raw: Any
) -> None:
    raw.put_object(Bucket=bucket, Key="inbox/a.txt", Body=b"MOVED FILE")
    app = gevent_app(tmp_path, bucket, endpoint)
    failures = failures_of(app)
    hold = Hold(app)
    with app.app_context():
        saved = S3GeventProvider(upload(b"U" * 1000, "a.txt"), location="docs").save()
        assert hold.reached.wait(timeout=30)
        # What `flask store mv inbox/a.txt docs` does, while the upload runs.
        moved = app.extensions["store"].backend.storage.move("inbox/a.txt", "docs")
        hold.go_on.set()
        assert wait_for_uploads(timeout=60)
    assert saved.relative_path == "docs/a.txt"
    assert moved != "docs/a.txt" and moved.startswith("docs/a_")
    assert body(raw, bucket, "docs/a.txt") == b"U" * 1000
    assert body(raw, bucket, moved) == b"MOVED FILE"
    assert sorted(object_keys(raw, bucket)) == sorted(["docs/a.txt", moved])
    assert failures == []


def test_a_multipart_background_upload_completes_with_if_match_on_its_own_upload(
    tmp_path: Path,
    moto_server: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Over the largest single PUT, so the upload goes in parts.
    monkeypatch.setattr(s3_gevent, "MAX_PUT", 5 * MiB)
    bucket = new_bucket(moto_server)
    raw = raw_client(moto_server)
    raw.put_object(Bucket=bucket, Key="inbox/big.bin", Body=b"M" * (6 * MiB))
    app = gevent_app(
        tmp_path, bucket, moto_server, STORE_S3_MULTIPART_THRESHOLD=5 * MiB
    )
    hold = Hold(app)
    with app.app_context():
        requests = Requests(app)
        saved = S3GeventProvider(upload(b"G" * (6 * MiB), "big.bin")).save()
        assert hold.reached.wait(timeout=30)
        moved = app.extensions["store"].backend.storage.move("inbox/big.bin", "")
        hold.go_on.set()
        assert wait_for_uploads(timeout=60)
    completions = [
        (p["Key"], p.get("IfMatch"), p.get("IfNoneMatch"))
        for operation, p in requests.params
        if operation == "CompleteMultipartUpload"
    ]
    placeholder = next(p for op, p in requests.params if op == "PutObject")
    assert placeholder["Key"] == "big.bin"
    # The move's copy to another name, then the upload over its placeholder.
    assert (moved, None, "*") in completions
    ((_, etag, none),) = [c for c in completions if c[0] == "big.bin"]
    assert etag is not None and none is None
    assert body(raw, bucket, saved.relative_path) == b"G" * (6 * MiB)
    assert body(raw, bucket, moved) == b"M" * (6 * MiB)


def test_a_save_skips_a_name_this_process_is_writing(
    tmp_path: Path, bucket: str, endpoint: str, raw: Any
) -> None:
    app = s3_app(tmp_path, bucket, endpoint)
    ask_conditional_writes(app)
    assert reservations.reserve(bucket, "busy.txt")
    try:
        with app.app_context():
            requests = Requests(app)
            saved = S3Provider(upload(b"x", "busy.txt")).save()
    finally:
        reservations.release(bucket, "busy.txt")
    assert saved.relative_path != "busy.txt"
    assert not any(p.get("Key") == "busy.txt" for _, p in requests.params)
    assert object_keys(raw, bucket) == [saved.relative_path]


# -- every condition relied on is probed -------------------------------------


def test_the_probe_tries_each_condition_and_check_says_which_are_ignored(
    server: tuple[str, str], tmp_path: Path, bucket: str, endpoint: str, raw: Any
) -> None:
    app = s3_app(tmp_path, bucket, endpoint)
    requests = Requests(app)
    (result,) = S3Provider.backend_checks(app=app)
    assert result.ok
    written = [
        (operation, "IfMatch" in p, "IfNoneMatch" in p)
        for operation, p in requests.params
        if operation in ("PutObject", "CompleteMultipartUpload")
    ]
    # Created, then written again with each condition, as a PUT and as a
    # one-part multipart upload.
    assert written == [
        ("PutObject", False, True),
        ("PutObject", False, True),
        ("CompleteMultipartUpload", False, True),
        ("PutObject", True, False),
        ("CompleteMultipartUpload", True, False),
    ]
    if HONOURS[server[0]]:
        assert result.detail.startswith("the server honours them")
        assert "IGNORES If-Match on completing a multipart upload" in result.detail
        assert "If-Match on a PUT" not in result.detail
    else:
        assert result.detail.startswith("the server IGNORES them (If-None-Match on")
        assert "If-Match on a PUT" in result.detail
    assert object_keys(raw, bucket) == []  # the probe is gone again
    if HONOURS[server[0]]:  # s3rver cannot list multipart uploads
        assert raw.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_a_background_upload_never_overwrites_a_name_deleted_and_taken_again(
    tmp_path: Path, moto_server: str
) -> None:
    # Above 5 MiB, in parts, moto would not check the If-Match of the upload's
    # completion: it goes in one PUT, whose If-Match moto checks. (On a server
    # that ignores every condition the upload checks its placeholder first:
    # test_s3_gevent.py's test_key_taken_meanwhile_is_not_overwritten.)
    bucket, raw = new_bucket(moto_server), raw_client(moto_server)
    app = gevent_app(
        tmp_path, bucket, moto_server, STORE_S3_MULTIPART_THRESHOLD=5 * MiB
    )
    failures = failures_of(app)

    def delete_and_take_again() -> None:
        with app.app_context():
            S3GeventProvider("docs/report.bin").delete()
        # Another process saves the free name, as a save would.
        raw.put_object(
            Bucket=bucket, Key="docs/report.bin", Body=b"OTHER WRITER", IfNoneMatch="*"
        )

    hold = Hold(app, delete_and_take_again)
    with app.app_context():
        saved = S3GeventProvider(
            upload(b"G" * (6 * MiB), "report.bin"), location="docs"
        )
        assert saved.save().relative_path == "docs/report.bin"
        hold.go_on.set()
        assert wait_for_uploads(timeout=60)
    assert body(raw, bucket, "docs/report.bin") == b"OTHER WRITER"
    assert object_keys(raw, bucket) == ["docs/report.bin"]
    (failure,) = failures
    assert "taken by another writer" in str(failure["exception"])
    assert "nothing was overwritten" in str(failure["exception"])
    assert os.path.getsize(failure["spooled_path"]) == 6 * MiB  # kept


def test_a_background_upload_over_5_gib_checks_its_placeholder_first(
    tmp_path: Path, moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Too large for one PUT, on a server that ignores If-Match on completion.
    monkeypatch.setattr(s3_gevent, "MAX_PUT", 5 * MiB)
    bucket, raw = new_bucket(moto_server), raw_client(moto_server)
    app = gevent_app(
        tmp_path, bucket, moto_server, STORE_S3_MULTIPART_THRESHOLD=5 * MiB
    )
    failures = failures_of(app)
    gate = threading.Event()

    def wait_in_background(**_: Any) -> None:
        if threading.current_thread() is not threading.main_thread():
            assert gate.wait(timeout=60)  # the upload's look at its placeholder

    with app.app_context():
        requests = Requests(app)
        s3_client(app).meta.events.register(
            "before-send.s3.HeadObject", wait_in_background
        )
        saved = S3GeventProvider(upload(b"G" * (6 * MiB), "big.bin")).save()
        S3GeventProvider("big.bin").delete()
        # Another process saves the free name, as a save would.
        raw.put_object(Bucket=bucket, Key="big.bin", Body=b"OTHER", IfNoneMatch="*")
        gate.set()
        assert wait_for_uploads(timeout=60)
    assert saved.relative_path == "big.bin"
    assert body(raw, bucket, "big.bin") == b"OTHER"
    assert "CreateMultipartUpload" not in requests.sent  # never started
    (failure,) = failures
    assert "taken by another writer" in str(failure["exception"])


def test_a_direct_multipart_upload_never_overwrites_a_name_deleted_and_taken_again(
    tmp_path: Path, moto_server: str
) -> None:
    import requests as http

    bucket, raw = new_bucket(moto_server), raw_client(moto_server)
    app = s3_app(tmp_path, bucket, moto_server, STORE_UPLOADS_ACCESS=True)
    app.register_blueprint(s3_uploads, url_prefix="/direct")
    other = s3_app(tmp_path / "other", bucket, moto_server)
    client = app.test_client()
    started = client.post(
        "/direct/s3/multipart",
        json={"filename": "video.bin", "type": "", "metadata": {"location": "docs"}},
    ).get_json()
    upload_id, token = started["uploadId"], started["key"]
    signed = client.get(
        f"/direct/s3/multipart/{upload_id}/1", query_string={"key": token}
    ).get_json()
    part = http.put(signed["url"], data=b"BROWSER BYTES", timeout=30)
    # Meanwhile the pending file is deleted and another writer takes the name.
    with app.app_context():
        S3Provider("docs/video.bin").delete()
    with other.app_context():
        taken = S3Provider(upload(b"OTHER WRITER", "video.bin"), location="docs")
        assert taken.save().relative_path == "docs/video.bin"
    done = client.post(
        f"/direct/s3/multipart/{upload_id}/complete",
        query_string={"key": token},
        json={"parts": [{"PartNumber": 1, "ETag": part.headers["ETag"]}]},
    )
    assert done.status_code == 409
    assert "nothing was overwritten" in done.get_json()["error"]
    assert body(raw, bucket, "docs/video.bin") == b"OTHER WRITER"
    assert raw.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


# -- host-wide name locks ------------------------------------------------------


@pytest.mark.parametrize("provider", [S3Provider, S3GeventProvider])
def test_a_save_is_refused_where_the_name_locks_cannot_be_had(
    server: tuple[str, str],
    tmp_path: Path,
    bucket: str,
    endpoint: str,
    raw: Any,
    provider: type[S3Provider],
) -> None:
    folder = tmp_path / "shared-locks"
    folder.mkdir()
    folder.chmod(0o777)  # others could remove or swap the lock files
    app = gevent_app(tmp_path, bucket, endpoint, STORE_S3_LOCK_PATH=str(folder))
    with app.app_context():
        if HONOURS[server[0]]:  # no locks needed: S3 decides
            assert provider(upload(b"x", "a.txt")).save().relative_path == "a.txt"
            assert wait_for_uploads(timeout=30)
            assert object_keys(raw, bucket) == ["a.txt"]
            return
        with pytest.raises(UploadFailed, match="STORE_S3_LOCK_PATH") as info:
            provider(upload(b"x", "a.txt")).save()
    assert repr(str(folder)) in str(info.value)
    assert object_keys(raw, bucket) == []
    assert list((tmp_path / "spool").glob("*")) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="gives a folder to another user")
def test_a_lock_folder_another_user_made_first_does_not_matter(
    s3rver: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket, raw = new_bucket(s3rver), raw_client(s3rver)
    squatted = tmp_path / "flask-store-locks"  # the name every user shared
    squatted.mkdir(mode=0o700)
    os.chown(squatted, 65534, 65534)  # nobody's
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    app = s3_app(tmp_path, bucket, s3rver)
    with app.app_context():
        saved = [S3Provider(upload(b"%d" % i, "a.txt")).save() for i in range(2)]
    assert len({s.relative_path for s in saved}) == 2
    # The user's own lock folder, taken by another user too, refuses the
    # saves, naming it.
    own = tmp_path / f"flask-store-locks-{os.geteuid()}"
    own.mkdir(mode=0o700, exist_ok=True)
    os.chown(own, 65534, 65534)
    with app.app_context(), pytest.raises(UploadFailed, match=str(own)):
        S3Provider(upload(b"2", "a.txt")).save()
    assert len(object_keys(raw, bucket)) == 2


# -- folder markers ---------------------------------------------------------------


@pytest.mark.parametrize("setting", ["auto", False])
def test_creating_a_folder_never_replaces_an_object_at_its_marker(
    tmp_path: Path, bucket: str, endpoint: str, raw: Any, setting: Any
) -> None:
    raw.put_object(Bucket=bucket, Key="store/reports/", Body=b"another tool's bytes")
    app = s3_app(
        tmp_path,
        bucket,
        endpoint,
        STORE_PATH="store",
        STORE_S3_CONDITIONAL_WRITES=setting,
    )
    with app.app_context():
        assert S3Provider.create_folder("reports") == "reports"
        assert S3Provider.create_folder("empty") == "empty"
    assert body(raw, bucket, "store/reports/") == b"another tool's bytes"
    assert body(raw, bucket, "store/empty/") == b""
    assert sorted(object_keys(raw, bucket)) == ["store/empty/", "store/reports/"]


def test_true_refuses_to_create_a_folder_where_the_server_ignores_them(
    tmp_path: Path, s3rver: str
) -> None:
    bucket, raw = new_bucket(s3rver), raw_client(s3rver)
    app = s3_app(tmp_path, bucket, s3rver, STORE_S3_CONDITIONAL_WRITES=True)
    with app.app_context(), pytest.raises(UploadFailed, match="ignores conditional"):
        S3Provider.create_folder("reports")
    assert object_keys(raw, bucket) == []
