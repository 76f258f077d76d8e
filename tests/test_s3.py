"""S3Provider against moto: in-process (``mock``) and over HTTP (``server``).

Fixtures that take ``s3_endpoint`` run each test twice: once under moto's
in-process mock and once against a real HTTP S3 server on 127.0.0.1.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import sys
import textwrap
import threading
import urllib.request
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from moto import mock_aws

from flask_store import Store, store_provider
from flask_store.backends.s3_locks import Reservations, default_folder
from flask_store.exceptions import (
    NotConfiguredError,
    StorageError,
    StoredFileNotFound,
    UploadFailed,
)
from flask_store.providers.s3 import S3Provider, default_domain, s3_client

from . import s3_support
from .conftest import make_app, upload
from .s3_support import (
    DroppingProxy,
    Faults,
    Requests,
    create_bucket,
    object_keys,
    pending_multipart_uploads,
    s3_app,
    s3_config,
)

# The S3 fixtures, used by name below.
moto_server = s3_support.moto_server
s3_endpoint = s3_support.s3_endpoint
bucket = s3_support.bucket
raw = s3_support.raw
s3app = s3_support.s3app

MiB = 1024 * 1024


def acl_grants(raw: Any, bucket: str, key: str) -> set[tuple[str, str]]:
    grants = raw.get_object_acl(Bucket=bucket, Key=key)["Grants"]
    return {
        (g["Grantee"].get("URI", g["Grantee"]["Type"]), g["Permission"]) for g in grants
    }


def sha256_of(stream: Any) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(MiB), b""):
        digest.update(chunk)
    return digest.hexdigest()


# -- configuration ------------------------------------------------------


def test_bucket_and_region_are_required(tmp_path: Any) -> None:
    app = make_app(tmp_path, STORE_PROVIDER="flask_store.providers.s3.S3Provider")
    with pytest.raises(NotConfiguredError) as info:
        Store(app)
    assert "STORE_S3_BUCKET" in str(info.value)
    assert "STORE_S3_REGION" in str(info.value)


def test_half_a_credential_pair_is_refused(tmp_path: Any) -> None:
    config = s3_config("b-1")
    del config["STORE_S3_SECRET_KEY"]
    with pytest.raises(NotConfiguredError, match="STORE_S3_SECRET_KEY"):
        Store(make_app(tmp_path, **config))


def test_multipart_threshold_below_s3_minimum_is_refused(tmp_path: Any) -> None:
    app = make_app(tmp_path, **s3_config("b-1"), STORE_S3_MULTIPART_THRESHOLD=MiB)
    with pytest.raises(NotConfiguredError, match="STORE_S3_MULTIPART_THRESHOLD"):
        Store(app)


@pytest.mark.parametrize("prefix", ["../up", "a/../../b", "a\\b", "C:/x", "a\x00b"])
def test_unusable_key_prefix_is_refused(tmp_path: Any, prefix: str) -> None:
    app = make_app(tmp_path, **s3_config("b-1"), STORE_PATH=prefix)
    with pytest.raises(NotConfiguredError, match="STORE_PATH"):
        Store(app)


def test_defaults(tmp_path: Any) -> None:
    app = make_app(tmp_path, **s3_config("b-1"))
    Store(app)
    assert app.config["STORE_PATH"] == ""
    assert app.config["STORE_S3_ACL"] == "private"
    assert not any(
        r.endpoint in ("flask_store.file", "flask.store.file")
        for r in app.url_map.iter_rules()
    )


def test_default_domains() -> None:
    assert (
        default_domain("media", "eu-west-1")
        == "https://media.s3.eu-west-1.amazonaws.com"
    )
    assert (
        default_domain("my.media", "us-east-2")
        == "https://s3.us-east-2.amazonaws.com/my.media"
    )
    assert default_domain("media", "x", "http://127.0.0.1:9000/") == (
        "http://127.0.0.1:9000/media"
    )


def test_keys_and_urls(tmp_path: Any) -> None:
    app = make_app(tmp_path, **s3_config("media", None), STORE_PATH="/site/files/")
    Store(app)
    with app.app_context():
        provider = S3Provider("docs/a b é.pdf")
        assert provider.absolute_path == "site/files/docs/a b é.pdf"
        assert provider.relative_url == "/site/files/docs/a%20b%20%C3%A9.pdf"
        assert provider.absolute_url == (
            "https://media.s3.eu-west-1.amazonaws.com/site/files/docs/a%20b%20%C3%A9.pdf"
        )
    cdn = make_app(
        tmp_path,
        **s3_config("media", None),
        STORE_PATH="/site/files/",
        STORE_DOMAIN="https://cdn.example.com/",
    )
    Store(cdn)
    with cdn.app_context():
        assert S3Provider("docs/a b é.pdf").absolute_url == (
            "https://cdn.example.com/site/files/docs/a%20b%20%C3%A9.pdf"
        )


def test_endpoint_url_gives_path_style_urls(tmp_path: Any) -> None:
    app = make_app(tmp_path, **s3_config("media", "http://127.0.0.1:9000"))
    Store(app)
    with app.app_context():
        assert S3Provider("a.txt").absolute_url == "http://127.0.0.1:9000/media/a.txt"


def test_one_client_per_app_reused_across_threads(tmp_path: Any) -> None:
    first = make_app(tmp_path, **s3_config("b-1"))
    second = make_app(tmp_path, **s3_config("b-2"))
    Store(first)
    Store(second)
    seen: list[Any] = []
    threads = [
        threading.Thread(target=lambda: seen.append(s3_client(first))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(client is s3_client(first) for client in seen)
    assert s3_client(second) is not s3_client(first)


def test_default_credential_chain_when_keys_unset(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = s3_config("chain-bucket")
    del config["STORE_S3_ACCESS_KEY"], config["STORE_S3_SECRET_KEY"]
    with mock_aws():
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "KEY-FROM-ENVIRONMENT")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-from-environment")
        create_bucket("chain-bucket")
        app = make_app(tmp_path, **config)
        Store(app)
        with app.app_context():
            saved = store_provider()(upload(b"x", "a.txt")).save()
            assert saved.read() == b"x"
            credential = parse_qs(urlsplit(saved.presigned_url()).query)[
                "X-Amz-Credential"
            ]
            assert credential[0].startswith("KEY-FROM-ENVIRONMENT/")


# -- saving -------------------------------------------------------------


def test_small_save_is_one_request_with_acl_and_type(
    s3app: Flask, raw: Any, bucket: str
) -> None:
    requests = Requests(s3app)
    saved = S3Provider(upload(b"hello", "hello.txt"), location="docs").save()
    assert requests.sent == ["PutObject"]
    ((_, params),) = requests.params
    assert params["IfNoneMatch"] == "*"
    assert params["ACL"] == "private"
    head = raw.head_object(Bucket=bucket, Key="docs/hello.txt")
    assert head["ContentType"] == "text/plain"
    assert head["ContentLength"] == 5
    assert acl_grants(raw, bucket, "docs/hello.txt") == {
        ("CanonicalUser", "FULL_CONTROL")
    }
    assert saved.absolute_path == "docs/hello.txt"


def test_first_save_asks_once_whether_writes_are_conditional(
    tmp_path: Any, bucket: str, s3_endpoint: str | None, raw: Any
) -> None:
    app = s3_app(tmp_path, bucket, s3_endpoint)
    requests = Requests(app)
    with app.app_context():
        S3Provider(upload(b"first", "first.txt")).save()
        # A probe object under STORE_PATH, written again with each condition
        # (If-None-Match, then If-Match on a wrong ETag, as a PUT and as a
        # one-part multipart upload), then deleted; then the save itself.
        # moto refuses all but If-Match on completing a multipart upload.
        completion = ["CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"]
        assert requests.sent == [
            "PutObject",
            "PutObject",  # If-None-Match: refused
            *completion,  # If-None-Match: refused
            "AbortMultipartUpload",
            "PutObject",  # If-Match: refused
            *completion,  # If-Match: accepted
            "DeleteObject",
            "PutObject",
        ]
        requests.sent.clear()
        S3Provider(upload(b"second", "second.txt")).save()
        assert requests.sent == ["PutObject"]
    assert object_keys(raw, bucket) == ["first.txt", "second.txt"]


def refuse_the_condition(app: Flask) -> None:
    """Make the app's server answer 501 to any write that has If-None-Match."""
    Faults(app).fail(
        "PutObject",
        times=100,
        status=501,
        code="NotImplemented",
        only=lambda request: "If-None-Match" in request.headers,
    )


def test_a_server_that_refuses_the_condition_needs_false(
    tmp_path: Any, bucket: str, s3_endpoint: str | None, raw: Any
) -> None:
    app = s3_app(tmp_path, bucket, s3_endpoint)
    refuse_the_condition(app)
    (result,) = S3Provider.backend_checks(app=app)
    assert not result.ok
    assert "set STORE_S3_CONDITIONAL_WRITES = False" in result.detail
    with app.app_context(), pytest.raises(UploadFailed, match="NotImplemented"):
        S3Provider(upload(b"x", "a.txt")).save()
    assert object_keys(raw, bucket) == []

    app = s3_app(tmp_path, bucket, s3_endpoint, STORE_S3_CONDITIONAL_WRITES=False)
    refuse_the_condition(app)
    (result,) = S3Provider.backend_checks(app=app)
    assert result.ok and "is False, so saves send no condition" in result.detail
    with app.app_context():
        first = S3Provider(upload(b"one", "a.txt")).save()
        second = S3Provider(upload(b"two", "a.txt")).save()
    assert (first.filename, second.filename != "a.txt") == ("a.txt", True)
    assert raw.get_object(Bucket=bucket, Key="a.txt")["Body"].read() == b"one"


@pytest.mark.parametrize(
    ("filename", "data", "expected"),
    [
        ("data.unknownext", b"x", "application/octet-stream"),
        ("README", b"x", "application/octet-stream"),
        ("page.html.gz", gzip.compress(b"<html>", mtime=0), "application/gzip"),
        ("photo.JPG", b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
    ],
)
def test_content_type(
    s3app: Flask, raw: Any, bucket: str, filename: str, data: bytes, expected: str
) -> None:
    saved = S3Provider(upload(data, filename)).save()
    assert (
        raw.head_object(Bucket=bucket, Key=saved.absolute_path)["ContentType"]
        == expected
    )
    assert saved.content_type == expected


def test_public_acl_and_no_acl(
    tmp_path: Any, bucket: str, s3_endpoint: str | None, raw: Any
) -> None:
    app = s3_app(tmp_path, bucket, s3_endpoint, STORE_S3_ACL="public-read")
    with app.app_context():
        saved = S3Provider(upload(b"x", "open.txt")).save()
    assert ("http://acs.amazonaws.com/groups/global/AllUsers", "READ") in acl_grants(
        raw, bucket, saved.absolute_path
    )
    if s3_endpoint is not None:  # the default URL of a public object works
        with urllib.request.urlopen(saved.absolute_url) as response:
            assert response.read() == b"x"
    app = s3_app(tmp_path, bucket, s3_endpoint, STORE_S3_ACL=None)
    with app.app_context():
        requests = Requests(app)
        S3Provider(upload(b"x", "plain.txt")).save()
    assert "ACL" not in requests.params[0][1]


def test_store_path_is_the_key_prefix(
    tmp_path: Any, bucket: str, s3_endpoint: str | None, raw: Any
) -> None:
    app = s3_app(tmp_path, bucket, s3_endpoint, STORE_PATH="site/media")
    with app.app_context():
        saved = S3Provider(upload(b"x", "a.txt"), location="in").save()
        assert saved.relative_path == "in/a.txt"
        assert object_keys(raw, bucket) == ["site/media/in/a.txt"]
        assert [f.path for f in S3Provider.iter_files()] == ["in/a.txt"]
        assert [e.path for e in S3Provider.list_folder().entries] == ["in"]
        assert S3Provider("in/a.txt").read() == b"x"


def test_taken_name_costs_one_more_request(s3app: Flask, raw: Any, bucket: str) -> None:
    S3Provider(upload(b"first", "same.bin")).save()
    requests = Requests(s3app)
    second = S3Provider(upload(b"second", "same.bin")).save()
    assert requests.sent == ["PutObject", "PutObject"]
    assert second.filename != "same.bin"
    assert raw.get_object(Bucket=bucket, Key="same.bin")["Body"].read() == b"first"
    assert (
        raw.get_object(Bucket=bucket, Key=second.absolute_path)["Body"].read()
        == b"second"
    )


def test_concurrent_saves_of_one_name_never_overwrite(
    s3app: Flask, raw: Any, bucket: str
) -> None:
    # Both uploads pass this point before either reaches S3: they race for
    # the same key, and only the conditional write keeps them apart.
    barrier = threading.Barrier(2, timeout=10)
    first_calls = [2]

    def meet(**_: Any) -> None:
        with lock:
            first_calls[0] -= 1
            waits = first_calls[0] >= 0
        if waits:
            barrier.wait()

    lock = threading.Lock()
    s3_client(s3app).meta.events.register("before-call.s3.PutObject", meet)
    saved: dict[bytes, str] = {}
    errors: list[BaseException] = []

    def save(data: bytes) -> None:
        try:
            with s3app.app_context():
                saved[data] = S3Provider(upload(data, "same.bin")).save().absolute_path
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(d,)) for d in (b"one", b"two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(saved.values())) == 2 and "same.bin" in saved.values()
    for data, key in saved.items():
        assert raw.get_object(Bucket=bucket, Key=key)["Body"].read() == data


def test_large_file_is_a_bounded_multipart_upload(
    s3app: Flask, raw: Any, bucket: str
) -> None:
    data = bytes(range(256)) * (21 * MiB // 256)  # 21 MiB
    requests = Requests(s3app)
    saved = S3Provider(io.BytesIO(data), filename="big.bin").save()
    assert requests.sent[0] == "CreateMultipartUpload"
    assert requests.sent[-1] == "CompleteMultipartUpload"
    parts = [length for op, length in requests.lengths if op == "UploadPart"]
    assert sorted(parts) == [5 * MiB, 8 * MiB, 8 * MiB]
    complete = [p for op, p in requests.params if op == "CompleteMultipartUpload"]
    assert complete[0]["IfNoneMatch"] == "*"
    body = raw.get_object(Bucket=bucket, Key="big.bin")["Body"]
    assert sha256_of(body) == hashlib.sha256(data).hexdigest()
    assert raw.head_object(Bucket=bucket, Key="big.bin")["ContentType"] == (
        "application/octet-stream"
    )
    assert saved.size == len(data)

    # The same name again: the completed upload is refused, aborted, and
    # the file goes to the next name; the first is untouched.
    again = S3Provider(io.BytesIO(data[::-1]), filename="big.bin").save()
    assert again.filename != "big.bin"
    assert sha256_of(raw.get_object(Bucket=bucket, Key="big.bin")["Body"]) == (
        hashlib.sha256(data).hexdigest()
    )
    assert sha256_of(again.open()) == hashlib.sha256(data[::-1]).hexdigest()
    assert pending_multipart_uploads(raw, bucket) == []


def test_non_seekable_stream_with_a_taken_name(s3app: Flask) -> None:
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self.data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            chunk = self.data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    S3Provider(upload(b"first", "pipe.txt")).save()
    saved = S3Provider(
        io.BufferedReader(Pipe(b"piped data")), filename="pipe.txt"
    ).save()
    assert saved.filename != "pipe.txt"
    assert saved.read() == b"piped data"


# -- retries and failures -----------------------------------------------


def test_slow_down_is_retried(s3app: Flask, raw: Any, bucket: str) -> None:
    Faults(s3app).fail("PutObject", times=2)
    requests = Requests(s3app)
    saved = S3Provider(upload(b"made it", "retry.txt")).save()
    assert requests.sent == ["PutObject"] * 3
    assert saved.filename == "retry.txt"
    assert raw.get_object(Bucket=bucket, Key="retry.txt")["Body"].read() == b"made it"


def test_dropped_connection_is_retried(s3app: Flask, raw: Any, bucket: str) -> None:
    Faults(s3app).drop("PutObject", times=2)
    saved = S3Provider(upload(b"made it", "dropped.txt")).save()
    assert saved.filename == "dropped.txt"
    assert object_keys(raw, bucket) == ["dropped.txt"]


def test_lost_reply_to_a_completed_write_is_not_a_clash(
    s3app: Flask, raw: Any, bucket: str
) -> None:
    # The first PutObject lands but the client retries it anyway (as after a
    # reply lost on the way back); the retry's 412 is our own object.
    retried = [False]

    def retry_once(response: Any, **_: Any) -> int | None:
        if response is not None and not retried[0]:
            retried[0] = True
            return 0
        return None

    s3_client(s3app).meta.events.register_first("needs-retry.s3.PutObject", retry_once)
    saved = S3Provider(upload(b"once", "once.txt")).save()
    assert retried[0]
    assert saved.filename == "once.txt"
    assert object_keys(raw, bucket) == ["once.txt"]


def test_persistent_failure_raises_and_leaves_nothing(
    tmp_path: Any, bucket: str, s3_endpoint: str | None, raw: Any
) -> None:
    app = s3_app(tmp_path, bucket, s3_endpoint, STORE_S3_MAX_ATTEMPTS=2)
    with app.app_context():
        Faults(app).fail("PutObject", times=10)
        with pytest.raises(UploadFailed, match="SlowDown"):
            S3Provider(upload(b"x", "never.txt")).save()
    assert object_keys(raw, bucket) == []


def test_failed_multipart_upload_is_aborted(
    tmp_path: Any, bucket: str, s3_endpoint: str | None, raw: Any
) -> None:
    app = s3_app(tmp_path, bucket, s3_endpoint, STORE_S3_MAX_ATTEMPTS=2)
    with app.app_context():
        faults = Faults(app)
        faults.fail("UploadPart", times=1000, status=500, code="InternalError")
        with pytest.raises(UploadFailed):
            S3Provider(io.BytesIO(b"z" * (17 * MiB)), filename="big.bin").save()
    assert object_keys(raw, bucket) == []
    assert pending_multipart_uploads(raw, bucket) == []


def test_missing_bucket_is_an_upload_failure(
    tmp_path: Any, s3_endpoint: str | None
) -> None:
    app = s3_app(tmp_path, "no-such-bucket-here", s3_endpoint)
    with app.app_context(), pytest.raises(UploadFailed, match="NoSuchBucket"):
        S3Provider(upload(b"x", "a.txt")).save()


# -- reading ------------------------------------------------------------


def test_exists_only_treats_404_as_missing(s3app: Flask) -> None:
    s3app.config["STORE_S3_MAX_ATTEMPTS"] = 2  # the client is made on first use
    S3Provider(upload(b"x", "here.txt")).save()
    assert S3Provider("here.txt").exists()
    assert not S3Provider("gone.txt").exists()
    faults = Faults(s3app)
    faults.fail("HeadObject", times=1, status=403, code="403")
    with pytest.raises(StorageError, match="403") as info:
        S3Provider("here.txt").exists()
    assert not isinstance(info.value, StoredFileNotFound)
    faults.fail("HeadObject", times=10, status=500, code="500")
    with pytest.raises(StorageError):
        S3Provider("here.txt").exists()


def test_open_streams_the_body(s3app: Flask) -> None:
    data = b"0123456789" * (2 * MiB)
    S3Provider(io.BytesIO(data), filename="stream.bin").save()
    requests = Requests(s3app)
    with S3Provider("stream.bin").open() as stream:
        assert stream.read(10) == b"0123456789"
        # Only what was asked for has been consumed from the connection.
        assert stream.tell() == 10
        assert sha256_of(stream) == hashlib.sha256(data[10:]).hexdigest()
    assert requests.sent == ["GetObject"]


def test_missing_objects(s3app: Flask) -> None:
    missing = S3Provider("nope.txt")
    with pytest.raises(StoredFileNotFound):
        missing.open()
    with pytest.raises(StoredFileNotFound):
        missing.delete()
    with pytest.raises(StoredFileNotFound):
        _ = missing.size


def test_delete(s3app: Flask, raw: Any, bucket: str) -> None:
    saved = S3Provider(upload(b"x", "bye.txt")).save()
    saved.delete()
    assert object_keys(raw, bucket) == []


def test_presigned_url(s3app: Flask, s3_endpoint: str | None) -> None:
    saved = S3Provider(upload(b"secret", "private.txt")).save()
    url = saved.presigned_url(expires_in=60)
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["60"]
    assert urlsplit(url).path.endswith("/private.txt")
    if s3_endpoint is not None:  # a real HTTP server: fetch it
        with urllib.request.urlopen(url) as response:
            assert response.read() == b"secret"
    with pytest.raises(ValueError, match="expires_in"):
        saved.presigned_url(expires_in=0)


# -- listing ------------------------------------------------------------


def _names(page: Any) -> list[str]:
    return [e.name for e in page.entries]


def test_listing_pages_with_bounded_requests(s3app: Flask) -> None:
    for name in ["a.txt", "b.txt", "c.txt"]:
        S3Provider(upload(b"x", name)).save()
    for i in range(30):  # a big folder: paging past it must not list it
        S3Provider(upload(b"x", f"{i}.txt"), location="b").save()
    S3Provider.create_folder("empty")
    requests = Requests(s3app)
    seen: list[str] = []
    after = None
    while True:
        page = S3Provider.list_folder(after=after, limit=2)
        seen += _names(page)
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == ["a.txt", "b.txt", "b", "c.txt", "empty"]
    lists = [p for op, p in requests.params if op == "ListObjectsV2"]
    assert len(lists) == 3
    assert all(p["Delimiter"] == "/" and p["MaxKeys"] <= 4 for p in lists)
    page = S3Provider.list_folder()
    assert [e.path for e in page.folders] == ["b", "empty"]
    with pytest.raises(ValueError, match="limit"):
        S3Provider.list_folder(limit=0)
    with pytest.raises(ValueError):
        S3Provider.list_folder("../up")
    assert {e.name: e.size for e in page.files} == {"a.txt": 1, "b.txt": 1, "c.txt": 1}


def test_folder_markers_are_hidden(s3app: Flask, raw: Any, bucket: str) -> None:
    assert S3Provider.create_folder("new/inner") == "new/inner"
    assert S3Provider.create_folder("new/inner") == "new/inner"  # exists: fine
    assert object_keys(raw, bucket) == ["new/inner/"]
    assert [e.path for e in S3Provider.list_folder().folders] == ["new"]
    assert [e.path for e in S3Provider.list_folder("new").entries] == ["new/inner"]
    assert S3Provider.list_folder("new/inner").entries == []
    S3Provider(upload(b"x", "f.txt"), location="new/inner").save()
    assert [e.path for e in S3Provider.list_folder("new/inner").entries] == [
        "new/inner/f.txt"
    ]
    assert [f.path for f in S3Provider.iter_files()] == ["new/inner/f.txt"]


def test_contains_scans_the_folder(s3app: Flask) -> None:
    for name in ["Report.pdf", "photo.jpg", "report-2.pdf", "x.txt"]:
        S3Provider(upload(b"x", name)).save()
    page = S3Provider.list_folder(contains="REPORT", limit=1)
    assert _names(page) == ["Report.pdf"]
    assert _names(S3Provider.list_folder(contains="report", after=page.next_after)) == [
        "report-2.pdf"
    ]


def test_iter_files_follows_pages(s3app: Flask) -> None:
    requests = Requests(s3app)
    for i in range(3):
        S3Provider(upload(b"x" * i, f"{i}.txt"), location="deep/er").save()
    files = {f.path: f.size for f in S3Provider.iter_files("deep")}
    assert files == {"deep/er/0.txt": 0, "deep/er/1.txt": 1, "deep/er/2.txt": 2}
    assert requests.sent.count("ListObjectsV2") == 1


def test_upload_memory_is_bounded(moto_server: str, tmp_path: Any) -> None:
    # A separate process, so only the uploading side's memory is measured
    # (the server keeps the object in this one).
    bucket = "memory-bound"
    create_bucket(bucket, moto_server)
    big = tmp_path / "big.bin"
    with open(big, "wb") as out:
        for i in range(80):
            out.write(bytes([i]) * MiB)
    script = tmp_path / "measure.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import io, json, tracemalloc
            from flask import Flask
            from flask_store import Store
            from flask_store.providers.s3 import S3Provider

            app = Flask("measure")
            app.config.update({s3_config(bucket, moto_server)!r})
            app.config["STORE_S3_MULTIPART_THRESHOLD"] = 5 * 1024 * 1024
            Store(app)
            with app.app_context():
                S3Provider(io.BytesIO(b"x"), filename="warm.txt").save()
                tracemalloc.start()
                with open({str(big)!r}, "rb") as source:
                    saved = S3Provider(source, filename="big.bin").save()
                peak = tracemalloc.get_traced_memory()[1]
            print(json.dumps({{"peak": peak, "size": saved.size}}))
            """
        )
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["size"] == 80 * MiB
    # A few 5 MiB parts at a time (four waiting, some being sent), never
    # anything like the whole 80 MiB file.
    assert report["peak"] < 40 * MiB, report


@pytest.mark.s3server
def test_connections_dropped_by_the_network(moto_server: str, tmp_path: Any) -> None:
    bucket = f"dropped-{uuid.uuid4().hex[:8]}"
    raw = create_bucket(bucket, moto_server)
    proxy = DroppingProxy(moto_server, drop=2)
    try:
        app = s3_app(tmp_path, bucket, proxy.url, STORE_S3_MAX_ATTEMPTS=3)
        with app.app_context():
            saved = S3Provider(upload(b"through", "proxied.txt")).save()
            assert proxy.dropped == 2
            assert saved.read() == b"through"

            proxy.drop = 1000  # the network is gone for good
            with pytest.raises(UploadFailed):
                S3Provider(upload(b"lost", "lost.txt")).save()
    finally:
        proxy.close()
    assert object_keys(raw, bucket) == ["proxied.txt"]


@pytest.mark.s3server
def test_every_reply_lost_is_still_our_upload(moto_server: str, tmp_path: Any) -> None:
    # Every attempt reaches S3 and every reply is lost: the first stored the
    # object. save() finds its own upload there instead of failing and
    # leaving it behind as an orphan.
    bucket = f"lost-{uuid.uuid4().hex[:8]}"
    raw = create_bucket(bucket, moto_server)
    proxy = DroppingProxy(moto_server, lose_puts=100)
    try:
        app = s3_app(tmp_path, bucket, proxy.url, STORE_S3_MAX_ATTEMPTS=2)
        with app.app_context():
            saved = S3Provider(upload(b"landed", "lost.txt")).save()
    finally:
        proxy.close()
    assert proxy.lose_puts < 100  # replies were lost
    assert saved.filename == "lost.txt"
    assert object_keys(raw, bucket) == ["lost.txt"]
    assert raw.get_object(Bucket=bucket, Key="lost.txt")["Body"].read() == b"landed"


#: This user's lock folder, as every process of the user finds it.
LOCKS = default_folder()


def test_names_are_reserved_across_the_processes_of_a_host() -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import sys
                from flask_store.backends.s3_locks import default_folder, reservations
                assert reservations.reserve("host-bucket", "held.txt", locks=default_folder())
                print("held", flush=True)
                sys.stdin.read()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "held"
        here = Reservations()
        assert not here.reserve("host-bucket", "held.txt", locks=LOCKS)
        assert here.reserve("host-bucket", "other.txt", locks=LOCKS)
        assert not here.reserve("host-bucket", "other.txt", locks=LOCKS)  # ours
        here.release("host-bucket", "other.txt")
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()
    # The holder is gone, and its lock with it.
    assert here.reserve("host-bucket", "held.txt", locks=LOCKS)
    here.release("host-bucket", "held.txt")
