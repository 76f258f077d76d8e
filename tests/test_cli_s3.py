"""``flask store check`` and ``cleanup`` on S3, against moto's server and s3rver.

``check`` makes a real conditional write and says what the server did with
it; it lists background uploads left spooled, and ``cleanup`` uploads those
that never reached S3 and removes those that did.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ConnectionClosedError
from flask import Flask

from flask_store.providers.s3 import S3GeventProvider, s3_client, wait_for_uploads

from . import s3_support
from .s3_support import (
    S3_GEVENT,
    Faults,
    ask_conditional_writes,
    create_bucket,
    is_final_upload,
    object_keys,
    raw_client,
    s3_app,
)
from .test_s3_contract import Gate

pytestmark = pytest.mark.s3server

moto_server = s3_support.moto_server
s3rver = s3_support.s3rver

HONOURS = {"moto": True, "s3rver": False}


@pytest.fixture(params=sorted(HONOURS))
def server(request: pytest.FixtureRequest) -> tuple[str, str]:
    fixture = "moto_server" if request.param == "moto" else "s3rver"
    return request.param, request.getfixturevalue(fixture)


@pytest.fixture
def bucket(server: tuple[str, str]) -> str:
    name = f"cli-{uuid.uuid4().hex[:12]}"
    create_bucket(name, server[1])
    return name


@pytest.fixture
def raw(server: tuple[str, str]) -> Any:
    return raw_client(server[1])


def run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["store", *args])


@pytest.mark.parametrize("provider", ["S3Provider", "S3GeventProvider"])
def test_check_reports_what_the_server_does_with_conditional_writes(
    server: tuple[str, str], tmp_path: Path, bucket: str, raw: Any, provider: str
) -> None:
    app = s3_app(
        tmp_path,
        bucket,
        server[1],
        STORE_PROVIDER=f"flask_store.providers.s3.{provider}",
        STORE_S3_SPOOL_PATH=str(tmp_path / "spool"),
    )
    result = run(app, "check")
    assert result.exit_code == 0, result.output
    (line,) = [x for x in result.stdout.splitlines() if "conditional writes:" in x]
    if HONOURS[server[0]]:
        assert line.startswith("  ok    conditional writes: the server honours them")
    else:
        assert "the server IGNORES them" in line
        assert "saves from several machines can race" in line
    assert object_keys(raw, bucket) == []  # every probe is gone


def test_check_fails_when_true_is_asked_of_a_server_that_ignores_them(
    server: tuple[str, str], tmp_path: Path, bucket: str
) -> None:
    app = s3_app(tmp_path, bucket, server[1], STORE_S3_CONDITIONAL_WRITES=True)
    result = run(app, "check", "--json")
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    if HONOURS[server[0]]:
        assert result.exit_code == 0 and checks["conditional writes"]["ok"]
        return
    # The probe file itself is refused, with the reason.
    assert result.exit_code != 0
    assert not checks["write"]["ok"]
    assert "ignores conditional writes" in checks["write"]["detail"]
    assert "STORE_S3_CONDITIONAL_WRITES is True" in checks["write"]["detail"]
    assert "check failed at write" in result.stderr


@pytest.fixture
def gapp(server: tuple[str, str], tmp_path: Path, bucket: str) -> Iterator[Flask]:
    app = s3_app(
        tmp_path,
        bucket,
        server[1],
        STORE_PROVIDER=S3_GEVENT,
        STORE_S3_SPOOL_PATH=str(tmp_path / "spool"),
        STORE_S3_MAX_ATTEMPTS=1,
        STORE_S3_BACKGROUND_ATTEMPTS=1,
    )
    ask_conditional_writes(app)
    with app.app_context():
        yield app
    assert wait_for_uploads(timeout=60)


def leave_three_uploads_behind(app: Flask, raw: Any, bucket: str) -> None:
    """Three background uploads that gave up, their spooled copies kept.

    ``failed.txt``: its upload failed, only its placeholder is on S3.
    ``landed.txt``: its upload reached S3, but its reply and the check after
    it were lost. ``taken.txt``: another tool wrote over its placeholder.
    """
    faults = Faults(app)
    faults.fail(
        "PutObject", times=1, status=500, code="InternalError", only=is_final_upload
    )
    S3GeventProvider(io.BytesIO(b"failed bytes"), filename="failed.txt").save()
    assert wait_for_uploads(timeout=30)

    lost = [1]

    def lose_reply(**_: Any) -> None:
        if lost[0]:
            lost[0] -= 1
            # The check that would find the object fails too.
            faults.fail("HeadObject", times=1, status=500, code="InternalError")
            raise ConnectionClosedError(endpoint_url="lost reply")

    held = Gate(app)
    S3GeventProvider(io.BytesIO(b"landed bytes"), filename="landed.txt").save()
    events = s3_client(app).meta.events
    events.register("after-call.s3.PutObject", lose_reply, unique_id="lose")
    held.open.set()
    assert wait_for_uploads(timeout=30)
    events.unregister("after-call.s3.PutObject", unique_id="lose")

    gate = Gate(app, heads=True)
    S3GeventProvider(io.BytesIO(b"taken bytes"), filename="taken.txt").save()
    raw.put_object(Bucket=bucket, Key="taken.txt", Body=b"another tool's")
    gate.open.set()
    assert wait_for_uploads(timeout=30)


def test_cleanup_finishes_what_background_uploads_left_behind(
    gapp: Flask, raw: Any, bucket: str, tmp_path: Path
) -> None:
    leave_three_uploads_behind(gapp, raw, bucket)
    spool = tmp_path / "spool"
    assert len(list(spool.glob("*.upload"))) == 3

    # Within the grace period they may still be under way: not reported.
    check = run(gapp, "check", "--json")
    assert check.exit_code == 0, check.output
    assert json.loads(check.stdout)["leftovers"] == []

    check = run(gapp, "check", "--older-than", "0s", "--json")
    actions = sorted(i["action"] for i in json.loads(check.stdout)["leftovers"])
    assert actions == [
        "re-upload to failed.txt",
        "re-upload under a new name: taken.txt holds another file",
        "remove: landed.txt is on S3",
    ]

    dry = run(gapp, "cleanup", "--older-than", "0s", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert len(list(spool.glob("*.upload"))) == 3

    result = run(gapp, "cleanup", "--older-than", "0s", "--yes", "--json")
    assert result.exit_code == 0, result.output
    outcomes = sorted(d["outcome"] for d in json.loads(result.stdout)["done"])
    assert outcomes[1:] == [
        "re-uploaded to failed.txt",
        "removed (landed.txt is on S3)",
    ]
    prefix, _, renamed = outcomes[0].partition(" (")[0].rpartition(" ")
    assert prefix == "re-uploaded as" and renamed.startswith("taken_")
    assert outcomes[0].endswith("(taken.txt holds another file)")

    def read(path: str) -> bytes:
        return S3GeventProvider(path).read()

    assert read("failed.txt") == b"failed bytes"
    assert read("landed.txt") == b"landed bytes"
    assert read("taken.txt") == b"another tool's"
    assert read(renamed) == b"taken bytes"
    assert sorted(object_keys(raw, bucket)) == sorted(
        ["failed.txt", "landed.txt", "taken.txt", renamed]
    )
    assert list(spool.iterdir()) == []
    again = run(gapp, "cleanup", "--older-than", "0s", "--yes")
    assert again.exit_code == 0 and "Nothing was left behind" in again.output


def test_put_of_one_name_twice_keeps_both_files(
    server: tuple[str, str], tmp_path: Path, bucket: str, raw: Any
) -> None:
    app = s3_app(tmp_path, bucket, server[1])
    source = tmp_path / "hello.txt"
    paths = []
    for content in ("first", "second"):
        source.write_text(content)
        result = run(app, "put", str(source), "--json")
        assert result.exit_code == 0, result.output
        (saved,) = json.loads(result.stdout)["files"]
        paths.append(saved["path"])
    assert paths[0] == "hello.txt" and paths[1] != "hello.txt"
    assert [raw.get_object(Bucket=bucket, Key=p)["Body"].read() for p in paths] == [
        b"first",
        b"second",
    ]
