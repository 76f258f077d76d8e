"""The local provider: atomic, exclusive, durable, confined to STORE_PATH."""

from __future__ import annotations

import errno
import hashlib
import io
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flask_store import Store, store_provider
from flask_store.backends import local_metadata, publish
from flask_store.exceptions import StorageError, StoredFileNotFound
from flask_store.providers.local import LocalProvider

from .conftest import make_app, upload


def stored(app: Flask) -> Path:
    return Path(app.config["STORE_PATH"])


def test_file_lands_in_instance_uploads(app: Flask) -> None:
    saved = store_provider()(upload(b"data", "a.txt"), location="x").save()
    path = Path(app.instance_path) / "uploads" / "x" / "a.txt"
    assert saved.absolute_path == str(path)
    assert path.read_bytes() == b"data"


def test_no_temporary_file_is_left_after_success_or_error(app: Flask) -> None:
    store_provider()(upload(b"ok", "ok.txt")).save()

    class Failing(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            raise OSError("client went away")

    with pytest.raises(OSError):
        store_provider()(Failing(), filename="bad.txt").save()
    assert sorted(os.listdir(stored(app))) == ["ok.txt"]


def test_saved_file_is_fsynced(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    store_provider()(upload()).save()
    assert len(synced) == 2  # the file, then its folder entry


def test_a_large_file_s_data_goes_to_disk_while_it_is_hashed(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The data is flushed before the hash is awaited, the record after it."""
    events: list[str] = []
    real_fsync, real_attach = os.fsync, local_metadata.attach
    monkeypatch.setattr(publish, "_flush_data", lambda fd: events.append("data"))
    monkeypatch.setattr(
        os, "fsync", lambda fd: events.append("fsync") or real_fsync(fd)
    )
    monkeypatch.setattr(
        local_metadata,
        "attach",
        lambda fd, meta: events.append("record") or real_attach(fd, meta),
    )
    data = os.urandom(3 * 1024 * 1024)
    saved = store_provider()(io.BytesIO(data), filename="big.bin").save()
    assert events == ["data", "record", "fsync", "fsync"]  # then the folder
    assert saved.metadata.sha256 == hashlib.sha256(data).hexdigest()


def test_a_save_records_its_metadata_without_opening_the_file_again(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    updated: list[Any] = []
    monkeypatch.setattr(local_metadata, "update", lambda *a, **k: updated.append(a))
    saved = store_provider()(upload(b"notes", "notes.txt")).save()
    assert updated == []
    assert LocalProvider(saved.relative_path).metadata.sha256 == (
        hashlib.sha256(b"notes").hexdigest()
    )


@pytest.mark.store_config(STORE_FSYNC=False)
def test_no_fsync_when_it_is_off(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", synced.append)
    store_provider()(upload()).save()
    assert synced == []


def test_file_mode_follows_the_umask(app: Flask) -> None:
    saved = store_provider()(upload()).save()
    mask = os.umask(0o022)
    os.umask(mask)
    assert os.stat(saved.absolute_path).st_mode & 0o777 == 0o666 & ~mask


def test_concurrent_threads_saving_one_name_all_keep_their_bytes(app: Flask) -> None:
    barrier = threading.Barrier(12)
    results: list[str] = []

    def save(i: int) -> None:
        with app.app_context():
            provider = store_provider()(io.BytesIO(b"%d" % i * 1000), filename="r.pdf")
            barrier.wait()
            results.append(provider.save().filename)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 12
    contents = {(stored(app) / name).read_bytes() for name in results}
    assert contents == {b"%d" % i * 1000 for i in range(12)}


def _save_in_process(instance: str, i: int, start: Any, queue: Any) -> None:
    app = Flask("worker", instance_path=instance)
    Store(app)
    with app.app_context():
        provider = store_provider()(io.BytesIO(b"%d" % i * 5000), filename="same.pdf")
        start.wait()
        queue.put(provider.save().filename)


def test_concurrent_processes_saving_one_name_all_keep_their_bytes(
    tmp_path: Path,
) -> None:
    ctx = multiprocessing.get_context("spawn")
    start, queue = ctx.Event(), ctx.Queue()
    instance = str(tmp_path / "instance")
    procs = [
        ctx.Process(target=_save_in_process, args=(instance, i, start, queue))
        for i in range(4)
    ]
    for proc in procs:
        proc.start()
    time.sleep(0.5)
    start.set()
    names = [queue.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    assert len(set(names)) == 4
    folder = Path(instance) / "uploads"
    assert {(folder / n).read_bytes() for n in names} == {
        b"%d" % i * 5000 for i in range(4)
    }


def test_works_without_hard_links(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(src: str, dst: str, **kwargs: Any) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    first = store_provider()(upload(b"one", "n.txt")).save()
    second = store_provider()(upload(b"two", "n.txt")).save()
    assert first.read() == b"one" and second.read() == b"two"
    assert second.filename != "n.txt"
    assert sorted(os.listdir(stored(app))) == sorted(["n.txt", second.filename])


def test_symlink_out_of_the_root_is_never_written_through(
    app: Flask, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    stored(app).mkdir(parents=True)
    (stored(app) / "evil").symlink_to(outside)
    with pytest.raises(StorageError):
        store_provider()(upload(), location="evil/deeper").save()
    with pytest.raises(StorageError):
        store_provider()(upload(), location="evil").save()
    assert list(outside.iterdir()) == []


def test_symlink_out_of_the_root_is_never_read_or_deleted(
    app: Flask, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    stored(app).mkdir(parents=True)
    (stored(app) / "link.txt").symlink_to(secret)
    provider = store_provider()("link.txt")
    assert not provider.exists()
    with pytest.raises(StoredFileNotFound):
        provider.open()
    with pytest.raises(StoredFileNotFound):
        provider.delete()
    assert secret.read_text() == "top secret"


def test_listing_hides_dotfiles_and_temporary_files(app: Flask) -> None:
    store_provider()(upload(b"x", "shown.txt")).save()
    (stored(app) / ".flask-store-abc.part").write_bytes(b"partial")
    (stored(app) / ".hidden").write_bytes(b"h")
    assert [e.name for e in LocalProvider.list_folder().entries] == ["shown.txt"]
    assert [f.path for f in LocalProvider.iter_files()] == ["shown.txt"]


class Zeros(io.RawIOBase):
    """A stream of ``size`` zero bytes that never holds them all in memory."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n


def test_large_save_uses_bounded_memory(app: Flask) -> None:
    size = 256 * 1024 * 1024
    tracemalloc.start()
    try:
        saved = store_provider()(Zeros(size), filename="big.bin").save()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert saved.size == size
    assert peak < 8 * 1024 * 1024


def test_killed_mid_save_leaves_no_file_under_the_final_name(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    script = textwrap.dedent(
        f"""
        import io, sys, time
        from flask import Flask
        from flask_store import Store, store_provider

        class Slow(io.RawIOBase):
            sent = 0
            def readable(self):
                return True
            def readinto(self, buffer):
                if self.sent > 4 * 1024 * 1024:
                    print("writing", flush=True)
                    time.sleep(60)
                n = min(len(buffer), 65536)
                buffer[:n] = bytes(n)
                self.sent += n
                return n

        app = Flask("victim", instance_path={str(instance)!r})
        Store(app)
        with app.app_context():
            store_provider()(Slow(), filename="big.bin").save()
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    folder = instance / "uploads"
    assert not (folder / "big.bin").exists()
    app = make_app(tmp_path)
    Store(app)
    with app.app_context():
        assert list(LocalProvider.iter_files()) == []


def test_the_store_folder_is_opened_once_per_app(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = app.config["STORE_PATH"]
    opened: list[Any] = []
    real_open = os.open

    def counting_open(path: Any, *args: Any, **kwargs: Any) -> int:
        opened.append(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", counting_open)
    for i in range(5):
        saved = store_provider()(upload(b"%d" % i, "a.txt"), location="x").save()
        assert saved.read() == b"%d" % i
    assert opened.count(root) == 1
    # Everything else was opened relative to a folder's descriptor.
    assert not any(os.path.isabs(str(path)) for path in opened if path != root)


def test_a_replaced_store_folder_is_opened_again(app: Flask) -> None:
    root = stored(app)
    store_provider()(upload(b"old", "a.txt")).save()
    root.rename(root.with_name("moved"))
    assert not store_provider()("a.txt").exists()
    saved = store_provider()(upload(b"new", "b.txt")).save()
    assert (root / "b.txt").read_bytes() == b"new" == saved.read()
    assert sorted(p.name for p in root.with_name("moved").iterdir()) == ["a.txt"]
    assert [f.path for f in LocalProvider.iter_files()] == ["b.txt"]


def _save_after_fork(app: Flask, queue: Any) -> None:
    with app.app_context():
        saved = store_provider()(upload(b"child", "c.txt")).save()
        queue.put((saved.relative_path, saved.read(), store_provider()("p.txt").read()))


def test_a_forked_worker_uses_its_own_descriptor(app: Flask) -> None:
    # As gunicorn's workers do with a preloaded app: the parent has opened the
    # store; the child opens it again and both keep working.
    store_provider()(upload(b"parent", "p.txt")).save()
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_save_after_fork, args=(app, queue))
    child.start()
    result = queue.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    assert result == ("c.txt", b"child", b"parent")
    assert store_provider()("c.txt").read() == b"child"
    assert store_provider()(upload(b"again", "p.txt")).save().filename != "p.txt"


def test_a_fifo_planted_in_the_store_does_not_hang_a_read(app: Flask) -> None:
    stored(app).mkdir(parents=True)
    os.mkfifo(stored(app) / "pipe.txt")
    provider = store_provider()("pipe.txt")
    assert not provider.exists()
    with pytest.raises(StoredFileNotFound):
        provider.open()
    assert app.test_client().get("/uploads/pipe.txt").status_code == 404


def test_a_folder_removed_under_a_save_is_made_again(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another save that failed removed the (empty) folder this one had just
    # opened: the file is created in the folder made again.
    real_open = os.open
    removed: list[str] = []

    unnamed = getattr(os, "O_TMPFILE", os.O_CREAT)

    def open_after_removal(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        new_file = flags & os.O_CREAT or flags & unnamed == unnamed
        if new_file and not removed:
            removed.append(str(path))
            os.rmdir(stored(app) / "new" / "deep")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_after_removal)
    saved = store_provider()(upload(b"kept", "k.txt"), location="new/deep").save()
    assert removed
    assert (stored(app) / "new" / "deep" / "k.txt").read_bytes() == b"kept"
    assert saved.read() == b"kept"


needs_unnamed_files = pytest.mark.skipif(
    not publish._unnamed_files(), reason="this system makes no unnamed files"
)


@needs_unnamed_files
def test_a_folder_removed_while_a_save_writes_is_made_again(app: Flask) -> None:
    # A new file has no name until it is published, so its folder looks
    # empty: another save that failed may remove it meanwhile. The file is
    # linked into the folder made again.
    data = os.urandom(300 * 1024)  # read in two parts: the first bytes, the rest
    folder = stored(app) / "new" / "deep"
    removed: list[bool] = []

    class RemovesItsFolder(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            if self.tell() > 0 and not removed:
                folder.rmdir()
                removed.append(True)
            return super().read(size)

    stream = RemovesItsFolder(data)
    saved = store_provider()(stream, filename="k.bin", location="new/deep").save()
    assert removed == [True]
    assert (folder / "k.bin").read_bytes() == data
    assert saved.metadata.sha256 == hashlib.sha256(data).hexdigest()
    assert os.listdir(folder) == ["k.bin"]


@needs_unnamed_files
def test_a_killed_or_failed_save_needs_no_temporary_name(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    names: list[str] = []
    real_open = os.open

    def watch(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_CREAT:
            names.append(str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", watch)
    saved = store_provider()(upload(b"data", "a.txt")).save()
    assert names == []  # nothing was ever created under a temporary name
    assert saved.read() == b"data"


def test_a_filesystem_without_unnamed_files_gets_temporary_names(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = os.open
    unnamed = getattr(os, "O_TMPFILE", -1)

    def no_unnamed_files(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & unnamed == unnamed:
            raise OSError(errno.EOPNOTSUPP, "not here")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", no_unnamed_files)
    saved = store_provider()(upload(b"notes", "notes.txt"), location="docs").save()
    assert os.listdir(stored(app) / "docs") == ["notes.txt"]
    assert store_provider()(saved.relative_path).metadata.sha256 == (
        hashlib.sha256(b"notes").hexdigest()
    )


@needs_unnamed_files
def test_an_unnamed_file_that_cannot_be_linked_is_saved_another_way(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A filesystem that makes unnamed files but has no hard links: the file
    # is written again under a temporary name, which is moved into place.
    def no_links(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EPERM, "no hard links here")

    monkeypatch.setattr(os, "link", no_links)
    store_provider()(upload(b"taken", "notes.txt"), location="docs").save()
    saved = store_provider()(upload(b"notes", "notes.txt"), location="docs").save()
    assert saved.relative_path != "docs/notes.txt"  # never overwritten
    assert sorted(os.listdir(stored(app) / "docs")) == sorted(
        ["notes.txt", saved.filename]
    )
    assert (stored(app) / "docs" / "notes.txt").read_bytes() == b"taken"
    assert store_provider()(saved.relative_path).metadata.sha256 == (
        hashlib.sha256(b"notes").hexdigest()
    )
