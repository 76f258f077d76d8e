"""The examples of the README and the docs, run as they are written there.

A code block marked ``<!-- example: NAME -->`` is read from the page itself
(:mod:`tests.docs_examples`), so the documentation and these tests cannot
drift apart; the last tests check that no Python block escapes that.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from moto import mock_aws

from flask_store.exceptions import NotConfiguredError, StoredFileNotFound

from .docs_examples import ROOT, code_blocks, run_example

PYTHON = {"python", "python3", "py", "pycon"}


@pytest.fixture
def provider_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The docs' SQLite provider in ``storage`` and the app that serves it."""
    monkeypatch.chdir(tmp_path)  # the example app's instance folder goes here
    run_example("sqlite-provider", "storage")
    app_module = run_example("sqlite-provider-app", "readme_app")
    app: Flask = app_module.app
    app.config["TESTING"] = True
    return app


@pytest.fixture(autouse=True)
def forget_example_modules() -> Iterator[None]:
    """The examples run as modules; remove them again after each test."""
    yield
    for name in ("storage", "readme_app", "readme_migration"):
        sys.modules.pop(name, None)


def save(app: Flask, data: bytes, filename: str, location: str = "") -> Any:
    with app.app_context():
        return (
            app.extensions["store"]
            .provider(io.BytesIO(data), location, filename=filename)
            .save()
        )


# -- writing your own provider ----------------------------------------------------


def test_sqlite_provider_saves_reads_and_deletes(provider_app: Flask) -> None:
    first = save(provider_app, b"first", "report.txt", "docs")
    second = save(provider_app, b"second", "report.txt", "docs")

    with provider_app.app_context():
        Provider = provider_app.extensions["store"].provider
        assert type(first).__name__ == "SQLiteProvider"
        assert first.relative_path == "docs/report.txt"
        # A taken name is never overwritten.
        assert second.relative_path.startswith("docs/report_")
        stored = Provider("docs/report.txt")
        assert stored.exists()
        assert stored.read() == b"first"
        assert stored.size == 5
        assert stored.modified is not None
        assert stored.relative_url == "/files/docs/report.txt"
        stored.delete()
        assert not stored.exists()
        with pytest.raises(StoredFileNotFound):
            stored.delete()
        with pytest.raises(StoredFileNotFound):
            stored.open()
        assert Provider(second.relative_path).read() == b"second"


def test_sqlite_provider_lists_folders(provider_app: Flask) -> None:
    for name in ("b.txt", "a.txt", "c.txt"):
        save(provider_app, name.encode(), name, "docs")
    save(provider_app, b"deep", "deep.txt", "docs/2026")
    save(provider_app, b"top", "top.txt")

    with provider_app.app_context():
        Provider = provider_app.extensions["store"].provider
        page = Provider.list_folder("docs", limit=2)
        assert [(e.name, e.is_folder) for e in page.entries] == [
            ("2026", True),
            ("a.txt", False),
        ]
        rest = Provider.list_folder("docs", after=page.next_after, limit=2)
        assert [e.name for e in rest.entries] == ["b.txt", "c.txt"]
        assert rest.next_after is None
        assert [e.path for e in Provider.list_folder("docs", contains="B").entries] == [
            "docs/b.txt"
        ]
        assert [e.path for e in Provider.iter_files("docs")] == [
            "docs/2026/deep.txt",
            "docs/a.txt",
            "docs/b.txt",
            "docs/c.txt",
        ]


def test_sqlite_provider_passes_flask_store_check(provider_app: Flask) -> None:
    result = provider_app.test_cli_runner().invoke(args=["store", "check", "--json"])
    assert result.exit_code == 0, result.output
    put = provider_app.test_cli_runner().invoke(args=["store", "put", __file__])
    assert put.exit_code == 0, put.output
    assert put.stdout.strip() == "/files/test_docs_examples.py"


def test_sqlite_provider_app_serves_files_safely(provider_app: Flask) -> None:
    save(provider_app, b"\x89PNG...", "dot.png", "images")
    save(provider_app, b"<script>alert(1)</script>", "page.html")
    client = provider_app.test_client()

    with client.get("/files/images/dot.png") as image:
        assert image.status_code == 200
        assert image.data == b"\x89PNG..."
        assert image.mimetype == "image/png"
        assert image.headers["X-Content-Type-Options"] == "nosniff"
        assert "attachment" not in image.headers.get("Content-Disposition", "")

    with client.get("/files/page.html") as page:
        assert page.status_code == 200
        assert page.headers["Content-Disposition"].startswith("attachment")
        assert page.headers["Content-Security-Policy"] == "sandbox"

    assert client.get("/files/missing.txt").status_code == 404
    assert client.get("/files/../etc/passwd").status_code == 404


def test_sqlite_provider_names_its_missing_setting(tmp_path: Path) -> None:
    from flask_store import Store

    run_example("sqlite-provider", "storage")
    app = Flask("needs_config", instance_path=str(tmp_path))
    app.config["STORE_PROVIDER"] = "storage.SQLiteProvider"
    with pytest.raises(NotConfiguredError, match="STORE_SQLITE_PATH"):
        Store(app)


# -- upgrading from 0.0.x ------------------------------------------------------------


def test_migration_example_configures_s3() -> None:
    with mock_aws():
        module = run_example("migration", "readme_migration")
        app: Flask = module.app
        with app.app_context():
            from flask_store.providers.s3 import S3Provider

            assert module.store.Provider is S3Provider
            assert module.Provider("a.txt").relative_path == "a.txt"
            assert app.config["STORE_S3_ACL"] == "public-read"
            assert module.FlaskStoreType is not None


# -- the quick start ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("quickstart", "http://127.0.0.1:5000/uploads/localfile.jpg"),
        ("readme", "http://127.0.0.1:5000/uploads/localfile.jpg"),
        ("index", "http://localhost/uploads/localfile.jpg"),
    ],
)
def test_quickstart_as_pasted(
    name: str, url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the example app's root and instance folder
    monkeypatch.delitem(sys.modules, "readme_quickstart", raising=False)
    module = run_example(name, "readme_quickstart")
    app: Flask = module.app
    assert app.config["STORE_PATH"] == str(Path(app.instance_path) / "uploads")
    assert Path(app.instance_path).is_relative_to(tmp_path)
    client = app.test_client()
    response = client.post(
        "/upload", data={"afile": (io.BytesIO(b"JPEG"), "localfile.jpg")}
    )
    assert response.text == url
    with client.get("/uploads/localfile.jpg") as served:
        assert served.data == b"JPEG"
    sys.modules.pop("readme_quickstart", None)


# -- every example runs -------------------------------------------------------------


def test_every_python_block_is_run_or_says_why_not() -> None:
    unmarked = [
        block.where
        for block in code_blocks()
        if block.language in PYTHON and block.kind is None
    ]
    assert not unmarked, (
        "Python blocks with neither <!-- example: NAME --> (and a test that runs"
        f" it) nor <!-- not-run: reason -->: {unmarked}"
    )


def test_every_example_is_run_by_a_test() -> None:
    tests = "\n".join(
        path.read_text(encoding="utf-8")
        for path in Path(__file__).parent.rglob("*.py")
        if path.name != "docs_examples.py"
    )
    names = [block.value for block in code_blocks() if block.kind == "example"]
    assert len(names) == len(set(names)), f"an example name is used twice: {names}"
    unused = [name for name in names if f'"{name}"' not in tests]
    assert not unused, f"examples no test loads by name: {unused}"


def test_every_setting_is_in_the_configuration_reference() -> None:
    reference = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    documented = set(
        re.findall(r"^\| `(STORE_\w+)`(?:, `(STORE_\w+)`)?", reference, re.M)
    )
    keys = {key for pair in documented for key in pair if key}
    used = {
        key
        for path in (ROOT / "flask_store").rglob("*.py")
        for key in re.findall(r"\bSTORE_[A-Z0-9_]*[A-Z0-9]\b", path.read_text("utf-8"))
    }
    assert used - keys == set(), "settings missing from docs/configuration.md"
