"""What the admin and the CLI ask of flask_store.sqla: columns, sessions, usage, orphans."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import String, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from flask_store import Store, sqla
from flask_store.providers import Provider
from flask_store.providers.base import store_state
from flask_store.sqla import (
    FileColumn,
    FlaskStoreType,
    delete_orphans,
    file_columns,
    find_orphans,
    get_session,
    init_session,
    references,
    rows_using,
)

from .conftest import make_app, upload
from .test_sqla import (
    FLAVOURS,
    Attachment,
    Document,
    FsaAttachment,
    FsaDocument,
    Orm,
    attach,
    db,
)


class OtherBase(DeclarativeBase):
    pass


class Asset(OtherBase):
    __tablename__ = "sqla_asset"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    image: Mapped[Provider | None] = mapped_column(FlaskStoreType(location="assets"))
    thumb: Mapped[Provider | None] = mapped_column(FlaskStoreType(location="thumbs"))
    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "asset"}


class Photo(Asset):
    __mapper_args__ = {"polymorphic_identity": "photo"}


@pytest.fixture(params=FLAVOURS)
def orm(request: pytest.FixtureRequest, storage: Flask, tmp_path: Any) -> Iterator[Orm]:
    yield from attach(storage, request.param, tmp_path)


@pytest.fixture(params=FLAVOURS)
def memory_orm(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Orm]:
    app = make_app(
        tmp_path, STORE_PROVIDER="flask_store.providers.memory.MemoryProvider"
    )
    Store(app)
    with app.app_context():
        yield from attach(app, request.param, tmp_path)


def save(orm: Orm, data: bytes, name: str, location: str | None = None) -> str:
    """Store a file directly, as a stray no row knows about."""
    provider = store_state(orm.app).provider(upload(data, name), location, app=orm.app)
    return provider.save().relative_path


# -- file_columns -------------------------------------------------------------


def test_file_columns_spans_every_registry_sorted() -> None:
    ours = {FsaDocument, FsaAttachment, Document, Attachment, Asset, Photo}
    columns = [c for c in file_columns() if c.model in ours]
    assert columns == [
        FileColumn(Asset, "image", "assets"),
        FileColumn(Asset, "thumb", "thumbs"),
        FileColumn(Attachment, "file", None),
        FileColumn(Document, "file", "documents"),
        FileColumn(FsaAttachment, "file", None),
        FileColumn(FsaDocument, "file", "documents"),
    ]
    everything = file_columns()
    assert everything == sorted(
        everything, key=lambda c: (c.model.__name__, c.attribute)
    )
    assert columns[3].name == "Document.file"
    assert columns[3].type.max_length == 128


def test_file_columns_of_an_app_are_those_in_its_database(memory_orm: Orm) -> None:
    expected = {
        "flask-sqlalchemy": [
            FileColumn(FsaAttachment, "file", None),
            FileColumn(FsaDocument, "file", "documents"),
        ],
        "sqlalchemy": [
            FileColumn(Attachment, "file", None),
            FileColumn(Document, "file", "documents"),
        ],
    }
    assert file_columns(app=memory_orm.app) == expected[memory_orm.flavour]


def test_a_subclass_saves_uploads_into_inherited_columns(tmp_path: Any) -> None:
    from flask_store.providers.memory import stored_files

    app = make_app(
        tmp_path, STORE_PROVIDER="flask_store.providers.memory.MemoryProvider"
    )
    Store(app)
    engine = create_engine("sqlite://")
    OtherBase.metadata.create_all(engine)
    factory = sessionmaker(engine)
    init_session(factory, app)
    with app.app_context(), factory() as session:
        session.add(Photo(image=upload(b"img", "p.png"), thumb=upload(b"t", "p.png")))
        session.commit()
        photo = session.query(Asset).one()
        assert isinstance(photo, Photo)
        assert photo.image.relative_path == "assets/p.png"
        assert stored_files(app) == {"assets/p.png": b"img", "thumbs/p.png": b"t"}
        found = rows_using(session, ["assets/p.png"])["assets/p.png"]
        assert found == [(FileColumn(Asset, "image", "assets"), photo)]
    engine.dispose()


# -- get_session ------------------------------------------------------------------


def test_get_session_with_flask_sqlalchemy_is_db_session(tmp_path: Any) -> None:
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI="sqlite://")
    Store(app)
    db.init_app(app)
    with app.app_context():
        assert get_session(app) is db.session()
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def test_get_session_gives_the_registered_session(tmp_path: Any) -> None:
    app = make_app(tmp_path)
    Store(app)
    engine = create_engine("sqlite://")
    factory = sessionmaker(engine)
    init_session(factory, app)
    with app.app_context():
        first = get_session(app)
        assert isinstance(first, Session)
        assert get_session(app) is first  # one per app context
        assert first.bind is engine
    with app.app_context():
        assert get_session(app) is not first
    engine.dispose()


def test_get_session_without_a_database_is_none(tmp_path: Any) -> None:
    app = make_app(tmp_path)
    Store(app)
    with app.app_context():
        assert get_session(app) is None
        assert file_columns(app=app) == []


# -- rows_using -------------------------------------------------------------------


def count_selects(engine: Any) -> list[str]:
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and " IN " in statement:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    return statements


def test_rows_using_maps_paths_to_rows_in_batches(
    memory_orm: Orm, monkeypatch: pytest.MonkeyPatch
) -> None:
    orm = memory_orm
    first = orm.Document(file=upload(b"1", "one.txt"))
    second = orm.Document(file="documents/one.txt")
    other = orm.Attachment(file=upload(b"2", "two.txt"))
    orm.session.add_all([first, second, other])
    orm.session.commit()
    doc_column = FileColumn(orm.Document, "file", "documents")
    attachment_column = FileColumn(orm.Attachment, "file", None)

    monkeypatch.setattr(references, "BATCH_SIZE", 2)
    statements = count_selects(orm.engine)
    paths = ["documents/one.txt", "two.txt", "nobody.txt", "x/1.txt", "x/2.txt"]
    found = rows_using(orm.session, paths)

    assert set(found) == set(paths)
    assert sorted(found["documents/one.txt"], key=lambda r: r[1].id) == [
        (doc_column, first),
        (doc_column, second),
    ]
    assert found["two.txt"] == [(attachment_column, other)]
    assert found["nobody.txt"] == found["x/1.txt"] == []
    assert len(statements) == 2 * 3  # two columns, three batches of two paths
    assert rows_using(orm.session, []) == {}


# -- orphans -----------------------------------------------------------------------


def test_find_and_delete_orphans(orm: Orm, monkeypatch: pytest.MonkeyPatch) -> None:
    # several batches on every provider
    monkeypatch.setattr(references, "BATCH_SIZE", 2)
    used = orm.Document(file=upload(b"u", "used.txt"))
    shared = orm.Attachment(file=upload(b"s", "shared.txt"))
    orm.session.add_all([used, shared, orm.Document(file="shared.txt")])
    orm.session.commit()
    strays = {save(orm, b"a", "stray.txt"), save(orm, b"b", "deep.txt", "a/b/c")}
    strays.add(save(orm, b"c", "used.txt", "documents"))  # same name, other file
    assert len(strays) == 3

    assert {f.path for f in find_orphans(orm.app)} == strays
    assert list(find_orphans(orm.app, older_than=timedelta(hours=1))) == []

    deleted = delete_orphans(orm.app)
    assert {f.path for f in deleted} == strays
    assert orm.stored() == {"documents/used.txt", "shared.txt"}
    assert used.file.read() == b"u"
    assert delete_orphans(orm.app) == []


def test_delete_unused_checks_references_right_before_deleting(orm: Orm) -> None:
    stray = save(orm, b"a", "stray.txt")
    adopted = save(orm, b"b", "adopted.txt")
    # The list was read while adopted.txt was an orphan; a row took it since.
    orm.session.add(orm.Document(file=adopted))
    orm.session.commit()
    outcomes = dict(sqla.delete_unused(orm.app, [stray, adopted, "gone.txt"]))
    assert outcomes == {stray: "deleted", adopted: "used", "gone.txt": "missing"}
    assert orm.stored() == {adopted}


def test_orphans_spare_recent_files(tmp_path: Any) -> None:
    app = make_app(tmp_path)
    Store(app)
    with app.app_context():
        for orm in attach(app, "sqlalchemy", tmp_path):
            old = save(orm, b"old", "old.txt")
            save(orm, b"new", "new.txt")
            a_day_ago = time.time() - 86400
            os.utime(orm.provider(old).absolute_path, (a_day_ago, a_day_ago))
            found = find_orphans(app, older_than=timedelta(hours=1))
            assert [f.path for f in found] == ["old.txt"]
            assert [
                f.path for f in delete_orphans(app, older_than=timedelta(hours=1))
            ] == ["old.txt"]
            assert orm.stored() == {"new.txt"}


def test_orphans_need_a_session(tmp_path: Any) -> None:
    app = make_app(tmp_path)
    Store(app)
    with app.app_context(), pytest.raises(RuntimeError, match="no SQLAlchemy session"):
        list(find_orphans(app))


def test_orphans_refuse_when_no_column_is_in_the_database(tmp_path: Any) -> None:
    app = make_app(tmp_path)
    Store(app)
    engine = create_engine("sqlite://")  # no tables created
    init_session(sessionmaker(engine), app)
    with app.app_context():
        save_path = store_state(app).provider(upload(), app=app).save().relative_path
        with pytest.raises(RuntimeError, match="refusing"):
            delete_orphans(app)
        assert store_state(app).provider(save_path, app=app).exists()
    engine.dispose()


def test_orphans_on_s3_span_listing_pages(tmp_path: Any) -> None:
    from flask_store.providers.s3 import s3_client

    from .s3_support import mocked_bucket

    with mocked_bucket() as config:
        app = make_app(tmp_path, **config)
        Store(app)
        with app.app_context():
            s3 = s3_client(app)
            for i in range(1005):
                s3.put_object(
                    Bucket=config["STORE_S3_BUCKET"], Key=f"bulk/{i:04}.txt", Body=b""
                )
            for orm in attach(app, "sqlalchemy", tmp_path):
                orm.session.add(orm.Attachment(file="bulk/1004.txt"))
                orm.session.commit()
                found = [f.path for f in find_orphans(app)]
                assert len(found) == 1004
                assert "bulk/1004.txt" not in found
                assert found[-1] == "bulk/1003.txt"
