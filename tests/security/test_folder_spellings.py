"""A row whose value is any spelling canonically equivalent to a path uses
its file: the admin's delete and ``flask store rm`` refuse to delete it.
"""

from __future__ import annotations

import sys
import unicodedata

import pytest

from flask_store.sqla import references

from .test_canonical_paths import ADMIN, read, save, store_app


@pytest.mark.parametrize(
    "raw",
    [
        "docs/e\u0301\u0323.pdf",  # decomposed, marks out of canonical order
        "docs/\u212bngstr\u00f6m.pdf",  # U+212B ANGSTROM SIGN
        "docs/\u212aelvin.pdf",  # U+212A KELVIN SIGN for an ASCII K
        "docs/\u00e9e\u0301_x.pdf",  # composed and decomposed, a LIKE wildcard
    ],
)
def test_a_row_with_any_equivalent_spelling_keeps_its_file(raw: str) -> None:
    with store_app(STORE_ADMIN_CSRF=False) as (app, factory):
        path = save(app, b"used", raw.rpartition("/")[2])
        assert path == unicodedata.normalize("NFC", raw) != raw
        with factory() as session:
            session.connection().exec_driver_sql(
                "INSERT INTO canonical_paper (file) VALUES (?)", (raw,)
            )
            session.commit()

        result = app.test_cli_runner().invoke(args=["store", "rm", path])
        response = app.test_client().post(
            ADMIN + "/delete",
            data={"path": path, "confirmed": "yes"},
            headers={"Accept": "application/json"},
        )

        assert result.exit_code == 1
        assert f"Nothing deleted: rows use {path} (Paper #1.file)" in result.output
        assert response.status_code == 409
        assert "Paper #1.file" in response.json["error"]
        assert read(app, path) == b"used"


def test_equivalents_pattern_knows_every_ascii_character_spelt_otherwise() -> None:
    respelt = {
        char
        for code in range(0x80, sys.maxunicode + 1)
        for char in unicodedata.normalize("NFC", chr(code))
        if char.isascii()
    }
    assert respelt == set(references.RESPELT_ASCII)
    assert references.equivalents_pattern("docs/a.txt") is None
    assert references.equivalents_pattern("docs/K_1%.txt") == "docs/%\\_1\\%.txt"
