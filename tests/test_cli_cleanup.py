"""``flask store check`` and ``flask store cleanup`` through the provider hooks.

A provider reports what interrupted operations left behind
(:meth:`~flask_store.providers.base.Provider.leftovers`) and deals with each
(:meth:`~flask_store.providers.base.Provider.clean_leftover`); it may add checks
of its backend (:meth:`~flask_store.providers.base.Provider.backend_checks`).
These tests use a provider of their own, so they check the commands, not any
one backend (the local and S3 backends have tests of their own).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

import pytest
from click.testing import Result
from flask import Flask

from flask_store import Store
from flask_store.providers.base import CheckResult, Leftover
from flask_store.providers.memory import MemoryProvider

from .conftest import make_app

NOW = datetime.now(timezone.utc)


class LeftoverProvider(MemoryProvider):
    """An in-memory provider with two leftovers: one day and one minute old."""

    found: ClassVar[list[Leftover]] = []
    cleaned: ClassVar[list[str]] = []
    failing: ClassVar[set[str]] = set()
    checks: ClassVar[list[CheckResult]] = []

    @classmethod
    def backend_checks(cls, *, app: Flask | None = None) -> Iterator[CheckResult]:
        yield from cls.checks

    @classmethod
    def leftovers(
        cls, *, older_than: timedelta, app: Flask | None = None
    ) -> Iterator[Leftover]:
        for item in cls.found:
            if NOW - item.modified >= older_than:
                yield item

    @classmethod
    def clean_leftover(cls, leftover: Leftover, *, app: Flask | None = None) -> str:
        if leftover.path in cls.failing:
            raise OSError(f"cannot touch {leftover.path}")
        cls.cleaned.append(leftover.path)
        return "removed"


@pytest.fixture
def app(tmp_path: Any) -> Iterator[Flask]:
    LeftoverProvider.found = [
        Leftover(
            "/store/.old.part",
            "temporary file",
            2048,
            NOW - timedelta(days=1),
            "remove",
        ),
        Leftover(
            "/store/.new.part",
            "temporary file",
            10,
            NOW - timedelta(minutes=1),
            "remove",
        ),
    ]
    LeftoverProvider.cleaned = []
    LeftoverProvider.failing = set()
    LeftoverProvider.checks = []
    app = make_app(tmp_path, STORE_PROVIDER=f"{__name__}.LeftoverProvider")
    Store(app)
    yield app


def run(app: Flask, *args: str, input: str | None = None) -> Result:
    return app.test_cli_runner().invoke(args=["store", *args], input=input)


def test_check_lists_leftovers_older_than_the_grace_period(app: Flask) -> None:
    result = run(app, "check")
    assert result.exit_code == 0, result.output
    assert "flask store cleanup" in result.output
    assert "/store/.old.part" in result.output
    assert "temporary file  2 kB" in result.output
    # One minute old: it may belong to a save still under way.
    assert "/store/.new.part" not in result.output


def test_check_grace_period_is_an_option(app: Flask) -> None:
    result = run(app, "check", "--older-than", "30s", "--json")
    assert result.exit_code == 0, result.output
    paths = [item["path"] for item in json.loads(result.stdout)["leftovers"]]
    assert paths == ["/store/.old.part", "/store/.new.part"]


def test_check_says_nothing_of_leftovers_when_there_are_none(app: Flask) -> None:
    LeftoverProvider.found = []
    result = run(app, "check")
    assert result.exit_code == 0, result.output
    assert "Left behind" not in result.output
    assert json.loads(run(app, "check", "--json").stdout)["leftovers"] == []


def test_backend_checks_are_reported_and_a_failed_one_fails_check(app: Flask) -> None:
    LeftoverProvider.checks = [
        CheckResult("conditional writes", True, "the server refuses to overwrite"),
        CheckResult("consistency", False, "the server lost a file"),
        CheckResult("never reached", True, "after a failure nothing more runs"),
    ]
    result = run(app, "check")
    assert result.exit_code == 1
    assert "ok    conditional writes: the server refuses to overwrite" in result.output
    assert "FAIL  consistency: the server lost a file" in result.output
    assert "never reached" not in result.output
    assert "Flask-Store check failed at consistency" in result.stderr


def test_a_failed_check_with_json_reports_on_stdout_and_fails_in_json(
    app: Flask,
) -> None:
    LeftoverProvider.checks = [CheckResult("consistency", False, "lost a file")]
    result = run(app, "check", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["checks"][-1] == {
        "check": "consistency",
        "ok": False,
        "detail": "lost a file",
    }
    assert json.loads(result.stderr) == {
        "error": "Flask-Store check failed at consistency: lost a file"
    }


def test_cleanup_that_fails_with_json(app: Flask) -> None:
    LeftoverProvider.failing = {"/store/.old.part"}
    result = run(app, "cleanup", "--older-than", "0s", "--json")
    assert result.exit_code == 1
    assert [d["path"] for d in json.loads(result.stdout)["done"]] == [
        "/store/.new.part"
    ]
    assert json.loads(result.stderr) == {
        "error": "Could not clean up: /store/.old.part: cannot touch /store/.old.part"
    }


def test_cleanup_dry_run_changes_nothing(app: Flask) -> None:
    result = run(app, "cleanup", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "/store/.old.part" in result.output
    assert "(cleanup: remove)" in result.output
    assert LeftoverProvider.cleaned == []


def test_cleanup_asks_first_and_a_no_changes_nothing(app: Flask) -> None:
    result = run(app, "cleanup", input="n\n")
    assert result.exit_code == 1
    assert "Clean up 1 file(s)?" in result.stderr
    assert LeftoverProvider.cleaned == []


def test_cleanup_cleans_only_what_is_past_the_grace_period(app: Flask) -> None:
    result = run(app, "cleanup", "--yes")
    assert result.exit_code == 0, result.output
    assert "removed: /store/.old.part" in result.output
    assert LeftoverProvider.cleaned == ["/store/.old.part"]


def test_cleanup_json(app: Flask) -> None:
    result = run(app, "cleanup", "--older-than", "0s", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [d["path"] for d in data["done"]] == ["/store/.old.part", "/store/.new.part"]
    assert {d["outcome"] for d in data["done"]} == {"removed"}


def test_cleanup_goes_on_past_a_failure_and_reports_it(app: Flask) -> None:
    LeftoverProvider.failing = {"/store/.old.part"}
    result = run(app, "cleanup", "--older-than", "0s", "--yes")
    assert result.exit_code == 1
    assert LeftoverProvider.cleaned == ["/store/.new.part"]
    assert "Could not clean up: /store/.old.part" in result.stderr
    assert "Traceback" not in result.output


def test_cleanup_with_nothing_left_behind(app: Flask) -> None:
    LeftoverProvider.found = []
    result = run(app, "cleanup")
    assert result.exit_code == 0, result.output
    assert "Nothing was left behind." in result.stderr


def test_cleanup_refuses_a_bad_duration(app: Flask) -> None:
    result = run(app, "cleanup", "--older-than", "soon")
    assert result.exit_code == 2
    assert "is not a duration" in result.output


def test_providers_without_leftovers_have_nothing_to_clean(tmp_path: Any) -> None:
    app = make_app(
        tmp_path, STORE_PROVIDER="flask_store.providers.memory.MemoryProvider"
    )
    Store(app)
    result = run(app, "cleanup")
    assert result.exit_code == 0, result.output
    assert "Nothing was left behind." in result.stderr
