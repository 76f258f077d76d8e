"""The README's SQLAlchemy examples, run as they are written there."""

from __future__ import annotations

import io
import re
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

README = Path(__file__).resolve().parent.parent / "README.md"


def run_readme_example(name: str, module_name: str) -> types.ModuleType:
    """Run the README block marked ``<!-- example: name -->`` as a module."""
    text = README.read_text(encoding="utf-8")
    pattern = rf"<!-- example: {re.escape(name)} -->\n```python\n(.*?)```"
    match = re.search(pattern, text, re.DOTALL)
    assert match, f"README.md has no example named {name!r}"
    module = types.ModuleType(module_name)
    sys.modules[module_name] = module
    exec(compile(match.group(1), f"README.md:{name}", "exec"), module.__dict__)
    return module


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Runs an example with the working directory (its app's root) in tmp_path."""
    monkeypatch.chdir(tmp_path)
    ran: list[str] = []

    def run(name: str) -> types.ModuleType:
        ran.append(f"readme_{name.replace('-', '_')}")
        return run_readme_example(name, ran[-1])

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
