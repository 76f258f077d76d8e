"""With ``--json``, a failing ``flask store`` command reports its error as JSON.

The error is one JSON object, ``{"error": "..."}``, on stderr, and the exit
status is non-zero (2 for a mistyped command line, as without ``--json``);
stdout holds what the command did, when it reports anything, as JSON too.
Without ``--json``, errors stay a line for people.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask

from flask_store import Store

from .conftest import make_app, upload
from .test_cli import Invoice, db


def run(app: Flask, *args: str, input: str | None = None) -> Result:
    return app.test_cli_runner().invoke(args=["store", *args], input=input)


def json_error(result: Result, exit_code: int = 1) -> str:
    """The error message of a failed ``--json`` run; checks how it failed."""
    assert result.exit_code == exit_code, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "Error:" not in result.stderr
    lines = result.stderr.strip().splitlines()
    error = json.loads(lines[-1])
    assert list(error) == ["error"]
    assert isinstance(error["error"], str) and error["error"]
    return str(error["error"])


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = make_app(tmp_path)
    Store(app)
    return app


@pytest.fixture
def files(tmp_path: Path) -> Path:
    folder = tmp_path / "to-upload"
    folder.mkdir()
    (folder / "a.txt").write_bytes(b"aaa")
    (folder / "b.txt").write_bytes(b"bbb")
    return folder


def stored_paths(app: Flask) -> list[str]:
    provider = app.extensions["store"].provider
    return sorted(entry.path for entry in provider.iter_files(app=app))


def test_ls_of_a_bad_location(app: Flask) -> None:
    message = json_error(run(app, "ls", "../x", "--json"))
    assert message == "Location '../x' may not contain '..'."


def test_usage_errors_are_json_with_exit_status_2(app: Flask) -> None:
    message = json_error(run(app, "ls", "--limit", "0", "--json"), exit_code=2)
    assert message == "Invalid value for '--limit': 0 is not in the range x>=1."
    # --json before the mistake, or after it: the same.
    message = json_error(run(app, "ls", "--json", "--bogus"), exit_code=2)
    assert "No such option" in message and "--bogus" in message
    message = json_error(run(app, "cleanup", "--older-than", "soon", "--json"), 2)
    assert "'soon' is not a duration" in message


def test_put_refused_by_the_upload_rules(tmp_path: Path, files: Path) -> None:
    app = make_app(tmp_path, STORE_MAX_SIZE=2)
    Store(app)
    result = run(app, "put", str(files / "a.txt"), "--json")
    message = json_error(result)
    assert message == (
        "Nothing stored: a.txt is larger than 2 bytes, the largest file allowed. "
        "Pass --force to store anyway."
    )
    assert result.stdout == ""
    assert stored_paths(app) == []


def test_put_refused_for_its_content(tmp_path: Path, files: Path) -> None:
    app = make_app(tmp_path, STORE_ALLOWED_TYPES={"application/pdf"})
    Store(app)
    result = run(app, "put", str(files / "a.txt"), "--json")
    assert json_error(result) == (
        "Nothing stored: a.txt is not an allowed type: its content is "
        "text/plain (allowed: application/pdf). Pass --force to store anyway."
    )
    assert result.stdout == ""
    assert stored_paths(app) == []


def test_put_usage_errors(app: Flask, files: Path) -> None:
    both = [str(files / "a.txt"), str(files / "b.txt")]
    message = json_error(run(app, "put", *both, "--name", "c.txt", "--json"), 2)
    assert message == "--name works with one file only."
    missing = json_error(run(app, "put", str(files / "nope.txt"), "--json"), 2)
    assert "nope.txt' does not exist" in missing
    assert stored_paths(app) == []


def test_rm_reports_what_it_did_on_stdout_and_the_error_on_stderr(
    app: Flask, files: Path
) -> None:
    assert run(app, "put", str(files / "a.txt")).exit_code == 0
    result = run(app, "rm", "a.txt", "nope.txt", "--json")
    assert json_error(result) == "Not stored, so not deleted: nope.txt"
    assert json.loads(result.stdout) == {
        "deleted": ["a.txt"],
        "missing": ["nope.txt"],
        "used_by": {},
    }


def test_rm_and_mv_of_a_bad_path_change_nothing(app: Flask, files: Path) -> None:
    assert run(app, "put", str(files / "a.txt")).exit_code == 0
    result = run(app, "rm", "a.txt", "../a.txt", "--json")
    assert json_error(result) == "Stored path '../a.txt' may not contain '..'."
    result = run(app, "mv", "a.txt", "../a.txt", "archive", "--json")
    assert json_error(result) == "Stored path '../a.txt' may not contain '..'."
    assert stored_paths(app) == ["a.txt"]


@pytest.fixture
def with_db(tmp_path: Path) -> Iterator[Flask]:
    """An app with a database, in its app context."""
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/db.sqlite")
    Store(app)
    db.init_app(app)
    with app.app_context():
        db.create_all()
        yield app


def test_rm_and_mv_of_a_file_a_row_uses(with_db: Flask) -> None:
    db.session.add(Invoice(scan=upload(b"signed", "signed.pdf")))
    db.session.commit()
    for args in (["rm", "scans/signed.pdf"], ["mv", "scans/signed.pdf", "old"]):
        message = json_error(run(with_db, *args, "--json"))
        assert "rows use scans/signed.pdf (Invoice #1" in message
        assert message.endswith("anyway.")
    assert stored_paths(with_db) == ["scans/signed.pdf"]


def test_mv_of_a_folder_holding_a_file_a_row_uses(with_db: Flask) -> None:
    db.session.add(Invoice(scan=upload(b"signed", "signed.pdf")))
    db.session.commit()
    with_db.extensions["store"].provider(upload(b"x", "loose.pdf"), "scans").save()
    message = json_error(run(with_db, "mv", "scans", "old", "--json"))
    assert message.startswith("Nothing moved: rows use scans/signed.pdf (Invoice #1")
    assert stored_paths(with_db) == ["scans/loose.pdf", "scans/signed.pdf"]
    forced = run(with_db, "mv", "scans", "old", "--force", "--json")
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.stdout)["used_by"] == {
        "scans/signed.pdf": ["Invoice #1.scan"]
    }
    assert stored_paths(with_db) == ["old/scans/loose.pdf", "old/scans/signed.pdf"]


def test_check_of_a_bad_location(app: Flask) -> None:
    message = json_error(run(app, "check", "--location", "../probe", "--json"))
    assert message == "Location '../probe' may not contain '..'."


def test_orphans_without_a_database(app: Flask) -> None:
    message = json_error(run(app, "orphans", "--json"))
    assert message.startswith("Flask-Store has no SQLAlchemy session for this app")


def test_orphans_delete_answered_no_is_a_json_error(with_db: Flask) -> None:
    with_db.extensions["store"].provider(upload(b"x", "stray.pdf"), "scans").save()
    result = run(
        with_db, "orphans", "--older-than", "0s", "--delete", "--json", input="n\n"
    )
    assert json_error(result) == "Aborted: nothing was changed."
    assert stored_paths(with_db) == ["scans/stray.pdf"]


def test_without_json_errors_stay_a_line_for_people(app: Flask) -> None:
    result = run(app, "ls", "../x")
    assert result.exit_code == 1
    assert result.stderr == "Error: Location '../x' may not contain '..'.\n"
    usage = run(app, "ls", "--limit", "0")
    assert usage.exit_code == 2
    assert "Usage: " in usage.stderr and "Error: Invalid value" in usage.stderr


def test_json_after_double_dash_is_an_argument_not_the_option(
    app: Flask, files: Path
) -> None:
    result = run(app, "put", str(files / "a.txt"), "--", "--json")
    assert result.exit_code == 2
    assert "Error: Invalid value for 'FILES...'" in result.stderr
    assert stored_paths(app) == []
