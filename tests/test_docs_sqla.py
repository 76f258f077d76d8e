"""The SQLAlchemy guide's examples, run as they are written there."""

from __future__ import annotations

import io
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from .docs_examples import run_example


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Runs an example with the working directory (its app's root) in tmp_path."""
    monkeypatch.chdir(tmp_path)
    ran: list[str] = []

    def run(name: str) -> types.ModuleType:
        ran.append(f"readme_{name.replace('-', '_')}")
        return run_example(name, ran[-1])

    yield run
    for module_name in ran:
        sys.modules.pop(module_name, None)


def test_the_flask_sqlalchemy_example(example: Any, tmp_path: Path) -> None:
    module = example("sqla")
    app: Flask = module.app
    client = app.test_client()

    response = client.post(
        "/documents", data={"file": (io.BytesIO(b"%PDF-1.7"), "Report 2026.pdf")}
    )
    assert response.status_code == 200
    assert response.text == "http://localhost/uploads/documents/Report_2026.pdf"
    with client.get("/uploads/documents/Report_2026.pdf") as served:
        assert served.data == b"%PDF-1.7"
    disk = tmp_path / "instance" / "uploads" / "documents" / "Report_2026.pdf"
    assert disk.read_bytes() == b"%PDF-1.7"
    with app.app_context():
        doc = module.db.session.scalars(module.db.select(module.Document)).one()
        assert doc.file.relative_path == "documents/Report_2026.pdf"
        module.db.session.remove()
        module.db.engine.dispose()


def test_the_plain_sqlalchemy_example(example: Any, tmp_path: Path) -> None:
    module = example("sqla-plain")
    client = module.app.test_client()

    response = client.post("/avatars", data={"image": (io.BytesIO(b"png"), "me.png")})
    assert response.status_code == 200
    assert response.text == "http://localhost/uploads/avatars/me.png"
    with client.get("/uploads/avatars/me.png") as served:
        assert served.data == b"png"
    with module.app.app_context(), module.Session() as session:
        avatar = session.get(module.Avatar, 1)
        assert avatar.image.read() == b"png"
    module.engine.dispose()
