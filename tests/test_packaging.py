"""The wheel ships what an installed Flask-Store needs at run time."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_templates_static_files_and_py_typed(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "--wheel-dir",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("flask_store-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "flask_store/py.typed",
        "flask_store/templates/flask_store/macros.html",
        "flask_store/templates/flask_store/base.html",
        "flask_store/static/flask_store/flask_store.css",
        "flask_store/static/flask_store/flask_store.js",
        "flask_store/providers/s3.py",
    }
    assert expected <= names
    assert not any(
        n.startswith(("tests/", "example_app/", "benchmarks/")) for n in names
    )
