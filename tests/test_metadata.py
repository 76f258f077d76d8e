"""``provider.metadata``: measured by the save, read back from where it was kept."""

from __future__ import annotations

import hashlib
import io
import os
from typing import Any

import pytest
from flask import Flask

from flask_store import store_provider
from flask_store.metadata import FileMetadata, Measured
from flask_store.providers.s3 import S3Provider

from . import s3_support
from .conftest import upload
from .hostile_files import image
from .s3_support import s3_app
from .test_spool import BIG, post, spool_app

# The S3 fixtures, used by name below.
moto_server, s3_endpoint = s3_support.moto_server, s3_support.s3_endpoint
bucket, raw, s3app = s3_support.bucket, s3_support.raw, s3_support.s3app

MiB = 1024 * 1024


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_save_measures_the_file(storage: Flask) -> None:
    data = image("PNG", 640, 480)
    saved = store_provider()(upload(data, "Holiday Photo (1).PNG")).save()
    expected = FileMetadata(
        size=len(data),
        content_type="image/png",
        sha256=sha256(data),
        filename="Holiday Photo (1).PNG",
        width=640,
        height=480,
    )
    assert saved.metadata == expected
    # A handle of the stored path reads what the save recorded.
    assert store_provider()(saved.relative_path).metadata == expected
    assert expected.to_dict() == {
        "size": len(data),
        "content_type": "image/png",
        "sha256": sha256(data),
        "filename": "Holiday Photo (1).PNG",
        "width": 640,
        "height": 480,
    }
    assert FileMetadata.from_dict(expected.to_dict()) == expected


def test_text_and_large_files(storage: Flask) -> None:
    data = os.urandom(3 * MiB + 17)
    saved = store_provider()(upload(data, "blob.bin")).save()
    assert saved.read() == data
    again = store_provider()(saved.relative_path).metadata
    assert (again.size, again.sha256, again.width) == (len(data), sha256(data), None)
    notes = store_provider()(upload(b"a,b\n1,2\n", "t.csv")).save()
    assert notes.metadata.content_type == "text/csv"
    assert store_provider()(notes.relative_path).metadata.content_type == "text/csv"


def test_a_plain_file_object_and_an_unseekable_stream(storage: Flask) -> None:
    class Unseekable:
        """Only ``read``, as a socket's file or a pipe gives."""

        def __init__(self, data: bytes) -> None:
            self.read = io.BytesIO(data).read

    data = b"%PDF-1.7\n" + b"x" * 200_000
    saved = store_provider()(Unseekable(data), filename="r.pdf").save()
    assert store_provider()(saved.relative_path).metadata.sha256 == sha256(data)
    assert saved.metadata.content_type == "application/pdf"


def test_a_file_stored_by_another_tool_has_no_checksum(storage: Flask) -> None:
    backend = store_provider().backend_of()
    backend.write(io.BytesIO(b"hello"), ["other.txt"])  # not through a provider
    metadata = store_provider()("other.txt").metadata
    assert (metadata.size, metadata.sha256, metadata.filename) == (5, None, None)
    assert metadata.content_type == "text/plain"


def test_a_save_from_a_file_on_disk(storage: Flask, tmp_path: Any) -> None:
    data = os.urandom(2 * MiB)
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    with open(source, "rb") as stream:  # the local backend copies it in-kernel
        saved = store_provider()(stream, filename="copy.bin").save()
    assert store_provider()(saved.relative_path).metadata.sha256 == sha256(data)
    assert saved.read() == data


def test_deleting_forgets_the_metadata(storage: Flask) -> None:
    saved = store_provider()(upload(b"one", "a.txt")).save()
    saved.delete()
    again = store_provider()(upload(b"other", "a.txt")).save()
    assert again.filename == "a.txt"
    assert store_provider()("a.txt").metadata.sha256 == sha256(b"other")


def test_a_moved_local_file_keeps_its_metadata(app: Flask) -> None:
    saved = store_provider()(upload(b"moved", "m.txt")).save()
    moved = store_provider().backend_of().move(saved.relative_path, "elsewhere")
    assert store_provider()(moved).metadata.sha256 == sha256(b"moved")


def test_a_local_file_edited_in_place_keeps_a_record_verify_finds_wrong(
    app: Flask,
) -> None:
    saved = store_provider()(upload(b"original", "e.txt")).save()
    with open(saved.absolute_path, "r+b") as stream:
        stream.write(b"tampered")
    recorded = store_provider()("e.txt").metadata
    assert recorded.sha256 == sha256(b"original")  # what the save saw
    assert hashlib.sha256(store_provider()("e.txt").read()).hexdigest() != (
        recorded.sha256
    )


def test_measured_reads_like_the_stream() -> None:
    data = os.urandom(200_000)
    measured = Measured(io.BytesIO(data), "x.bin")
    assert measured.read(10) + measured.read() == data
    assert measured.metadata().sha256 == sha256(data)
    assert FileMetadata.from_dict({"size": "1", "content_type": "x"}) is None
    assert FileMetadata.from_dict({"size": 1}) is None


# -- S3: the checksum goes with the upload, and S3 checks it -----------------


def test_s3_gets_the_checksum_and_keeps_the_metadata(
    s3app: Flask, raw: Any, bucket: str
) -> None:
    data = image("GIF", 12, 7)
    saved = S3Provider(upload(data, "Ünïcode name.gif")).save()
    head = raw.head_object(
        Bucket=bucket, Key=saved.absolute_path, ChecksumMode="ENABLED"
    )
    assert head["ContentType"] == "image/gif"
    assert head["ChecksumSHA256"] == FileMetadata(1, "", sha256(data)).sha256_base64
    assert head["Metadata"]["sha256"] == sha256(data)
    assert head["Metadata"]["original-filename"] == "%C3%9Cn%C3%AFcode%20name.gif"
    metadata = S3Provider(saved.relative_path).metadata
    assert metadata == saved.metadata
    assert (metadata.filename, metadata.width, metadata.height) == (
        "Ünïcode name.gif",
        12,
        7,
    )


@pytest.mark.parametrize("width", ["12px", "-12", "9" * 5000, ""])
def test_s3_metadata_another_tool_wrote_badly_gives_no_image_size(
    s3app: Flask, raw: Any, bucket: str, width: str
) -> None:
    raw.put_object(
        Bucket=bucket,
        Key="other.gif",
        Body=image("GIF", 12, 7),
        ContentType="image/gif",
        Metadata={"width": width, "height": "7"},
    )
    metadata = S3Provider("other.gif").metadata
    assert (metadata.size, metadata.width, metadata.height) == (
        len(image("GIF", 12, 7)),
        None,
        None,
    )


def test_s3_is_sent_the_checksum_computed_before_the_upload(
    s3app: Flask, raw: Any, bucket: str
) -> None:
    # moto stores the checksum it is sent but does not check it (S3 does):
    # what is tested here is that the request carries the save's SHA-256.
    sent: list[bytes] = []
    client = S3Provider.backend_of().client

    def record(request: Any, **_: Any) -> None:
        sent.append(request.headers.get("x-amz-checksum-sha256", b""))

    client.meta.events.register("before-send.s3.PutObject", record)
    data = b"checked by S3"
    S3Provider(upload(data, "c.txt")).save()
    expected = FileMetadata(1, "", sha256(data)).sha256_base64
    assert expected is not None
    assert sent[-1] == expected.encode()


def test_s3_multipart_upload_checks_each_part(
    tmp_path: Any, bucket: str, s3_endpoint: str | None, raw: Any
) -> None:
    app = s3_app(tmp_path, bucket, s3_endpoint, STORE_S3_MULTIPART_THRESHOLD=5 * MiB)
    data = os.urandom(11 * MiB)
    with app.app_context():
        saved = S3Provider(upload(data, "big.bin")).save()
        assert S3Provider(saved.relative_path).metadata.sha256 == sha256(data)
    head = raw.head_object(
        Bucket=bucket, Key=saved.absolute_path, ChecksumMode="ENABLED"
    )
    # A multipart object's checksum is of its parts' checksums, checked per part.
    assert head["ChecksumSHA256"]
    assert raw.get_object(Bucket=bucket, Key=saved.absolute_path)["Body"].read() == data


def test_a_spooled_upload_is_measured_and_still_linked(tmp_path: Any) -> None:
    app = spool_app(tmp_path)
    response = post(app, BIG, filename="big.bin")
    assert response.json["linked"] is True  # nothing copied
    with app.app_context():
        metadata = store_provider()(response.json["path"]).metadata
    assert (metadata.size, metadata.sha256) == (len(BIG), sha256(BIG))
