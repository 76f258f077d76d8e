"""Loading and inserting rows with FlaskStoreType columns: cheap (loading
with no storage I/O)."""

from __future__ import annotations

import gc
import io
from typing import Any

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Unicode, create_engine, insert, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from werkzeug.datastructures import FileStorage

from flask_store import Store, names
from flask_store.providers import Provider
from flask_store.providers.memory import MemoryProvider
from flask_store.spelling import split_stored_path
from flask_store.sqla import FlaskStoreType, init_session

from .conftest import make_app

ROWS = 20_000


class Base(DeclarativeBase):
    pass


class PlainRow(Base):
    __tablename__ = "sqla_plain_row"
    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(Unicode(256))


class FileRow(Base):
    __tablename__ = "sqla_file_row"
    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[Provider] = mapped_column(FlaskStoreType())


@pytest.fixture
def memory_app(tmp_path: Any) -> Any:
    app = make_app(
        tmp_path, STORE_PROVIDER="flask_store.providers.memory.MemoryProvider"
    )
    Store(app)
    with app.app_context():
        yield app


@pytest.fixture
def rows() -> Any:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    values = [{"path": f"documents/2026/report_{i}.pdf"} for i in range(ROWS)]
    with engine.begin() as connection:
        connection.execute(insert(PlainRow), values)
        connection.execute(insert(FileRow.__table__), values)
    yield engine
    engine.dispose()


def test_loading_rows_does_no_storage_io(
    memory_app: Flask, rows: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_io(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("storage I/O while loading rows")

    for primitive in ("_write", "_exists", "_open", "_delete", "_stat"):
        monkeypatch.setattr(MemoryProvider, primitive, no_io)
    monkeypatch.setattr(MemoryProvider, "iter_files", no_io)
    with Session(rows) as session:
        loaded = session.scalars(select(FileRow).order_by(FileRow.id)).all()
    assert isinstance(loaded[7].path, MemoryProvider)
    assert loaded[7].path.relative_path == "documents/2026/report_7.pdf"
    assert loaded[7].path.relative_url == "/uploads/documents/2026/report_7.pdf"


def test_loading_rows_skips_the_checking_constructor(
    memory_app: Flask, rows: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What keeps loading near a plain column's cost (measured in benchmarks/,
    # not timed here): stored plain paths are not cleaned or checked again.
    calls = {"init": 0, "split": 0, "clean": 0}
    real_init, real_split, real_clean = (
        MemoryProvider.__init__,
        split_stored_path,
        names.clean_location,
    )

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        calls["init"] += 1
        real_init(self, *args, **kwargs)

    def split(path: str) -> Any:
        calls["split"] += 1
        return real_split(path)

    def clean(location: Any) -> str:
        calls["clean"] += 1
        return real_clean(location)

    monkeypatch.setattr(Provider, "__init__", init)
    monkeypatch.setattr("flask_store.spelling.split_stored_path", split)
    monkeypatch.setattr(names, "clean_location", clean)
    with Session(rows) as session:
        loaded = session.scalars(select(FileRow)).all()
    assert len(loaded) == ROWS
    assert calls == {"init": 0, "split": 0, "clean": 0}
    assert loaded[0].path.relative_path.startswith("documents/2026/report_")


def test_inserting_uploads_leaves_nothing_for_the_garbage_collector(
    memory_app: Flask, rows: Any
) -> None:
    # Objects in reference cycles wait for the cyclic garbage collector,
    # whose passes grow with them: a flush must free what it made per row.
    factory = sessionmaker(rows)
    init_session(factory, memory_app)
    uploads = [FileStorage(io.BytesIO(b"x"), filename=f"{i}.txt") for i in range(200)]
    gc.collect()
    gc.disable()
    try:
        with factory() as session:
            session.add_all(FileRow(path=upload) for upload in uploads)
            session.commit()
        cyclic = gc.collect()
    finally:
        gc.enable()
    assert cyclic < len(uploads)  # it was 11 objects a row
    with Session(rows) as session:
        saved = session.scalars(select(FileRow).where(FileRow.id > ROWS)).all()
    assert sorted(row.path.read() for row in saved) == [b"x"] * len(uploads)


# -- the fast construction is the constructor's twin ------------------------------

PATH_PARTS = st.sampled_from(
    [
        "a",
        "b.txt",
        "é",
        "e\u0301",
        ".",
        "..",
        ".hidden",
        "",
        " ",
        "\\",
        ":",
        "C:",
        "\x00",
    ]
)


@given(st.lists(PATH_PARTS, min_size=1, max_size=5).map("/".join))
def test_from_stored_path_matches_the_constructor(path: str) -> None:
    app = Flask("fast")
    app.config["STORE_PROVIDER"] = "flask_store.providers.memory.MemoryProvider"
    Store(app)
    fast = MemoryProvider.from_stored_path(path, app=app)  # checked on first use
    try:
        slow = MemoryProvider(path, app=app)
    except ValueError:
        with pytest.raises(ValueError):
            fast.filename  # noqa: B018
        with pytest.raises(ValueError):
            fast.relative_path  # noqa: B018
        return
    assert (fast.location, fast.filename, fast.fp) == (
        slow.location,
        slow.filename,
        None,
    )
    assert fast == slow
    if names.is_plain_path(path):
        assert split_stored_path(path) == (slow.location, slow.filename)


def test_a_provider_with_its_own_constructor_is_constructed(memory_app: Flask) -> None:
    class Custom(MemoryProvider):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.extra = "set"

    assert Custom.from_stored_path("a/b.txt", app=memory_app).extra == "set"
