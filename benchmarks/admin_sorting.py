"""Admin sorting: the first page of a very large local folder, by name and size."""

from __future__ import annotations

import os
import shutil

from .admin import LIMIT, make_app
from .core import Measure, Row, Section, Settings, Variant, compare

METHOD = """\
A local folder of 100,000 files of sizes from 0 to 9,999 bytes (sparse). *Ours*
is the backend's `list_folder(folder, limit=100, sort=...)`. The baseline by
name is `sorted(os.scandir())` of the folder by name and a `stat` of the 100
first; by size it is `os.scandir`, a `stat` of every entry and a sort by
size, then name. The goal (issue 17): within 1.0x of the baseline by name and
1.10x by size."""


def run(settings: Settings) -> Section:
    section = Section("sorting", "Admin sorting", METHOD)
    workdir = os.path.join(settings.workdir, "sorting")
    os.makedirs(workdir)
    try:
        section.rows += rows(settings, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return section


def rows(settings: Settings, workdir: str) -> list[Row]:
    count = settings.count(100_000, 1000)
    app = make_app(workdir)
    folder = os.path.join(app.config["STORE_PATH"], "big")
    os.makedirs(folder)
    for i in range(count):
        fd = os.open(os.path.join(folder, f"f{i:06}.txt"), os.O_CREAT | os.O_WRONLY)
        os.ftruncate(fd, (i * 7919) % 10_000)
        os.close(fd)
    backend = app.extensions["store"].backend

    def ours(sort: str) -> Variant:
        def list_page() -> None:
            page = backend.list_folder("big", limit=LIMIT, sort=sort)
            if len(page.entries) != min(LIMIT, count):
                raise RuntimeError(f"listed {len(page.entries)} entries")

        return Variant(f"list_folder sort={sort}", list_page)

    def by_name() -> None:
        with os.scandir(folder) as it:
            first = sorted(it, key=lambda e: e.name)[:LIMIT]
        for entry in first:
            entry.stat(follow_symlinks=False)

    def by_size() -> None:
        with os.scandir(folder) as it:
            stated = [(e.stat(follow_symlinks=False).st_size, e.name) for e in it]
        stated.sort()
        del stated[LIMIT:]

    variants = [
        ours("name"),
        Variant("scandir by name", by_name),
        ours("size"),
        Variant("scandir+stat by size", by_size),
    ]
    compare(variants, 1)  # warm the directory cache
    samples = compare(variants, settings.count(max(settings.repeats, 7), 1))
    m = {
        label: Measure(label, [s * 1000 for s in v], "ms")
        for label, v in samples.items()
    }
    title = f"first page of a local folder of {count:,} files"
    return [
        Row(
            f"{title}, by name", m["list_folder sort=name"], m["scandir by name"]
        ).within(1.0),
        Row(
            f"{title}, by size", m["list_folder sort=size"], m["scandir+stat by size"]
        ).within(1.1),
    ]
