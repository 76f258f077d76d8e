"""The browse page stays fast for a folder of 100,000 files."""

from __future__ import annotations

import os
import re
import time
from typing import Any

from flask_store import Store
from flask_store.blueprint import blueprint

from .conftest import make_app

COUNT = 100_000


def test_browse_a_folder_of_100000_files(tmp_path: Any) -> None:
    app = make_app(tmp_path, STORE_ADMIN_ACCESS=True)
    Store(app)
    app.register_blueprint(blueprint, url_prefix="/files")
    root = app.config["STORE_PATH"]
    os.makedirs(root)
    for i in range(COUNT):
        os.close(os.open(os.path.join(root, f"f{i:06}.txt"), os.O_CREAT | os.O_WRONLY))
    client = app.test_client()

    started = time.perf_counter()
    body = client.get("/files/?per_page=100").get_data(as_text=True)
    first_page = time.perf_counter() - started
    names = re.findall(r'<span class="fs-name-text">([^<]*)</span>', body)
    assert names == [f"f{i:06}.txt" for i in range(100)]

    started = time.perf_counter()
    body = client.get("/files/?q=f09999&per_page=100").get_data(as_text=True)
    filtered = time.perf_counter() - started
    names = re.findall(r'<span class="fs-name-text">([^<]*)</span>', body)
    assert names == [f"f09999{i}.txt" for i in range(10)]

    # Generous bounds for a loaded CI machine; a page takes well under 0.5 s.
    assert first_page < 3
    assert filtered < 3
