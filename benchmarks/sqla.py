"""FlaskStoreType: loading and inserting rows against a plain ``Unicode`` column."""

from __future__ import annotations

import io
import os
import shutil
import statistics
import time
from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Integer, Unicode, delete, insert, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from flask_store import Store
from flask_store.sqla import FlaskStoreType

from .core import Measure, Row, Section, Settings, Variant, compare

METHOD = """\
Flask-SQLAlchemy on a SQLite file in the benchmark folder, two models that
differ only in their file column: `FlaskStoreType(256)` (ours) and
`Unicode(256)` (the baseline). Loading runs `select(Model)` and materialises
every row in a fresh session (ours builds a provider per row, without storage
I/O); a third model, whose column reads as a bare Python object with the
handle's three attributes, shows what any object per row costs (mostly the
garbage collector's work, which grows with every tracked object). Inserting adds rows whose column is assigned a 1 KiB `FileStorage` and
commits once: ours saves each upload on flush through the local provider;
the baseline calls `FileStorage.save` and stores the name in the `Unicode`
column. Compared with `STORE_FSYNC=True`, the baseline saves as durably and
atomically as ours, by hand: `FileStorage.save` to a temporary name, fsync
of the file, a hard link to the final name (which, unlike a rename, never
replaces a file), the temporary name removed, fsync of the folder. Loading and inserting without fsync count this process's CPU time
(`time.process_time`, the kernel's work on its files included), which other
jobs on a shared machine barely disturb; inserting with fsync counts wall
time, since waiting for the disk is its cost."""


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class StoredDoc(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "stored_doc"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file: Mapped[Any] = mapped_column(FlaskStoreType(256, location="docs"))


class _Handle:
    """A bare object with a provider handle's three attributes."""


class ObjectType(TypeDecorator[Any]):
    """A ``Unicode`` column read as a bare object per row: the floor for any handle."""

    impl = Unicode
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        handle = _Handle()
        handle.app, handle.fp, handle.path = None, None, value  # type: ignore[attr-defined]
        return handle


class ObjectDoc(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "object_doc"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file: Mapped[Any] = mapped_column(ObjectType(256))


class PlainDoc(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "plain_doc"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file: Mapped[str] = mapped_column(Unicode(256))


#: The models every load compares, each with 20,000 rows of the same paths.
MODELS = (StoredDoc, ObjectDoc, PlainDoc)


def make_app(workdir: str, fsync: bool) -> Flask:
    app = Flask("bench", instance_path=os.path.join(workdir, f"instance-{fsync}"))
    app.config.update(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{os.path.join(workdir, f'db-{fsync}.sqlite')}",
        STORE_PATH=os.path.join(workdir, f"store-{fsync}"),
        STORE_FSYNC=fsync,
    )
    Store(app)
    db.init_app(app)
    with app.app_context():
        db.create_all()
    return app


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load_rows(settings: Settings, app: Flask) -> Row:
    count = settings.count(20_000, 200)
    with app.app_context():
        paths = [{"file": f"docs/file{i:05}.txt"} for i in range(count)]
        for model in MODELS:
            db.session.execute(insert(model), paths)
        db.session.commit()

        def loader(model: type) -> Variant:
            def load() -> None:
                rows: list[Any] = list(db.session.scalars(select(model)))
                if len(rows) != count:
                    raise RuntimeError(f"loaded {len(rows)} rows, not {count}")

            return Variant(model.__name__, load, setup=db.session.remove)

        variants = [loader(model) for model in MODELS]
        repeats = settings.count(max(settings.repeats, 7), 1)
        samples = compare(variants, repeats, clock=time.process_time)
        for model in MODELS:
            db.session.execute(delete(model))
        db.session.commit()
    floor = statistics.median(samples["ObjectDoc"]) / statistics.median(
        samples["PlainDoc"]
    )
    return Row(
        f"load {count:,} rows",
        Measure("FlaskStoreType", samples["StoredDoc"], "s"),
        Measure("Unicode", samples["PlainDoc"], "s"),
        note=f"a bare object per row: {floor:.2f}x",
    ).within(1.2)


def insert_rows(settings: Settings, app: Flask, fsync: bool) -> Row:
    count = settings.count(1000, 20)
    data = os.urandom(1024)
    store = app.config["STORE_PATH"]
    plain = os.path.join(os.path.dirname(store), f"plain-{fsync}")

    def uploads() -> list[FileStorage]:
        return [
            FileStorage(io.BytesIO(data), filename=f"upload {i}.txt")
            for i in range(count)
        ]

    def ours() -> None:
        db.session.add_all(StoredDoc(file=upload) for upload in uploads())
        db.session.commit()

    def baseline() -> None:
        os.makedirs(plain, exist_ok=True)
        for upload in uploads():
            name = secure_filename(upload.filename or "")
            path = os.path.join(plain, name)
            if fsync:
                temp = f"{path}.part"
                upload.save(temp)
                _fsync(temp)
                os.link(temp, path)
                os.unlink(temp)
                _fsync(plain)
            else:
                upload.save(path)
            db.session.add(PlainDoc(file=name))
        db.session.commit()

    def cleanup() -> None:
        db.session.execute(delete(StoredDoc))
        db.session.execute(delete(PlainDoc))
        db.session.commit()
        db.session.remove()
        shutil.rmtree(store, ignore_errors=True)
        shutil.rmtree(plain, ignore_errors=True)

    with app.app_context():
        variants = [
            Variant("ours", ours, teardown=cleanup),
            Variant("plain", baseline, teardown=cleanup),
        ]
        clock = time.perf_counter if fsync else time.process_time
        samples = compare(variants, settings.times(), clock=clock)
    label = "atomic FileStorage.save + fsync" if fsync else "FileStorage.save"
    return Row(
        f"insert {count:,} rows with 1 KiB uploads, {'fsync' if fsync else 'no fsync'}",
        Measure("FlaskStoreType", samples["ours"], "s"),
        Measure(f"Unicode + {label}", samples["plain"], "s"),
    ).within(1.3)


def run(settings: Settings) -> Section:
    section = Section("sqla", "FlaskStoreType", METHOD)
    workdir = os.path.join(settings.workdir, "sqla")
    os.makedirs(workdir)
    try:
        apps = {fsync: make_app(workdir, fsync) for fsync in (False, True)}
        section.rows.append(load_rows(settings, apps[False]))
        section.rows.append(insert_rows(settings, apps[False], False))
        section.rows.append(insert_rows(settings, apps[True], True))
        for app in apps.values():
            with app.app_context():
                db.engine.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return section
