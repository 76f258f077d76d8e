"""The Flask-Admin guide's example, run as it is written there."""

from __future__ import annotations

import html
import io
import sys
from pathlib import Path

import pytest

from .docs_examples import run_example

MODULE = "docs_flask_admin"


def test_the_flask_admin_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    try:
        module = run_example("flask-admin", MODULE)
        app = module.app
        app.config["WTF_CSRF_ENABLED"] = False
        client = app.test_client()

        response = client.post(
            "/admin/document/new/",
            data={"title": "Q1", "file": (io.BytesIO(b"%PDF-1.7"), "Q1 report.pdf")},
        )
        assert response.status_code == 302, response.text
        listing = html.unescape(client.get("/admin/document/").text)
        assert 'href="http://localhost/uploads/documents/Q1_report.pdf"' in listing
        files = html.unescape(client.get("/admin/storefileadmin/b/documents").text)
        assert "path=documents/Q1_report.pdf" in files

        # STORE_DELETE_ORPHANS: replacing the file deletes the old one after
        # the commit.
        response = client.post(
            "/admin/document/edit/?id=1",
            data={"title": "Q1", "file": (io.BytesIO(b"%PDF-2.0"), "Q1 final.pdf")},
        )
        assert response.status_code == 302, response.text
        uploads = tmp_path / "instance" / "uploads" / "documents"
        assert sorted(p.name for p in uploads.iterdir()) == ["Q1_final.pdf"]
        with app.app_context():
            module.db.session.remove()
            module.db.engine.dispose()
    finally:
        sys.modules.pop(MODULE, None)
