"""The browse page of a folder of 100,000 files does a page's worth of work.

Speed itself is measured in benchmarks/ (a timed test would be flaky on a
shared machine); here we check the cause of speed: one directory read and a
stat per shown entry, never one per file in the folder.
"""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

from flask_store import Store
from flask_store.blueprint import blueprint

from .conftest import make_app

COUNT = 100_000


def test_browse_a_folder_of_100000_files(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(tmp_path, STORE_ADMIN_ACCESS=True)
    Store(app)
    app.register_blueprint(blueprint, url_prefix="/files")
    root = app.config["STORE_PATH"]
    os.makedirs(root)
    for i in range(COUNT):
        os.close(os.open(os.path.join(root, f"f{i:06}.txt"), os.O_CREAT | os.O_WRONLY))
    client = app.test_client()

    calls = {"lstat": 0, "stat": 0}
    for name in calls:
        real = getattr(os, name)

        def counted(*args: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            calls[_name] += 1
            return _real(*args, **kw)

        monkeypatch.setattr(os, name, counted)

    body = client.get("/files/?per_page=100").get_data(as_text=True)
    names = re.findall(r'<span class="fs-name-text">([^<]*)</span>', body)
    assert names == [f"f{i:06}.txt" for i in range(100)]
    assert 'rel="next"' in body
    assert calls["lstat"] + calls["stat"] < 1_000, calls

    calls.update(lstat=0, stat=0)
    body = client.get("/files/?q=f09999&per_page=100").get_data(as_text=True)
    names = re.findall(r'<span class="fs-name-text">([^<]*)</span>', body)
    assert names == [f"f09999{i}.txt" for i in range(10)]
    assert calls["lstat"] + calls["stat"] < 1_000, calls
