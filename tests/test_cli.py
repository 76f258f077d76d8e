"""``flask store ...`` commands, run through Flask's CLI runner for every provider."""

from __future__ import annotations

import importlib.abc
import io
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import click
import pytest
from click.testing import Result
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import flask_store
from flask_store import Store
from flask_store.cli import files as cli_files
from flask_store.cli import format_duration, parse_duration
from flask_store.exceptions import StorageError
from flask_store.providers.base import FolderPage
from flask_store.providers.memory import MemoryProvider
from flask_store.sqla import FlaskStoreType

from . import s3_support
from .conftest import make_app, upload


def run(app: Flask, *args: str) -> Result:
    """Run ``flask store ARGS`` against ``app``."""
    return app.test_cli_runner().invoke(args=["store", *args])


def stored(app: Flask) -> dict[str, bytes]:
    """Every stored file and its content, whatever the provider."""
    provider = app.extensions["store"].provider
    return {
        entry.path: provider(entry.path, app=app).read()
        for entry in provider.iter_files(app=app)
    }


def url_of(app: Flask, path: str) -> str:
    """The URL the configured provider gives a stored path."""
    return str(app.extensions["store"].provider(path, app=app).absolute_url)


def assert_failed(result: Result, message: str) -> None:
    """A clean failure: non-zero exit, the message on stderr, no traceback."""
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit)
    assert message in result.stderr
    assert "Traceback" not in result.output


@pytest.fixture
def files(tmp_path: Path) -> Path:
    folder = tmp_path / "to-upload"
    folder.mkdir()
    (folder / "report.txt").write_bytes(b"quarterly numbers")
    (folder / "photo.png").write_bytes(b"\x89PNG fake image" * 100)
    return folder


# -- put --------------------------------------------------------------------


def test_put_stores_the_file_and_prints_its_url(storage: Flask, files: Path) -> None:
    result = run(storage, "put", str(files / "report.txt"))

    assert result.exit_code == 0, result.output
    assert result.stdout == url_of(storage, "report.txt") + "\n"
    assert stored(storage) == {"report.txt": b"quarterly numbers"}


def test_put_uses_store_domain_for_the_url(tmp_path: Path, files: Path) -> None:
    app = make_app(tmp_path, STORE_DOMAIN="https://files.example.com")
    Store(app)
    result = run(app, "put", str(files / "report.txt"))
    assert result.stdout == "https://files.example.com/uploads/report.txt\n"


def test_put_several_files_into_a_location_as_json(storage: Flask, files: Path) -> None:
    result = run(
        storage,
        "put",
        str(files / "report.txt"),
        str(files / "photo.png"),
        "--location",
        "docs/2026",
        "--json",
    )

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(f["path"], f["url"], f["size"]) for f in data["files"]] == [
        ("docs/2026/report.txt", url_of(storage, "docs/2026/report.txt"), 17),
        ("docs/2026/photo.png", url_of(storage, "docs/2026/photo.png"), 1500),
    ]
    assert set(stored(storage)) == {"docs/2026/report.txt", "docs/2026/photo.png"}
    assert "Uploading" in result.stderr


def test_put_never_overwrites_a_taken_name(storage: Flask, files: Path) -> None:
    first = run(storage, "put", str(files / "report.txt"))
    (files / "report.txt").write_bytes(b"revised numbers")
    second = run(storage, "put", str(files / "report.txt"), "--json")

    assert first.exit_code == second.exit_code == 0
    [again] = json.loads(second.stdout)["files"]
    assert again["renamed"] is True
    assert again["path"].startswith("report_") and again["path"].endswith(".txt")
    assert stored(storage) == {
        "report.txt": b"quarterly numbers",
        again["path"]: b"revised numbers",
    }
    human = run(storage, "put", str(files / "report.txt"))
    assert "name taken, stored as report_" in human.stderr


def test_put_with_a_name(storage: Flask, files: Path) -> None:
    result = run(storage, "put", str(files / "report.txt"), "--name", "Q3 report.txt")
    assert result.stdout == url_of(storage, "Q3_report.txt") + "\n"
    assert stored(storage) == {"Q3_report.txt": b"quarterly numbers"}


def test_put_refuses_a_name_for_several_files(storage: Flask, files: Path) -> None:
    result = run(
        storage,
        "put",
        str(files / "report.txt"),
        str(files / "photo.png"),
        "--name",
        "x",
    )
    assert result.exit_code == 2
    assert "--name works with one file only" in result.stderr
    assert stored(storage) == {}


@pytest.mark.parametrize("location", ["../outside", "/etc", "a\\b", "bad\x00"])
def test_put_refuses_a_bad_location_and_stores_nothing(
    storage: Flask, files: Path, location: str
) -> None:
    result = run(storage, "put", str(files / "report.txt"), "--location", location)
    assert_failed(result, "Location")
    assert stored(storage) == {}


def test_put_a_missing_file(storage: Flask, tmp_path: Path) -> None:
    result = run(storage, "put", str(tmp_path / "nope.txt"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr
    assert stored(storage) == {}


# -- ls ---------------------------------------------------------------------


def put(app: Flask, data: bytes, filename: str, location: str = "") -> str:
    provider = app.extensions["store"].provider
    return str(
        provider(io.BytesIO(data), location, filename=filename, app=app)
        .save()
        .relative_path
    )


def test_ls_shows_folders_files_sizes_and_dates(storage: Flask) -> None:
    put(storage, b"x" * 2048, "big.bin")
    put(storage, b"hi", "note.txt", "docs")

    result = run(storage, "ls")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].split()[0:2] == ["2", "kB"]  # sizes as the admin shows them
    assert lines[0].endswith("  big.bin")
    assert lines[1].endswith("  docs/")
    assert run(storage, "ls", "docs").stdout.split()[0:2] == ["2", "bytes"]


def test_ls_json(storage: Flask) -> None:
    put(storage, b"hi", "note.txt", "docs")
    data = json.loads(run(storage, "ls", "docs", "--json").stdout)
    [entry] = data["entries"]
    assert data["location"] == "docs"
    assert data["next_after"] is None
    assert entry["path"] == "docs/note.txt"
    assert entry["type"] == "file"
    assert entry["size"] == 2
    assert entry["content_type"] == "text/plain"
    assert entry["modified"].startswith("20")

    root = json.loads(run(storage, "ls", "--json").stdout)
    assert [(e["path"], e["type"]) for e in root["entries"]] == [("docs", "folder")]


def test_ls_of_a_file_shows_that_file(storage: Flask) -> None:
    put(storage, b"hi", "note.txt", "docs")
    result = run(storage, "ls", "docs/note.txt")
    assert result.stdout.rstrip().endswith("docs/note.txt")
    data = json.loads(run(storage, "ls", "docs/note.txt", "--json").stdout)
    assert [e["path"] for e in data["entries"]] == ["docs/note.txt"]


def test_ls_of_an_empty_store(storage: Flask) -> None:
    result = run(storage, "ls")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "Nothing stored in the store" in result.stderr
    assert json.loads(run(storage, "ls", "--json").stdout)["entries"] == []


def test_ls_of_a_folder_that_does_not_exist_fails(storage: Flask) -> None:
    put(storage, b"hi", "note.txt", "docs")
    assert_failed(run(storage, "ls", "dcos"), "Nothing is stored at dcos")
    message = json.loads(run(storage, "ls", "dcos", "--json").stderr)["error"]
    assert message == "Nothing is stored at dcos: no such folder or file."
    storage.extensions["store"].backend.create_folder("empty")
    result = run(storage, "ls", "empty")
    assert result.exit_code == 0, result.output
    assert "Nothing stored in empty." in result.stderr


def test_ls_limit_and_after_page_through_a_folder(storage: Flask) -> None:
    for name in "abcde":
        put(storage, name.encode(), f"{name}.txt")

    first = run(storage, "ls", "--limit", "2")
    assert [line.split()[-1] for line in first.stdout.splitlines()] == [
        "a.txt",
        "b.txt",
    ]
    assert "flask store ls --after b.txt --limit 2" in first.stderr

    page = json.loads(
        run(storage, "ls", "--limit", "2", "--after", "b.txt", "--json").stdout
    )
    assert [e["name"] for e in page["entries"]] == ["c.txt", "d.txt"]
    assert page["next_after"] == "d.txt"

    last = json.loads(
        run(storage, "ls", "--limit", "2", "--after", "d.txt", "--json").stdout
    )
    assert [e["name"] for e in last["entries"]] == ["e.txt"]
    assert last["next_after"] is None


def test_ls_fetches_every_page(storage: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in "abcde":
        put(storage, name.encode(), f"{name}.txt")
    monkeypatch.setattr(cli_files, "PAGE_SIZE", 2)
    data = json.loads(run(storage, "ls", "--json").stdout)
    assert [e["name"] for e in data["entries"]] == [f"{n}.txt" for n in "abcde"]
    assert data["next_after"] is None


def test_ls_refuses_a_path_outside_the_store(storage: Flask) -> None:
    assert_failed(run(storage, "ls", "../etc"), "may not contain '..'")
    assert_failed(run(storage, "ls", "/etc"), "must be relative")


def test_ls_limit_must_be_positive(storage: Flask) -> None:
    result = run(storage, "ls", "--limit", "0")
    assert result.exit_code == 2
    assert "--limit" in result.stderr


# -- rm ---------------------------------------------------------------------


def test_rm_deletes_files(storage: Flask) -> None:
    put(storage, b"1", "one.txt", "docs")
    put(storage, b"2", "two.txt")
    put(storage, b"3", "three.txt")

    result = run(storage, "rm", "docs/one.txt", "two.txt")

    assert result.exit_code == 0, result.output
    assert result.stdout == "deleted docs/one.txt\ndeleted two.txt\n"
    assert stored(storage) == {"three.txt": b"3"}


def test_rm_json_reports_missing_files_and_fails(storage: Flask) -> None:
    put(storage, b"1", "one.txt")

    result = run(storage, "rm", "nope.txt", "one.txt", "--json")

    assert_failed(result, "Not stored, so not deleted: nope.txt")
    assert json.loads(result.stdout) == {
        "deleted": ["one.txt"],
        "missing": ["nope.txt"],
        "used_by": {},
    }
    assert stored(storage) == {}


def test_rm_with_a_bad_path_deletes_nothing(storage: Flask) -> None:
    put(storage, b"1", "one.txt")
    assert_failed(run(storage, "rm", "one.txt", "../one.txt"), "'..'")
    assert stored(storage) == {"one.txt": b"1"}


def test_rm_a_folder_is_refused(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    Store(app)
    put(app, b"1", "one.txt", "docs")
    assert_failed(run(app, "rm", "docs"), "docs")
    assert stored(app) == {"docs/one.txt": b"1"}


# -- check ------------------------------------------------------------------


def test_check_passes_and_leaves_nothing_behind(storage: Flask) -> None:
    put(storage, b"keep", "keep.txt")

    result = run(storage, "check")

    assert result.exit_code == 0, result.output
    assert "Flask-Store works" in result.stdout
    for check in ("configuration", "write", "read", "list", "delete"):
        assert f"ok    {check}:" in result.stdout
    assert stored(storage) == {"keep.txt": b"keep"}


def test_check_json(storage: Flask) -> None:
    storage.config["STORE_S3_SECRET_KEY"] = "hunter2"
    result = run(storage, "check", "--json", "--location", "probes")
    data = json.loads(result.stdout)
    assert data["ok"] is True
    backend = ["conditional writes"] if "s3" in storage.config["STORE_PROVIDER"] else []
    assert [c["check"] for c in data["checks"]] == [
        "configuration",
        "write",
        "read",
        "list",
        "delete",
        *backend,
    ]
    assert all(c["ok"] for c in data["checks"])
    assert "probes/flask-store-check-" in data["checks"][1]["detail"]
    assert data["config"]["STORE_PROVIDER"] == storage.config["STORE_PROVIDER"]
    # Secrets are never printed, only whether they are set.
    assert data["config"]["STORE_S3_SECRET_KEY"] == "(set)"
    assert "hunter2" not in result.output
    assert stored(storage) == {}


def test_check_fails_when_store_path_is_not_a_folder(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("I am a file")
    app = make_app(tmp_path, STORE_PATH=str(not_a_folder))
    Store(app)

    result = run(app, "check")

    assert_failed(result, "Flask-Store check failed at write")
    assert "FAIL  write:" in result.stdout
    assert not_a_folder.read_text() == "I am a file"


def test_check_fails_on_missing_configuration(tmp_path: Path) -> None:
    app = provider_app(tmp_path, NeedsConfigProvider, STORE_WIDGET_URL="x")
    app.config["STORE_WIDGET_URL"] = ""
    result = run(app, "check", "--json")
    assert_failed(result, "STORE_WIDGET_URL")
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert [c["check"] for c in data["checks"]] == ["configuration"]


class NeedsConfigProvider(MemoryProvider):
    REQUIRED_CONFIGURATION = ("STORE_WIDGET_URL",)


class CorruptingProvider(MemoryProvider):
    """Reads back something else than was written."""

    def _open(self, path: str) -> IO[bytes]:
        return io.BytesIO(b"not what was written")


class UndeletableProvider(MemoryProvider):
    def _delete(self, path: str) -> None:
        raise StorageError("permission denied by the backend")


class UnlistableProvider(MemoryProvider):
    @classmethod
    def list_folder(cls, location: str = "", **kwargs: Any) -> FolderPage:
        raise StorageError("listing is forbidden for these credentials")


def provider_app(tmp_path: Path, provider: type, **config: Any) -> Flask:
    app = make_app(tmp_path, STORE_PROVIDER=f"{__name__}.{provider.__name__}", **config)
    Store(app)
    return app


def test_check_reports_a_read_mismatch_and_still_deletes_the_probe(
    tmp_path: Path,
) -> None:
    app = provider_app(tmp_path, CorruptingProvider)
    result = run(app, "check", "--json")
    assert_failed(result, "at read: the file read back differs")
    checks = json.loads(result.stdout)["checks"]
    assert [(c["check"], c["ok"]) for c in checks] == [
        ("configuration", True),
        ("write", True),
        ("read", False),
        ("delete", True),
    ]
    assert stored(app) == {}


def test_check_reports_a_failed_delete(tmp_path: Path) -> None:
    app = provider_app(tmp_path, UndeletableProvider)
    result = run(app, "check")
    assert_failed(result, "at delete: permission denied by the backend")


def test_storage_errors_are_clean_messages(tmp_path: Path) -> None:
    app = provider_app(tmp_path, UnlistableProvider)
    assert_failed(run(app, "ls"), "Error: listing is forbidden for these credentials")
    result = run(app, "check")
    assert_failed(result, "at list: listing is forbidden")


# -- orphans ----------------------------------------------------------------


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Invoice(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "cli_invoice"
    id: Mapped[int] = mapped_column(primary_key=True)
    scan: Mapped[Any] = mapped_column(FlaskStoreType(128, location="scans"))


@pytest.fixture
def with_db(storage: Flask, tmp_path: Path) -> Flask:
    """``storage`` with a database: one invoice using scans/used.pdf, one orphan."""
    storage.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'db.sqlite'}"
    db.init_app(storage)
    db.create_all()
    db.session.add(Invoice(scan=upload(b"used", "used.pdf")))
    db.session.commit()
    put(storage, b"orphan", "orphan.pdf", "scans")
    return storage


def test_orphans_lists_unreferenced_files(with_db: Flask) -> None:
    result = run(with_db, "orphans", "--older-than", "0s")

    assert result.exit_code == 0, result.output
    assert [line.split()[-1] for line in result.stdout.splitlines()] == [
        "scans/orphan.pdf"
    ]
    assert "1 orphaned file (6 bytes) older than 0s." in result.stderr
    assert set(stored(with_db)) == {"scans/used.pdf", "scans/orphan.pdf"}


def test_orphans_json(with_db: Flask) -> None:
    data = json.loads(run(with_db, "orphans", "--older-than", "0s", "--json").stdout)
    assert [e["path"] for e in data["orphans"]] == ["scans/orphan.pdf"]
    assert data["total_size"] == 6
    assert data["deleted"] is None


def test_orphans_spares_recent_files_by_default(with_db: Flask) -> None:
    data = json.loads(run(with_db, "orphans", "--json").stdout)
    assert data["orphans"] == []
    assert (
        json.loads(run(with_db, "orphans", "--older-than", "1d", "--json").stdout)[
            "orphans"
        ]
        == []
    )


def test_orphans_delete_with_yes(with_db: Flask) -> None:
    result = run(
        with_db, "orphans", "--older-than", "0s", "--delete", "--yes", "--json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["deleted"] == ["scans/orphan.pdf"]
    assert stored(with_db) == {"scans/used.pdf": b"used"}


def test_orphans_delete_asks_first(with_db: Flask) -> None:
    runner = with_db.test_cli_runner()
    args = ["store", "orphans", "--older-than", "0s", "--delete"]

    refused = runner.invoke(args=args, input="n\n")
    assert refused.exit_code == 1
    assert "Delete 1 file?" in refused.stderr
    assert "Aborted" in refused.stderr
    assert "scans/orphan.pdf" in stored(with_db)

    accepted = runner.invoke(args=args, input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert "deleted scans/orphan.pdf" in accepted.stdout
    assert stored(with_db) == {"scans/used.pdf": b"used"}


def test_orphans_keeps_a_file_a_row_started_using(with_db: Flask) -> None:
    """A file referenced after the listing, before the deletion, is kept."""
    runner = with_db.test_cli_runner()
    args = ["store", "orphans", "--older-than", "0s", "--delete"]

    original_confirm = click.confirm

    def confirm_after_a_row_uses_it(*a: Any, **kw: Any) -> bool:
        db.session.add(Invoice(scan="scans/orphan.pdf"))
        db.session.commit()
        return bool(original_confirm(*a, **kw))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(click, "confirm", confirm_after_a_row_uses_it)
        result = runner.invoke(args=args, input="y\n")
    assert result.exit_code == 0, result.output
    assert "kept scans/orphan.pdf: a row uses it now" in result.stderr
    assert set(stored(with_db)) == {"scans/used.pdf", "scans/orphan.pdf"}


def test_orphans_refuses_a_bad_duration(with_db: Flask) -> None:
    result = run(with_db, "orphans", "--older-than", "soon")
    assert result.exit_code == 2
    assert "'soon' is not a duration" in result.stderr


def test_orphans_without_a_database_is_a_clean_error(storage: Flask) -> None:
    assert_failed(run(storage, "orphans"), "no SQLAlchemy session")


class _WithoutSQLAlchemy(importlib.abc.MetaPathFinder):
    """Fails to import flask_store.sqla as it does where SQLAlchemy is missing."""

    def find_spec(self, fullname: str, *args: Any) -> None:
        if fullname == "flask_store.sqla":
            raise ModuleNotFoundError("No module named 'sqlalchemy'", name="sqlalchemy")


def test_orphans_without_sqlalchemy_says_what_to_install(
    storage: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "flask_store.sqla")
    monkeypatch.delattr(flask_store, "sqla")
    monkeypatch.setattr(sys, "meta_path", [_WithoutSQLAlchemy(), *sys.meta_path])
    assert_failed(run(storage, "orphans"), "pip install 'Flask-Store[sqla]'")


# -- durations --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("12h", timedelta(hours=12)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("45s", timedelta(seconds=45)),
        ("1d12h", timedelta(days=1, hours=12)),
        (" 3D ", timedelta(days=3)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["30m", "12h", "7d", "1d12h", "0s", "1h30m5s"])
def test_format_duration_reads_back(text: str) -> None:
    assert format_duration(parse_duration(text)) == text


@pytest.mark.parametrize("text", ["", "7", "d", "7 days", "-1d", "1.5h", "7y"])
def test_parse_duration_refuses_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


# -- S3: a real HTTP server, background uploads, S3 errors -------------------

# The S3 fixtures, made available to this module's tests.
bucket = s3_support.bucket
moto_server = s3_support.moto_server
s3_endpoint = s3_support.s3_endpoint
s3app = s3_support.s3app


def test_s3_commands_round_trip(s3app: Flask, files: Path) -> None:
    """put, ls, check and rm against moto, in-process and over HTTP."""
    put_result = run(s3app, "put", str(files / "report.txt"), "-l", "docs", "--json")
    assert put_result.exit_code == 0, put_result.output
    [item] = json.loads(put_result.stdout)["files"]
    assert item["path"] == "docs/report.txt"

    listing = json.loads(run(s3app, "ls", "docs", "--json").stdout)
    assert [(e["path"], e["size"]) for e in listing["entries"]] == [
        ("docs/report.txt", 17)
    ]
    assert run(s3app, "check").exit_code == 0
    assert run(s3app, "rm", "docs/report.txt").exit_code == 0
    assert stored(s3app) == {}


def test_s3_check_names_a_missing_bucket(
    tmp_path: Path, s3_endpoint: str | None
) -> None:
    app = s3_support.s3_app(tmp_path, "no-such-bucket-here", s3_endpoint)
    result = run(app, "check")
    assert_failed(result, "Flask-Store check failed at write")
    assert "NoSuchBucket" in result.stderr or "does not exist" in result.stderr


def test_s3_ls_reports_errors_cleanly(tmp_path: Path, s3_endpoint: str | None) -> None:
    app = s3_support.s3_app(tmp_path, "no-such-bucket-here", s3_endpoint)
    result = run(app, "ls")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stderr.startswith("Error: ")


def test_gevent_put_waits_for_the_upload(
    tmp_path: Path, bucket: str, s3_endpoint: str | None, files: Path
) -> None:
    pytest.importorskip("gevent")
    app = s3_support.s3_app(
        tmp_path,
        bucket,
        s3_endpoint,
        STORE_PROVIDER=s3_support.S3_GEVENT,
        STORE_S3_SPOOL_PATH=str(tmp_path / "spool"),
    )
    result = run(app, "put", str(files / "photo.png"))
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert stored(app) == {"photo.png": (files / "photo.png").read_bytes()}
    assert run(app, "check").exit_code == 0


def test_gevent_put_reports_a_failed_background_upload(
    tmp_path: Path, bucket: str, s3_endpoint: str | None, files: Path
) -> None:
    pytest.importorskip("gevent")
    app = s3_support.s3_app(
        tmp_path,
        bucket,
        s3_endpoint,
        STORE_PROVIDER=s3_support.S3_GEVENT,
        STORE_S3_SPOOL_PATH=str(tmp_path / "spool"),
        STORE_S3_BACKGROUND_ATTEMPTS=1,
    )
    with app.app_context():
        s3_support.ask_conditional_writes(app)
        s3_support.Faults(app).fail(
            "PutObject",
            times=10,
            status=403,
            code="AccessDenied",
            only=s3_support.is_final_upload,
        )
        result = run(app, "put", str(files / "report.txt"), "--json")
        assert_failed(result, "Upload failed: report.txt")
        assert json.loads(result.stdout) == {"files": []}
        # Only the placeholder that claimed the name is there.
        assert [f.path for f in app.extensions["store"].provider.iter_files()] == [
            "report.txt"
        ]
        check = run(app, "check", "--json")
        assert_failed(check, "check failed at write")


def test_mv_moves_files_on_every_provider(storage: Flask) -> None:
    put(storage, b"1", "one.txt", "docs")
    put(storage, b"2", "two.txt", "docs")
    result = run(storage, "mv", "docs/one.txt", "docs/two.txt", "archive")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "moved docs/one.txt to archive/one.txt",
        "moved docs/two.txt to archive/two.txt",
    ]
    assert stored(storage) == {"archive/one.txt": b"1", "archive/two.txt": b"2"}


def test_mv_with_a_bad_path_moves_nothing(storage: Flask) -> None:
    put(storage, b"1", "one.txt")
    assert_failed(run(storage, "mv", "one.txt", "../one.txt", "archive"), "'..'")
    assert stored(storage) == {"one.txt": b"1"}


def test_mv_moves_a_folder_with_everything_in_it(storage: Flask) -> None:
    put(storage, b"1", "one.txt", "docs")
    put(storage, b"2", "two.txt", "docs/deep")
    put(storage, b"3", "keep.txt")
    result = run(storage, "mv", "docs", "archive")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "moved folder docs to archive/docs"
    assert stored(storage) == {
        "archive/docs/one.txt": b"1",
        "archive/docs/deep/two.txt": b"2",
        "keep.txt": b"3",
    }
    backend = storage.extensions["store"].backend
    assert backend.list_folder("docs", limit=1).missing


def test_mv_renames_a_file_or_a_folder_with_name(storage: Flask) -> None:
    put(storage, b"1", "draft.txt", "docs")
    result = run(storage, "mv", "--name", "final.txt", "docs/draft.txt", "docs")
    assert result.output.splitlines() == ["moved docs/draft.txt to docs/final.txt"]
    result = run(storage, "mv", "--name", "papers", "docs", "", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["folders"] == [{"from": "docs", "to": "papers"}]
    assert report["moved"] == [{"from": "docs/final.txt", "to": "papers/final.txt"}]
    assert stored(storage) == {"papers/final.txt": b"1"}


def test_mv_never_overwrites_or_merges(storage: Flask) -> None:
    put(storage, b"1", "a.txt", "docs")
    put(storage, b"2", "b.txt", "docs")
    put(storage, b"3", "c.txt", "archive/docs")
    result = run(storage, "mv", "--name", "b.txt", "docs/a.txt", "docs")
    assert_failed(result, "docs/b.txt already exists. Nothing was changed")
    assert_failed(run(storage, "mv", "docs", "archive"), "archive/docs already exists")
    assert_failed(run(storage, "mv", "docs", "docs/deeper"), "into itself")
    assert_failed(run(storage, "mv", "--name", "x", "a", "b", "c"), "exactly one")
    assert stored(storage) == {
        "docs/a.txt": b"1",
        "docs/b.txt": b"2",
        "archive/docs/c.txt": b"3",
    }


def test_rm_recursive_on_every_provider(storage: Flask) -> None:
    put(storage, b"1", "one.txt", "docs")
    put(storage, b"2", "two.txt", "docs/deep")
    put(storage, b"3", "keep.txt")
    result = run(storage, "rm", "-r", "docs", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert sorted(report["deleted"]) == ["docs/deep/two.txt", "docs/one.txt"]
    assert report["folders"] == ["docs"]
    assert stored(storage) == {"keep.txt": b"3"}


def test_rm_names_the_path_it_refuses(storage: Flask) -> None:
    result = run(storage, "rm", "../x")
    assert_failed(result, "Stored path '../x' may not contain '..'")


def test_put_applies_the_upload_rules(tmp_path: Path) -> None:
    app = make_app(tmp_path, STORE_ALLOWED_EXTENSIONS={"txt"}, STORE_MAX_SIZE=10)
    Store(app)
    files = tmp_path / "files"
    files.mkdir()
    (files / "ok.txt").write_bytes(b"small")
    (files / "big.txt").write_bytes(b"x" * 11)
    (files / "run.exe").write_bytes(b"x")
    paths = [str(files / n) for n in ("ok.txt", "big.txt", "run.exe")]
    result = run(app, "put", *paths)
    assert_failed(result, "Nothing stored: big.txt is larger than 10 bytes")
    assert "run.exe is not an allowed type (allowed: .txt)" in result.output
    assert stored(app) == {}
    result = run(app, "put", "--force", *paths)
    assert result.exit_code == 0, result.output
    assert sorted(stored(app)) == ["big.txt", "ok.txt", "run.exe"]


def test_put_checks_the_content_as_the_forms_do(storage: Flask, tmp_path: Path) -> None:
    from .hostile_files import HTML, huge_png, image

    storage.config.update(STORE_ALLOWED_TYPES={"image/*"})
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "photo.png").write_bytes(image("PNG", 20, 10))
    (folder / "page.png").write_bytes(HTML)
    (folder / "notes.txt").write_bytes(b"just words")
    (folder / "bomb.png").write_bytes(huge_png())
    paths = [str(folder / n) for n in ("photo.png", "page.png", "notes.txt")]
    result = run(storage, "put", *paths)
    assert_failed(
        result,
        "Nothing stored: page.png is not what its name says: the name says "
        "image/png, the content is text/html.",
    )
    assert (
        "notes.txt is not an allowed type: its content is text/plain "
        "(allowed: image/*)." in result.stderr
    )
    assert "Pass --force to store anyway." in result.stderr
    assert stored(storage) == {}
    # A name given with --name is checked against the content too.
    renamed = run(storage, "put", str(folder / "notes.txt"), "--name", "notes.jpg")
    assert_failed(renamed, "notes.jpg is not what its name says")
    bomb = run(storage, "put", str(folder / "bomb.png"))
    assert_failed(bomb, "bomb.png is too large an image to open safely")
    assert stored(storage) == {}

    assert run(storage, "put", paths[0]).exit_code == 0
    assert list(stored(storage)) == ["photo.png"]
    forced = run(storage, "put", "--force", *paths[1:])
    assert forced.exit_code == 0, forced.output
    assert sorted(stored(storage)) == ["notes.txt", "page.png", "photo.png"]


def test_check_json_shows_settings_as_json_values(tmp_path: Path) -> None:
    def staff_only() -> bool:
        return False

    app = make_app(
        tmp_path, STORE_ALLOWED_EXTENSIONS={"png", "jpg"}, STORE_ADMIN_ACCESS=staff_only
    )
    Store(app)
    config = json.loads(run(app, "check", "--json").stdout)["config"]
    assert config["STORE_ALLOWED_EXTENSIONS"] == ["jpg", "png"]
    assert config["STORE_ADMIN_ACCESS"].endswith("staff_only")
