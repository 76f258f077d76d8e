"""S3 faults on the wire: a real HTTP S3 server (moto) behind a fault proxy.

Every case ends in success after retries, or in a clear exception, and never
with a partial object, an abandoned multipart upload, a silent overwrite or a
second copy of one upload. (tests/test_s3.py covers the same faults injected
inside botocore; these go through real sockets.)
"""

from __future__ import annotations

import functools
import io
import logging
from typing import Any

import pytest
from botocore.config import Config as BotoConfig
from flask import Flask
from sqlalchemy import Integer, create_engine, func, select
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker

from flask_store.backends import s3_client as s3
from flask_store.exceptions import StorageError, UploadFailed
from flask_store.providers.s3 import S3Provider
from flask_store.sqla import FlaskStoreType, init_session

from ..conftest import upload
from ..s3_support import object_keys, pending_multipart_uploads, s3_app
from .faultproxy import FaultProxy, Request

pytestmark = pytest.mark.s3server

MiB = 1024 * 1024


def put(key: str = "") -> Any:
    """Matches a single-request upload (PutObject) of ``key``."""

    def match(request: Request) -> bool:
        return (
            request.method == "PUT"
            and "partNumber" not in request.query
            and (not key or request.path.endswith("/" + key))
        )

    return match


def upload_part(request: Request) -> bool:
    return request.method == "PUT" and "partNumber=" in request.query


def complete(request: Request) -> bool:
    return request.method == "POST" and "uploadId=" in request.query


def head(request: Request) -> bool:
    return request.method == "HEAD"


def body(raw: Any, bucket: str, key: str) -> bytes:
    return bytes(raw.get_object(Bucket=bucket, Key=key)["Body"].read())


def test_the_proxy_forwards_untouched(
    proxied: Flask, proxy: FaultProxy, raw: Any, bucket: str
) -> None:
    saved = S3Provider(upload(b"plain", "plain.txt")).save()
    assert saved.read() == b"plain" and saved.exists()
    assert body(raw, bucket, "plain.txt") == b"plain"
    assert proxy.count("PUT", "plain.txt", "forward") == 1


@pytest.mark.parametrize(
    "fault",
    [
        {"action": "status", "status": 503, "code": "SlowDown"},
        {"action": "status", "status": 500, "code": "InternalError"},
        {"action": "drop"},
        {"action": "reset"},
        {"action": "delay", "seconds": 0.5},
    ],
    ids=["503-slowdown", "500", "dropped", "reset", "slow"],
)
def test_transient_faults_on_a_put_are_retried(
    proxied: Flask, proxy: FaultProxy, raw: Any, bucket: str, fault: dict[str, Any]
) -> None:
    proxy.add(put("flaky.txt"), times=2, **fault)
    saved = S3Provider(upload(b"made it", "flaky.txt")).save()
    assert saved.filename == "flaky.txt"
    assert object_keys(raw, bucket) == ["flaky.txt"]
    assert body(raw, bucket, "flaky.txt") == b"made it"


def test_persistent_throttling_is_a_clear_error_and_stores_nothing(
    tmp_path: Any, proxy: FaultProxy, raw: Any, bucket: str
) -> None:
    app = s3_app(tmp_path, bucket, proxy.url, STORE_S3_MAX_ATTEMPTS=2)
    proxy.add(put(), "status", times=100, status=503, code="SlowDown")
    with app.app_context(), pytest.raises(UploadFailed, match="SlowDown"):
        S3Provider(upload(b"never", "never.txt")).save()
    # STORE_S3_MAX_ATTEMPTS counts every attempt, the first one included.
    assert proxy.count("PUT", "never.txt") == 2
    assert object_keys(raw, bucket) == []


def test_a_500_on_every_part_aborts_the_multipart_upload(
    tmp_path: Any, proxy: FaultProxy, raw: Any, bucket: str
) -> None:
    app = s3_app(tmp_path, bucket, proxy.url, STORE_S3_MAX_ATTEMPTS=2)
    proxy.add(upload_part, "status", times=1000, status=500, code="InternalError")
    with app.app_context(), pytest.raises(UploadFailed):
        S3Provider(io.BytesIO(b"z" * (11 * MiB)), filename="big.bin").save()
    assert proxy.count("PUT", "partNumber=") >= 2
    assert proxy.count("DELETE", "uploadId=") >= 1  # AbortMultipartUpload
    assert object_keys(raw, bucket) == []
    assert pending_multipart_uploads(raw, bucket) == []


def test_a_reset_part_is_retried_and_the_file_is_whole(
    proxied: Flask, proxy: FaultProxy, raw: Any, bucket: str
) -> None:
    data = bytes(range(256)) * (11 * MiB // 256)
    proxy.add(upload_part, "reset", times=2)
    saved = S3Provider(io.BytesIO(data), filename="big.bin").save()
    assert body(raw, bucket, saved.absolute_path) == data
    assert pending_multipart_uploads(raw, bucket) == []


def test_a_403_on_head_is_an_error_not_missing(
    proxied: Flask, proxy: FaultProxy, raw: Any, bucket: str
) -> None:
    S3Provider(upload(b"original", "taken.txt")).save()
    proxy.add(head, "status", times=1000, status=403, code="AccessDenied")
    provider = S3Provider("taken.txt")
    with pytest.raises(StorageError, match=r"403|Forbidden|AccessDenied"):
        provider.exists()
    with pytest.raises(StorageError):
        provider.delete()
    # A save meanwhile never replaces the object (the write is conditional).
    again = S3Provider(upload(b"second", "taken.txt")).save()
    assert again.filename != "taken.txt"
    assert body(raw, bucket, "taken.txt") == b"original"
    assert sorted(object_keys(raw, bucket)) == sorted(["taken.txt", again.filename])


def test_a_lost_reply_to_an_applied_put_keeps_one_object_under_the_name(
    proxied: Flask, proxy: FaultProxy, raw: Any, bucket: str
) -> None:
    # The server stores the object, the reply is lost, botocore retries; the
    # retry's 412 is recognised as our own upload by its token.
    proxy.add(put("once.txt"), "lose", times=1)
    saved = S3Provider(upload(b"once", "once.txt")).save()
    assert proxy.count("PUT", "once.txt") == 2
    assert saved.filename == "once.txt"
    assert object_keys(raw, bucket) == ["once.txt"]
    assert body(raw, bucket, "once.txt") == b"once"


def test_a_lost_reply_while_another_writer_holds_the_name_is_not_ours(
    proxied: Flask, proxy: FaultProxy, raw: Any, bucket: str
) -> None:
    # The first attempt is refused (412: someone else's object) and its reply
    # lost; the retry's 412 must not be taken for our own upload.
    raw.put_object(Bucket=bucket, Key="theirs.txt", Body=b"theirs")
    proxy.add(put("theirs.txt"), "lose", times=1)
    saved = S3Provider(upload(b"ours", "theirs.txt")).save()
    assert saved.filename != "theirs.txt"
    assert body(raw, bucket, "theirs.txt") == b"theirs"
    assert body(raw, bucket, saved.absolute_path) == b"ours"
    assert len(object_keys(raw, bucket)) == 2


def test_a_lost_reply_to_a_completed_multipart_upload(
    proxied: Flask, proxy: FaultProxy, raw: Any, bucket: str
) -> None:
    data = b"m" * (11 * MiB)
    proxy.add(complete, "lose", times=1)
    saved = S3Provider(io.BytesIO(data), filename="multi.bin").save()
    assert saved.filename == "multi.bin"
    assert object_keys(raw, bucket) == ["multi.bin"]
    assert body(raw, bucket, "multi.bin") == data
    assert pending_multipart_uploads(raw, bucket) == []


@pytest.fixture
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clients made from now on give up on a silent server after one second."""
    monkeypatch.setattr(
        s3,
        "BotoConfig",
        functools.partial(BotoConfig, connect_timeout=1, read_timeout=1),
    )


def test_a_timeout_before_the_write_is_retried(
    short_timeouts: None, tmp_path: Any, proxy: FaultProxy, raw: Any, bucket: str
) -> None:
    app = s3_app(tmp_path, bucket, proxy.url, STORE_S3_MAX_ATTEMPTS=3)
    proxy.add(put("slow.txt"), "stall", times=1, seconds=1.5)
    with app.app_context():
        saved = S3Provider(upload(b"late", "slow.txt")).save()
    assert saved.filename == "slow.txt"
    assert object_keys(raw, bucket) == ["slow.txt"]


def test_a_timeout_after_the_write_was_applied_keeps_one_object(
    short_timeouts: None, tmp_path: Any, proxy: FaultProxy, raw: Any, bucket: str
) -> None:
    app = s3_app(tmp_path, bucket, proxy.url, STORE_S3_MAX_ATTEMPTS=3)
    # "delay" forwards after the client gave up: the write lands late, the
    # retry meets it.
    proxy.add(put("slow.txt"), "delay", times=1, seconds=1.5)
    with app.app_context():
        saved = S3Provider(upload(b"late", "slow.txt")).save()
    assert saved.filename == "slow.txt"
    assert object_keys(raw, bucket) == ["slow.txt"]
    assert body(raw, bucket, "slow.txt") == b"late"


def test_lost_replies_on_every_attempt_leave_no_orphan(
    tmp_path: Any, proxy: FaultProxy, raw: Any, bucket: str
) -> None:
    # Every attempt reaches S3 and every reply is lost. The first attempt did
    # store the object: save() must then either report it (it is complete and
    # ours) or remove it; an exception with the object left behind is an
    # orphan no row or caller knows about.
    app = s3_app(tmp_path, bucket, proxy.url, STORE_S3_MAX_ATTEMPTS=2)
    proxy.add(put("lost.txt"), "lose", times=100)
    with app.app_context():
        try:
            saved = S3Provider(upload(b"lost", "lost.txt")).save()
        except UploadFailed:
            assert object_keys(raw, bucket) == []
        else:
            assert object_keys(raw, bucket) == [saved.absolute_path]


# -- rows and objects ---------------------------------------------------------------


class Base(DeclarativeBase):
    pass


class Doc(Base):
    __tablename__ = "s3_faults_doc"
    id = mapped_column(Integer, primary_key=True)
    file = mapped_column(FlaskStoreType(200, location="docs"))


def doc_session(app: Flask, tmp_path: Any) -> sessionmaker[Session]:
    engine = create_engine(f"sqlite:///{tmp_path}/docs.db")
    Base.metadata.create_all(engine)
    factory = sessionmaker(engine)
    init_session(factory, app)
    return factory


def test_a_failed_upload_at_flush_leaves_no_row_and_no_object(
    tmp_path: Any, proxy: FaultProxy, raw: Any, bucket: str
) -> None:
    app = s3_app(tmp_path, bucket, proxy.url, STORE_S3_MAX_ATTEMPTS=2)
    factory = doc_session(app, tmp_path)
    proxy.add(put(), "status", times=100, status=500, code="InternalError")
    with app.app_context(), factory() as session:
        session.add(Doc(file=upload(b"doc", "doc.txt")))
        with pytest.raises(UploadFailed, match="InternalError"):
            session.commit()
        session.rollback()
        assert session.scalar(select(func.count()).select_from(Doc)) == 0
    assert object_keys(raw, bucket) == []
    assert pending_multipart_uploads(raw, bucket) == []


def test_a_rollback_whose_delete_fails_is_logged_with_the_key(
    tmp_path: Any,
    proxy: FaultProxy,
    raw: Any,
    bucket: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The object was saved, the transaction rolls back, and S3 refuses the
    # clean-up: the leftover is reported (never silently kept), and no row
    # points at it.
    app = s3_app(tmp_path, bucket, proxy.url, STORE_S3_MAX_ATTEMPTS=2)
    factory = doc_session(app, tmp_path)
    with app.app_context(), factory() as session:
        session.add(Doc(file=upload(b"doc", "doc.txt")))
        session.flush()
        proxy.add(
            lambda r: r.method == "DELETE",
            "status",
            times=100,
            status=500,
            code="InternalError",
        )
        with caplog.at_level(logging.ERROR):
            session.rollback()
        assert session.scalar(select(func.count()).select_from(Doc)) == 0
    assert object_keys(raw, bucket) == ["docs/doc.txt"]
    (record,) = [r for r in caplog.records if "could not delete" in r.getMessage()]
    assert "docs/doc.txt" in record.getMessage()
