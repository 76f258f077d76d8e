"""Races against a local actor who swaps a folder of the store for a symlink to
an outside folder, atomically and over and over, while the app saves into it,
serves from it, lists it and deletes in it.

A separate process exchanges the folder ``target`` with the symlink ``decoy``
(``renameat2(RENAME_EXCHANGE)``, or three renames where the kernel lacks it)
in a loop. Whatever the timing, nothing is written, served or deleted
outside the store: each operation either works on the real folder or is
refused. Every loop is bounded in count and in time, and each test checks
that both outcomes happened, so the race was really run.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from flask_store.exceptions import FolderConflict, StoredFileNotFound

from .conftest import ADMIN, admin_app, tree

SWAPPER = textwrap.dedent(
    """
    import ctypes, os, sys, time

    root, limit, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    a, b = os.path.join(root, "target"), os.path.join(root, "decoy")
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    AT_FDCWD, RENAME_EXCHANGE = -100, 2

    def exchange():
        if renameat2 is not None:
            if renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), RENAME_EXCHANGE):
                error = ctypes.get_errno()
                raise OSError(error, os.strerror(error))
        else:
            os.rename(a, a + ".swap")
            os.rename(b, a)
            os.rename(a + ".swap", b)

    print("swapping", flush=True)
    end = time.monotonic() + seconds
    count = 0
    while count < limit and time.monotonic() < end:
        exchange()
        count += 1
    """
)

#: Bounds of every race: exchanges by the swapper, operations by the app, and
#: seconds for either.
EXCHANGES = 2_000_000
OPERATIONS = 4000
SECONDS = 20.0
#: How often each outcome (worked, refused) must be seen.
EACH = 25

PUBLIC = b"PUBLIC-INSIDE"
SECRET = b"SECRET-OUTSIDE"


class Store:
    def __init__(self, app: Flask, tmp_path: Path) -> None:
        self.app = app
        self.root = Path(app.config["STORE_PATH"])
        self.outside = tmp_path / "outside"
        self.provider = app.extensions["store"].provider
        # The real folder, wherever the swapper has put it.
        self.real_fd = os.open(self.root / "target", os.O_RDONLY | os.O_DIRECTORY)

    def real_entries(self, *parts: str) -> set[str]:
        fd = os.open(
            os.path.join(*parts) if parts else ".", os.O_RDONLY, dir_fd=self.real_fd
        )
        try:
            return set(os.listdir(fd))
        finally:
            os.close(fd)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    app = admin_app(tmp_path, "local")
    root = Path(app.config["STORE_PATH"])
    (root / "target").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "decoy").symlink_to(outside)
    state = Store(app, tmp_path)
    yield state
    os.close(state.real_fd)


@pytest.fixture
def swapping(store: Store) -> Iterator[subprocess.Popen[bytes]]:
    """The swapper, running until the test is done (or its bounds are hit)."""
    swapper = subprocess.Popen(
        [sys.executable, "-c", SWAPPER, str(store.root), str(EXCHANGES), str(SECONDS)],
        stdout=subprocess.PIPE,
    )
    assert swapper.stdout is not None
    assert swapper.stdout.readline() == b"swapping\n"
    yield swapper
    swapper.terminate()
    swapper.wait()
    swapper.stdout.close()


def race(swapper: subprocess.Popen[bytes]) -> Iterator[int]:
    """Operation numbers while the swapper runs, within the bounds."""
    end = time.monotonic() + SECONDS
    for n in range(OPERATIONS):
        if swapper.poll() is not None or time.monotonic() > end:
            return
        yield n


def test_saving_never_writes_outside(
    store: Store, swapping: subprocess.Popen[bytes]
) -> None:
    saved: list[str] = []
    refused = 0
    with store.app.app_context():
        for n in race(swapping):
            location = "target" if n % 2 else "target/deep"
            try:
                provider = store.provider(
                    io.BytesIO(PUBLIC), filename=f"f{n}.txt", location=location
                ).save()
            except FolderConflict:
                refused += 1
            else:
                saved.append(provider.relative_path)
            if len(saved) >= EACH and refused >= EACH:
                break
    assert tree(store.outside) == set()
    assert len(saved) >= EACH and refused >= EACH, (len(saved), refused)
    # Every save that worked is in the real folder, complete.
    names = {p.removeprefix("target/") for p in saved}
    top = {n for n in names if "/" not in n}
    deep = {n.removeprefix("deep/") for n in names if n.startswith("deep/")}
    assert store.real_entries() - {"deep"} == top
    assert store.real_entries("deep") == deep


def test_serving_never_sends_a_file_from_outside(
    store: Store, swapping: subprocess.Popen[bytes]
) -> None:
    fd = os.open("page.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=store.real_fd)
    with os.fdopen(fd, "wb") as page:
        page.write(PUBLIC)
    (store.outside / "page.txt").write_bytes(SECRET)
    client = store.app.test_client()
    outcomes = {200: 0, 404: 0}
    for n in race(swapping):
        url = "/uploads/target/page.txt" if n % 2 else f"{ADMIN}/file/target/page.txt"
        with client.get(url) as response:
            body = response.get_data()
            assert SECRET not in body, url
            assert response.status_code in outcomes, (url, response.status_code)
            if response.status_code == 200:
                assert body == PUBLIC
            outcomes[response.status_code] += 1
        if min(outcomes.values()) >= EACH:
            break
    assert min(outcomes.values()) >= EACH, outcomes
    assert (store.outside / "page.txt").read_bytes() == SECRET


def test_deleting_never_removes_a_file_outside(
    store: Store, swapping: subprocess.Popen[bytes]
) -> None:
    (store.outside / "victim.txt").write_bytes(SECRET)
    deleted = refused = 0
    with store.app.app_context():
        for _ in race(swapping):
            # Put the file back in the real folder, wherever it is now.
            fd = os.open(
                "victim.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=store.real_fd
            )
            os.close(fd)
            try:
                store.provider("target/victim.txt").delete()
            except StoredFileNotFound:
                refused += 1
            else:
                deleted += 1
            if deleted >= EACH and refused >= EACH:
                break
    assert (store.outside / "victim.txt").read_bytes() == SECRET
    assert deleted >= EACH and refused >= EACH, (deleted, refused)


def test_listing_never_shows_a_file_from_outside(
    store: Store, swapping: subprocess.Popen[bytes]
) -> None:
    fd = os.open("mine.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=store.real_fd)
    os.close(fd)
    (store.outside / "theirs.txt").write_bytes(SECRET)
    shown = empty = 0
    with store.app.app_context():
        for n in race(swapping):
            if n % 2:
                paths = [e.path for e in store.provider.list_folder("target").entries]
            else:
                paths = [f.path for f in store.provider.iter_files("target")]
            assert paths in ([], ["target/mine.txt"]), paths
            if paths:
                shown += 1
            else:
                empty += 1
            if shown >= EACH and empty >= EACH:
                break
    assert shown >= EACH and empty >= EACH, (shown, empty)
