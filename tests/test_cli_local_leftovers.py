"""``flask store check`` reports, and ``flask store cleanup`` removes, what
interrupted saves leave in a local store: the hidden ``.part`` file of a save
killed mid-way, and uploads left in the spool folder by a killed request."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask

from flask_store import Store
from flask_store.providers.local import TEMP_PREFIX, LocalProvider
from flask_store.spool import SPOOL_FOLDER

from .conftest import make_app

#: Saves ``big.bin`` into ``deep/er`` from a stream that, once its first chunk
#: is written, says so and hangs until it is killed. With ``named``, as on a
#: filesystem that makes no unnamed files (``O_TMPFILE``): the new file has a
#: temporary name.
KILLED_SAVE = textwrap.dedent(
    """
    import sys, time
    from flask import Flask
    from flask_store import Store
    from flask_store.backends import publish
    from flask_store.providers.local import LocalProvider

    app = Flask("killed", instance_path=sys.argv[1])
    app.config["STORE_PATH"] = sys.argv[2]
    Store(app)
    if sys.argv[3] == "named":
        publish._unnamed_files = lambda: False

    class Hanging:
        calls = 0

        def read(self, size=-1):
            self.calls += 1
            if self.calls == 2:
                print("writing", flush=True)
                time.sleep(3600)
            return b"x" * 65536

    LocalProvider(Hanging(), filename="big.bin", location="deep/er", app=app).save()
    """
)

#: Spools an upload as StoreRequest does, then dies before the request ends.
KILLED_REQUEST = textwrap.dedent(
    """
    import os, signal, sys
    from flask import Flask
    from flask_store import Store
    from flask_store.spool import spool_file

    app = Flask("killed", instance_path=sys.argv[1])
    app.config["STORE_PATH"] = sys.argv[2]
    Store(app)
    upload = spool_file(app)
    upload.write(b"half an upload")
    upload.flush()
    os.kill(os.getpid(), signal.SIGKILL)
    """
)

HOUR = 3600


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = make_app(tmp_path, STORE_PATH=str(tmp_path / "store"))
    Store(app)
    return app


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["store", *args])


def kill_a_save(app: Flask, *, named: bool = True) -> Path | None:
    """Run a save in a real process, SIGKILL it mid-write; its ``.part``
    file, or ``None`` when it left nothing in its folder."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            KILLED_SAVE,
            app.instance_path,
            app.config["STORE_PATH"],
            "named" if named else "unnamed",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"writing\n"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    folder = Path(app.config["STORE_PATH"]) / "deep" / "er"
    left = list(folder.iterdir())
    if not left:
        return None
    (part,) = left
    assert part.name.startswith(TEMP_PREFIX) and part.name.endswith(".part")
    return part


def a_killed_save_s_part(app: Flask) -> Path:
    """The ``.part`` file a save killed mid-write leaves where files have names."""
    part = kill_a_save(app, named=True)
    assert part is not None
    return part


def kill_a_request(app: Flask) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-c",
            KILLED_REQUEST,
            app.instance_path,
            app.config["STORE_PATH"],
        ],
        check=False,
    )
    (spooled,) = (Path(app.config["STORE_PATH"]) / SPOOL_FOLDER).iterdir()
    return spooled


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)


def test_a_save_killed_mid_way_is_reported_then_removed(app: Flask) -> None:
    part = a_killed_save_s_part(app)
    assert part.stat().st_size > 0
    assert not (part.parent / "big.bin").exists()

    # Too young for the default grace period: it may be a save under way.
    result = run(app, "check")
    assert result.exit_code == 0, result.output
    assert str(part) not in result.output
    result = run(app, "cleanup", "--yes")
    assert result.exit_code == 0 and part.exists()
    assert "Nothing was left behind." in result.output

    age(part, 2 * HOUR)
    result = run(app, "check")
    assert result.exit_code == 0, result.output
    assert "run `flask store cleanup`" in result.output
    (line,) = [line for line in result.output.splitlines() if str(part) in line]
    assert line.strip().startswith("temporary file")
    assert "(cleanup: remove)" in line

    result = run(app, "cleanup", "--yes")
    assert result.exit_code == 0, result.output
    assert f"removed: {part}" in result.output
    assert not part.exists()
    # The folders stay (another save may be writing into them); nothing else.
    assert list(part.parent.iterdir()) == []
    result = run(app, "check", "--json")
    assert json.loads(result.output)["leftovers"] == []


@pytest.mark.skipif(not hasattr(os, "O_TMPFILE"), reason="unnamed files are Linux's")
def test_a_save_killed_mid_way_leaves_nothing_where_files_are_made_unnamed(
    app: Flask,
) -> None:
    assert kill_a_save(app, named=False) is None
    result = run(app, "check", "--older-than", "0s", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["leftovers"] == []


def test_an_upload_spooled_by_a_killed_request_is_reported_then_removed(
    app: Flask,
) -> None:
    spooled = kill_a_request(app)
    result = run(app, "check", "--older-than", "0s", "--json")
    assert result.exit_code == 0, result.output
    (leftover,) = json.loads(result.output)["leftovers"]
    assert leftover["path"] == str(spooled)
    assert leftover["kind"] == "spooled upload"
    assert leftover["size"] == len(b"half an upload")
    assert leftover["action"] == "remove"

    result = run(app, "cleanup", "--older-than", "0s", "--dry-run")
    assert result.exit_code == 0 and spooled.exists()

    result = run(app, "cleanup", "--older-than", "0s", "--json")
    assert result.exit_code == 0, result.output
    (done,) = json.loads(result.output)["done"]
    assert (done["path"], done["outcome"]) == (str(spooled), "removed")
    assert not spooled.exists()


def test_cleanup_touches_nothing_but_leftovers(app: Flask, tmp_path: Path) -> None:
    root = Path(app.config["STORE_PATH"])
    part = a_killed_save_s_part(app)
    with app.app_context():
        kept = LocalProvider(io.BytesIO(b"mine"), filename="notes.part", app=app).save()
    outside = tmp_path / "outside.part"
    outside.write_bytes(b"not in the store")
    (root / f"{TEMP_PREFIX}link.part").symlink_to(outside)
    (root / f"{TEMP_PREFIX}folder.part").mkdir()
    (root / ".hidden").write_bytes(b"someone's")
    for path in (part, root / kept.relative_path, root / ".hidden", outside):
        age(path, 2 * HOUR)
    age(root / f"{TEMP_PREFIX}link.part", 2 * HOUR)

    result = run(app, "cleanup", "--yes", "--json")
    assert result.exit_code == 0, result.output
    assert [d["path"] for d in json.loads(result.output)["done"]] == [str(part)]
    assert not part.exists()
    assert (root / kept.relative_path).read_bytes() == b"mine"
    assert (root / f"{TEMP_PREFIX}link.part").is_symlink()
    assert outside.read_bytes() == b"not in the store"
    assert (root / f"{TEMP_PREFIX}folder.part").is_dir()
    assert (root / ".hidden").exists()


def test_cleanup_asks_first_without_yes(app: Flask) -> None:
    part = a_killed_save_s_part(app)
    age(part, 2 * HOUR)
    result = app.test_cli_runner().invoke(args=["store", "cleanup"], input="n\n")
    assert result.exit_code != 0
    assert part.exists()


def test_a_leftover_written_again_since_it_was_found_is_kept(app: Flask) -> None:
    part = a_killed_save_s_part(app)
    age(part, 2 * HOUR)
    found_at = part.stat().st_mtime_ns
    with app.app_context():
        from datetime import timedelta

        (found,) = LocalProvider.leftovers(older_than=timedelta(hours=1), app=app)
        age(part, 0)  # a save wrote to it meanwhile
        assert LocalProvider.clean_leftover(found, app=app) == "kept (written since)"
        assert part.exists()
        os.utime(part, ns=(found_at, found_at))
        assert LocalProvider.clean_leftover(found, app=app) == "removed"
        assert LocalProvider.clean_leftover(found, app=app) == "already gone"


def test_a_path_that_is_no_leftover_is_never_cleaned(app: Flask) -> None:
    from dataclasses import replace
    from datetime import timedelta

    part = a_killed_save_s_part(app)
    age(part, 2 * HOUR)
    with app.app_context():
        kept = LocalProvider(io.BytesIO(b"mine"), filename="kept.txt", app=app).save()
        (found,) = LocalProvider.leftovers(older_than=timedelta(hours=1), app=app)
        for path in (
            kept.absolute_path,
            str(part.parent.parent.parent.parent / "x.part"),
        ):
            with pytest.raises(ValueError):
                LocalProvider.clean_leftover(replace(found, path=path), app=app)
    assert Path(kept.absolute_path).read_bytes() == b"mine"
