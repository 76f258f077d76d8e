"""The local provider at the filesystem's limits: a full disk is
:class:`InsufficientStorage` (HTTP 507), a name longer than the filesystem
allows is :class:`NameTooLong` (a ``ValueError``, HTTP 400), and either way
nothing is left behind: no temporary file, no folder the save created."""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flask_store import Store
from flask_store.exceptions import InsufficientStorage, StorageError
from flask_store.providers.local import LocalProvider

from .conftest import make_app
from .security.conftest import ADMIN, admin_app, csrf_token

#: 200 CJK characters: 600 bytes in UTF-8, over the 255 bytes a name may have.
LONG_NAME = "文" * 200


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = make_app(tmp_path, STORE_PATH=str(tmp_path / "store"))
    Store(app)
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "kept").mkdir()
    return app


def everything(app: Flask) -> set[str]:
    root = Path(app.config["STORE_PATH"])
    return {str(p.relative_to(root)) for p in root.rglob("*")}


# -- disk full ------------------------------------------------------------------

#: Fills a tiny tmpfs mounted in a private mount namespace: a real ENOSPC.
FULL_DISK = textwrap.dedent(
    """
    import io, json, os, sys
    from flask import Flask
    from flask_store import Store
    from flask_store.providers.local import LocalProvider

    disk = sys.argv[1]
    app = Flask("full", instance_path=os.path.join(disk, "instance"))
    app.config["STORE_PATH"] = os.path.join(disk, "store")
    Store(app)
    results = {}
    for location in ("", "new/deep/folder"):
        try:
            LocalProvider(
                io.BytesIO(b"x" * (4 << 20)), filename="big.bin",
                location=location, app=app,
            ).save()
        except Exception as exc:
            results[location] = [type(exc).__name__, str(exc)]
        else:
            results[location] = ["saved", ""]
    small = LocalProvider(io.BytesIO(b"fits"), filename="small.txt", app=app).save()
    results["small"] = [small.relative_path, small.read().decode()]
    results["left"] = sorted(
        os.path.relpath(os.path.join(d, n), app.config["STORE_PATH"])
        for d, dirs, files in os.walk(app.config["STORE_PATH"])
        for n in dirs + files
    )
    print(json.dumps(results))
    """
)


def private_tmpfs(tmp_path: Path, script: str) -> subprocess.CompletedProcess[str]:
    disk = tmp_path / "disk"
    disk.mkdir()
    command = (
        f"mount -t tmpfs -o size=1m tmpfs {disk} && "
        f'exec {sys.executable} -c "$0" {disk}'
    )
    return subprocess.run(
        ["unshare", "--map-root-user", "--mount", "sh", "-c", command, script],
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_full_disk_is_insufficient_storage_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1) to mount a private tmpfs")
    done = private_tmpfs(tmp_path, FULL_DISK)
    if done.returncode != 0 and "mount" in done.stderr:
        pytest.skip(f"cannot mount a private tmpfs here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    for location in ("", "new/deep/folder"):
        kind, message = results[location]
        assert kind == "InsufficientStorage", results
        assert "no room left" in message and "nothing was stored" in message
    # No temporary file and none of the folders the deep save made.
    assert results["left"] == ["small.txt"]
    assert results["small"] == ["small.txt", "fits"]


@pytest.mark.parametrize("failing", ["fsync", "link"])
def test_disk_full_at_any_step_leaves_nothing(
    app: Flask, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    # fsync reports a full disk on filesystems that allocate late (and NFS);
    # a new folder entry may need a block too.
    real = getattr(os, failing)

    def full(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, failing, full)
    with app.app_context():
        for location in ("", "kept", "a/b/c"):
            with pytest.raises(InsufficientStorage) as raised:
                LocalProvider(
                    io.BytesIO(b"data"), filename="f.txt", location=location
                ).save()
            assert isinstance(raised.value, StorageError)
            assert raised.value.code == 507
    assert everything(app) == {"kept"}
    monkeypatch.setattr(os, failing, real)


def test_a_quota_exceeded_is_insufficient_storage_too(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    def over_quota(fd: int) -> None:
        raise OSError(errno.EDQUOT, "Disk quota exceeded")

    monkeypatch.setattr(os, "fsync", over_quota)
    with app.app_context(), pytest.raises(InsufficientStorage):
        LocalProvider(io.BytesIO(b"data"), filename="f.txt", location="q/r").save()
    assert everything(app) == {"kept"}


def test_the_admin_answers_a_full_disk_with_507(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = admin_app(tmp_path, "local", STORE_FSYNC=True)
    client = app.test_client()
    token = csrf_token(client)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    response = client.post(
        ADMIN + "/upload",
        data={
            "location": "new/folder",
            "file": (io.BytesIO(b"data"), "a.txt"),
            "csrf_token": token,
        },
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 507
    assert "no room left" in response.json["error"]
    root = Path(app.config["STORE_PATH"])
    assert not root.exists() or list(root.iterdir()) == []


# -- names too long ---------------------------------------------------------------


@pytest.mark.parametrize(
    "location", [LONG_NAME, f"a/{LONG_NAME}", f"kept/b/{LONG_NAME}/c", "x" * 256]
)
def test_a_location_too_long_is_refused_up_front_and_leaves_nothing(
    app: Flask, location: str
) -> None:
    # Counted in bytes before anything touches the disk: a clear ValueError
    # (a 400 for clients), never an OSError from the filesystem.
    with app.app_context():
        with pytest.raises(ValueError, match="bytes long"):
            LocalProvider(io.BytesIO(b"data"), filename="f.txt", location=location)
        with pytest.raises(ValueError, match="bytes long"):
            LocalProvider.create_folder(location)
        with pytest.raises(ValueError, match="bytes long"):
            LocalProvider(f"{location}/f.txt")
        with pytest.raises(ValueError, match="bytes long"):
            LocalProvider.list_folder(location)
    assert everything(app) == {"kept"}


def test_a_stored_name_too_long_is_not_stored_and_not_served(app: Flask) -> None:
    # A stored path is checked in bytes as it is built: such a name can never
    # have been stored by Flask-Store, and asking for it is a clear ValueError.
    with app.app_context(), pytest.raises(ValueError, match="bytes long"):
        LocalProvider(LONG_NAME + ".txt")
    assert app.test_client().get(f"/uploads/{LONG_NAME}.txt").status_code == 404


def test_the_admin_answers_a_folder_too_long_with_a_4xx(tmp_path: Path) -> None:
    app = admin_app(tmp_path, "local")
    client = app.test_client()
    token = csrf_token(client)
    response = client.post(
        ADMIN + "/upload",
        data={
            "location": f"new/{LONG_NAME}",
            "file": (io.BytesIO(b"data"), "a.txt"),
            "csrf_token": token,
        },
        headers={"Accept": "application/json"},
    )
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    assert response.json["error"]
    root = Path(app.config["STORE_PATH"])
    assert not root.exists() or list(root.iterdir()) == []


# -- failed deep saves --------------------------------------------------------------


def test_a_failed_deep_save_removes_only_the_folders_it_made(app: Flask) -> None:
    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            raise OSError(errno.ECONNRESET, "client went away")

    with app.app_context():
        LocalProvider(io.BytesIO(b"x"), filename="x.txt", location="kept/old").save()
        with pytest.raises(OSError):
            LocalProvider(Broken(), filename="b.txt", location="kept/old/n1/n2").save()
        with pytest.raises(OSError):
            LocalProvider(Broken(), filename="b.txt", location="fresh/n1/n2").save()
    assert everything(app) == {"kept", "kept/old", "kept/old/x.txt"}


def test_a_folder_on_a_full_disk_is_insufficient_storage(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "mkdir", full)
    with app.app_context(), pytest.raises(InsufficientStorage):
        LocalProvider.create_folder("kept/new")
    assert everything(app) == {"kept"}
