"""The example of docs/files.md, run as written there."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .docs_examples import run_example


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)  # the example app's instance folder goes here
    yield
    sys.modules.pop("files_metadata", None)


def test_files_metadata_example(
    in_tmp: None, capsys: pytest.CaptureFixture[str]
) -> None:
    module = run_example("files-metadata", "files_metadata")
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "application/pdf"
    assert printed[1] == module.saved.metadata.sha256
    assert module.again.metadata.filename == "Q1 report.pdf"
