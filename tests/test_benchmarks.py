"""Smoke runs of the benchmarks at tiny sizes, so they cannot rot.

The full run (``python -m benchmarks``) stays on demand; these only check
that every group runs and reports a number for ours and its baseline.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

import pytest

from benchmarks.__main__ import parse_args
from benchmarks.core import Measure, Row
from benchmarks.report import render

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NUMBER = (
    r"[0-9][0-9,]*(?:\.[0-9]+)?(?:e-?[0-9]+)? (?:s|ms|MiB|MiB/s|req/s|requests|bytes)"
)


def run_quick(tmp_path: Any, groups: str) -> str:
    output = tmp_path / "report.md"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--quick",
            f"--groups={groups}",
            f"--output={output}",
            f"--workdir={tmp_path}",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    # The run cleans up after itself: only the report is left.
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]
    return output.read_text()


def sections(report: str) -> dict[str, list[str]]:
    """Section title to its table rows (without header and separator)."""
    found: dict[str, list[str]] = {}
    for block in report.split("\n## ")[1:]:
        title, _, body = block.partition("\n")
        rows = [line for line in body.splitlines() if line.startswith("| ")]
        found[title] = rows[2:]
    return found


def check_rows(rows: list[str]) -> None:
    assert rows
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        ours, baseline, ratio = cells[1:4]
        assert re.search(NUMBER, ours), row
        assert re.search(NUMBER, baseline) or baseline == "-", row
        assert re.fullmatch(r"[0-9,]+\.[0-9]{2}", ratio) or ratio == "-", row


def test_local_http_serving_and_sqla_groups_run(tmp_path: Any) -> None:
    report = run_quick(tmp_path, "local,http,serving,sqla")
    assert "- **CPU**: " in report and "- **Packages**: Flask-Store " in report
    found = sections(report)
    for title in ("Local save", "End-to-end HTTP upload", "Serving", "FlaskStoreType"):
        check_rows(found[title])
    assert any("spooled by StoreRequest" in row for row in found["Local save"])
    assert any("RSS high-water growth" in row for row in found["Local save"])


@pytest.mark.s3server
def test_s3_and_admin_groups_run(tmp_path: Any) -> None:
    found = sections(run_quick(tmp_path, "s3,admin"))
    check_rows(found["S3"])
    check_rows(found["Admin listing"])
    requests = [row for row in found["S3"] if "HTTP requests per 1 KiB save |" in row]
    assert "ours: 1 requests" in requests[0]


def test_sorting_metadata_and_variants_groups_run(tmp_path: Any) -> None:
    found = sections(run_quick(tmp_path, "sorting,metadata,variants"))
    check_rows(found["Admin sorting"])
    check_rows(found["Metadata: sniffing and hashing a save"])
    check_rows(found["Image variants: rendering one"])


def test_direct_upload_group_runs(tmp_path: Any) -> None:
    found = sections(run_quick(tmp_path, "direct"))
    check_rows(found["Direct uploads to S3"])
    (app_bytes,) = [
        r for r in found["Direct uploads to S3"] if "bytes through the app" in r
    ]
    assert "| yes |" in app_bytes  # a few kB of JSON, whatever the file's size


def test_unknown_group_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse_args(["--groups", "local,nope"])
    assert exc.value.code == 2
    assert "unknown group(s): nope" in capsys.readouterr().err


def test_goals_compare_in_the_right_direction() -> None:
    slower = Row("t", Measure("ours", [1.2], "s"), Measure("base", [1.0], "s"))
    assert slower.within(1.10).met is False
    assert slower.within(1.25).met is True
    fewer = Row("r", Measure("ours", [90], "req/s"), Measure("base", [100], "req/s"))
    assert fewer.within(1.15).met is True
    assert fewer.within(1.05).met is False
    assert Row("m", Measure("ours", [40], "MiB")).under(32, "< 32 MiB").met is False


def test_report_lists_missed_goals() -> None:
    from benchmarks.core import Section

    section = Section("x", "Example", "How it was measured.")
    section.rows.append(
        Row(
            "save", Measure("ours", [2.0, 3.0, 2.5], "s"), Measure("copy", [1.0], "s")
        ).within(1.10)
    )
    text = render(
        [section],
        [("CPU", "test")],
        command="python -m benchmarks",
        seconds=60,
        quick=False,
    )
    assert "Goals met: 0 of 1. Missed: save (ours)." in text
    assert (
        "| save | ours: 2.5 s (2 to 3) | copy: 1 s | 2.50 | ≤ 1.10x baseline | **no** |"
        in text
    )
