"""FlaskStoreType: files tied to rows, with Flask-SQLAlchemy and plain SQLAlchemy.

Most tests run once per ORM flavour and per provider (local, in-memory, S3
under moto), through the ``orm`` fixture.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import (
    Engine,
    String,
    Unicode,
    create_engine,
    event,
    select,
    type_coerce,
)
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    scoped_session,
    sessionmaker,
)

from flask_store import Store
from flask_store.providers import Provider
from flask_store.providers.base import store_state
from flask_store.sqla import FlaskStoreType, init_session

from .conftest import make_app, upload

# -- models: one pair per flavour, defined once for the whole module ----------

db = SQLAlchemy()


class FsaDocument(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "sqla_fsa_document"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(40), unique=True)
    file = db.Column(FlaskStoreType(128, location="documents"))


class FsaAttachment(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "sqla_fsa_attachment"
    id = db.Column(db.Integer, primary_key=True)
    file = db.Column(FlaskStoreType())


class Base(DeclarativeBase):
    pass


class Document(Base):
    __tablename__ = "sqla_document"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(40), unique=True)
    file: Mapped[Provider | None] = mapped_column(
        FlaskStoreType(128, location="documents")
    )


class Attachment(Base):
    __tablename__ = "sqla_attachment"
    id: Mapped[int] = mapped_column(primary_key=True)
    file: Mapped[Provider | None] = mapped_column(FlaskStoreType())


FLAVOURS = ["flask-sqlalchemy", "sqlalchemy"]


@dataclass
class Orm:
    """One app with a database and a store, whichever ORM flavour it uses."""

    app: Flask
    flavour: str
    session: Any  # db.session, or a Session from the registered sessionmaker
    Document: Any
    Attachment: Any
    factory: sessionmaker[Session] | None = None

    @property
    def engine(self) -> Engine:
        if self.factory is not None:
            engine: Engine = self.factory.kw["bind"]
            return engine
        return db.engine

    def other_session(self) -> Session:
        """A separate session, to see what was committed."""
        if self.factory is not None:
            return self.factory()
        return Session(db.engine)

    def raw(self, model: Any, row_id: int) -> str | None:
        """The string the database holds for ``model.file`` of a row."""
        column = type_coerce(model.file, Unicode())
        with self.other_session() as session:
            value: str | None = session.execute(
                select(column).where(model.id == row_id)
            ).scalar_one()
            return value

    def stored(self) -> set[str]:
        """Every path in the store."""
        return {f.path for f in store_state(self.app).provider.iter_files(app=self.app)}

    def exists(self, path: str) -> bool:
        return store_state(self.app).provider(path, app=self.app).exists()

    def provider(self, path: str) -> Provider:
        return store_state(self.app).provider(path, app=self.app)


def attach(app: Flask, flavour: str, tmp_path: Any, **options: Any) -> Iterator[Orm]:
    """Give ``app`` (already inside its app context) a database of ``flavour``."""
    if flavour == "flask-sqlalchemy":
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path}/fsa.db"
        db.init_app(app)
        db.create_all()
        try:
            yield Orm(app, flavour, db.session, FsaDocument, FsaAttachment)
        finally:
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
        return
    engine = create_engine(f"sqlite:///{tmp_path}/plain.db")
    Base.metadata.create_all(engine)
    factory = sessionmaker(engine, **options)
    init_session(factory, app)
    session = factory()
    try:
        yield Orm(app, flavour, session, Document, Attachment, factory)
    finally:
        session.close()
        engine.dispose()


@pytest.fixture(params=FLAVOURS)
def orm(request: pytest.FixtureRequest, storage: Flask, tmp_path: Any) -> Iterator[Orm]:
    """Every ORM flavour on every provider."""
    yield from attach(storage, request.param, tmp_path)


@pytest.fixture(params=FLAVOURS)
def memory_orm(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Orm]:
    """Every ORM flavour on the in-memory provider."""
    app = make_app(
        tmp_path, STORE_PROVIDER="flask_store.providers.memory.MemoryProvider"
    )
    Store(app)
    with app.app_context():
        yield from attach(app, request.param, tmp_path)


# -- assigning and reading ------------------------------------------------------


def test_upload_is_saved_on_flush_and_read_back_as_a_provider(orm: Orm) -> None:
    doc = orm.Document(file=upload(b"quarterly", "report.pdf"))
    assert orm.stored() == set()  # nothing saved by the assignment alone
    orm.session.add(doc)
    orm.session.commit()

    provider_class = store_state(orm.app).provider
    assert isinstance(doc.file, provider_class)
    assert doc.file.relative_path == "documents/report.pdf"
    assert doc.file.read() == b"quarterly"
    assert doc.file.absolute_url.endswith("/documents/report.pdf")
    assert orm.raw(orm.Document, doc.id) == "documents/report.pdf"
    with orm.other_session() as other:
        loaded = other.get(orm.Document, doc.id)
        assert isinstance(loaded.file, provider_class)
        assert loaded.file.relative_path == "documents/report.pdf"


def test_same_name_twice_gives_two_files(orm: Orm) -> None:
    first = orm.Document(file=upload(b"one", "a.txt"))
    second = orm.Document(file=upload(b"two", "a.txt"))
    orm.session.add_all([first, second])
    orm.session.commit()
    assert first.file.relative_path != second.file.relative_path
    assert first.file.read() == b"one"
    assert second.file.read() == b"two"


def test_a_path_or_a_provider_stores_that_path(orm: Orm) -> None:
    saved = orm.provider("elsewhere/kept.txt")
    by_path = orm.Document(file="elsewhere/kept.txt")
    by_provider = orm.Attachment(file=saved)
    orm.session.add_all([by_path, by_provider])
    orm.session.commit()
    assert orm.raw(orm.Document, by_path.id) == "elsewhere/kept.txt"
    assert orm.raw(orm.Attachment, by_provider.id) == "elsewhere/kept.txt"
    assert by_path.file == saved
    assert orm.stored() == set()  # neither saved nor touched anything


def test_an_unsaved_provider_is_saved_where_it_says(orm: Orm) -> None:
    provider_class = store_state(orm.app).provider
    doc = orm.Document(file=provider_class(upload(b"x", "a.txt"), "mine"))
    orm.session.add(doc)
    orm.session.commit()
    assert orm.raw(orm.Document, doc.id) == "mine/a.txt"
    assert orm.stored() == {"mine/a.txt"}


def test_none_and_an_empty_upload_store_null(orm: Orm) -> None:
    nothing = orm.Document(file=None)
    empty = orm.Document(file=upload(b"", ""))
    assert empty.file is None
    orm.session.add_all([nothing, empty])
    orm.session.commit()
    assert orm.raw(orm.Document, nothing.id) is None
    assert orm.raw(orm.Document, empty.id) is None
    assert nothing.file is None and empty.file is None
    assert orm.stored() == set()


def test_filter_by_path_and_by_provider(orm: Orm) -> None:
    doc = orm.Document(file=upload(b"x", "find-me.txt"))
    orm.session.add_all([doc, orm.Document(file=upload(b"y", "other.txt"))])
    orm.session.commit()
    query = select(orm.Document).where(orm.Document.file == "documents/find-me.txt")
    assert orm.session.scalars(query).all() == [doc]
    query = select(orm.Document).where(orm.Document.file == doc.file)
    assert orm.session.scalars(query).all() == [doc]
    query = select(orm.Document).where(orm.Document.file.like("%other%"))
    assert [d.file.filename for d in orm.session.scalars(query)] == ["other.txt"]


def test_an_upload_in_a_query_is_refused_and_never_saved(orm: Orm) -> None:
    with pytest.raises(TypeError, match="never by a query"):
        select(orm.Document).where(orm.Document.file == upload(b"x", "q.txt"))
    with pytest.raises(TypeError, match="never by a query"):
        orm.session.execute(
            select(orm.Document).filter_by(file=upload(b"x", "q.txt"))
        ).all()
    assert orm.stored() == set()


def test_bad_values_are_refused_at_assignment(orm: Orm) -> None:
    doc = orm.Document(file="documents/good.txt")
    orm.session.add(doc)
    orm.session.commit()
    with pytest.raises(TypeError, match="not int"):
        doc.file = 42
    with pytest.raises(TypeError, match="not BytesIO"):
        doc.file = upload(b"x").stream
    with pytest.raises(ValueError, match=r"'\.\.'"):
        doc.file = "../etc/passwd"
    with pytest.raises(ValueError, match="128 characters"):
        doc.file = "documents/" + "a" * 200 + ".txt"
    orm.session.commit()
    assert orm.raw(orm.Document, doc.id) == "documents/good.txt"


def test_an_upload_too_long_for_the_column_leaves_no_file(orm: Orm) -> None:
    doc = orm.Document(file=upload(b"x", "n" * 200 + ".txt"))
    orm.session.add(doc)
    with pytest.raises(ValueError, match="128 characters"):
        orm.session.flush()
    orm.session.rollback()
    assert orm.stored() == set()


def test_bulk_insert_of_an_upload_is_refused(orm: Orm) -> None:
    from sqlalchemy import insert

    with pytest.raises(StatementError, match="never by a query"):
        orm.session.execute(insert(orm.Document), [{"file": upload(b"x", "b.txt")}])
    orm.session.rollback()
    assert orm.stored() == set()


# -- transactions ---------------------------------------------------------------


def test_rollback_deletes_the_saved_file(orm: Orm) -> None:
    doc = orm.Document(file=upload(b"x", "draft.txt"))
    orm.session.add(doc)
    orm.session.flush()
    assert orm.stored() == {"documents/draft.txt"}
    assert isinstance(doc.file, Provider)  # a provider as soon as it is flushed
    orm.session.rollback()
    assert orm.stored() == set()
    with orm.other_session() as other:
        assert other.scalars(select(orm.Document)).all() == []


def test_closing_without_commit_deletes_the_saved_file(orm: Orm) -> None:
    orm.session.add(orm.Document(file=upload(b"x", "draft.txt")))
    orm.session.flush()
    assert orm.stored() == {"documents/draft.txt"}
    orm.session.close()
    assert orm.stored() == set()


def test_a_failed_flush_deletes_the_saved_file(orm: Orm) -> None:
    orm.session.add(orm.Document(name="taken"))
    orm.session.commit()
    orm.session.add(orm.Document(name="taken", file=upload(b"x", "dup.txt")))
    with pytest.raises(IntegrityError):
        orm.session.commit()
    assert orm.stored() == set()
    orm.session.rollback()
    assert orm.stored() == set()


def test_commit_keeps_the_file(orm: Orm) -> None:
    orm.session.add(orm.Document(file=upload(b"x", "kept.txt")))
    orm.session.commit()
    orm.session.rollback()  # nothing to roll back any more
    orm.session.close()
    assert orm.stored() == {"documents/kept.txt"}


def test_savepoint_rollback_deletes_only_its_files(memory_orm: Orm) -> None:
    orm = memory_orm
    orm.session.add(orm.Document(file=upload(b"x", "outer.txt")))
    orm.session.flush()
    savepoint = orm.session.begin_nested()
    orm.session.add(orm.Document(file=upload(b"y", "inner.txt")))
    orm.session.flush()
    assert orm.stored() == {"documents/outer.txt", "documents/inner.txt"}
    savepoint.rollback()
    assert orm.stored() == {"documents/outer.txt"}
    orm.session.commit()
    assert orm.stored() == {"documents/outer.txt"}


def test_outer_rollback_deletes_files_of_a_released_savepoint(memory_orm: Orm) -> None:
    orm = memory_orm
    orm.session.add(orm.Document(file=upload(b"x", "outer.txt")))
    with orm.session.begin_nested():
        orm.session.add(orm.Document(file=upload(b"y", "inner.txt")))
    assert orm.stored() == {"documents/outer.txt", "documents/inner.txt"}
    orm.session.rollback()
    assert orm.stored() == set()


def test_released_savepoint_then_commit_keeps_everything(memory_orm: Orm) -> None:
    orm = memory_orm
    memory_orm.app.config["STORE_DELETE_ORPHANS"] = True
    orm.session.add(orm.Document(file=upload(b"x", "outer.txt")))
    with orm.session.begin_nested():
        orm.session.add(orm.Document(file=upload(b"y", "inner.txt")))
    orm.session.commit()
    assert orm.stored() == {"documents/outer.txt", "documents/inner.txt"}


def test_expire_on_commit_off_still_reads_a_provider(
    storage: Flask, tmp_path: Any
) -> None:
    for orm in attach(storage, "sqlalchemy", tmp_path, expire_on_commit=False):
        doc = orm.Document(file=upload(b"x", "a.txt"))
        path = orm.Attachment(file="elsewhere/b.txt")
        orm.session.add_all([doc, path])
        orm.session.commit()
        assert isinstance(doc.file, store_state(storage).provider)
        assert doc.file.relative_path == "documents/a.txt"
        assert isinstance(path.file, store_state(storage).provider)
        assert path.file.relative_path == "elsewhere/b.txt"


# -- STORE_DELETE_ORPHANS ---------------------------------------------------------


@pytest.fixture
def orphans(orm: Orm) -> Orm:
    orm.app.config["STORE_DELETE_ORPHANS"] = True
    return orm


def test_a_replaced_file_is_deleted_after_commit_not_before(orphans: Orm) -> None:
    orm = orphans
    doc = orm.Document(file=upload(b"old", "v1.txt"))
    orm.session.add(doc)
    orm.session.commit()
    doc.file = upload(b"new", "v2.txt")
    orm.session.flush()
    assert orm.stored() == {"documents/v1.txt", "documents/v2.txt"}
    orm.session.commit()
    assert orm.stored() == {"documents/v2.txt"}
    assert doc.file.read() == b"new"


def test_a_deleted_rows_file_is_deleted_after_commit_not_before(orphans: Orm) -> None:
    orm = orphans
    doc = orm.Document(file=upload(b"x", "gone.txt"))
    orm.session.add(doc)
    orm.session.commit()
    orm.session.delete(doc)
    orm.session.flush()
    assert orm.stored() == {"documents/gone.txt"}
    orm.session.commit()
    assert orm.stored() == set()


def test_a_rolled_back_replacement_keeps_the_old_file(orphans: Orm) -> None:
    orm = orphans
    doc = orm.Document(file=upload(b"old", "v1.txt"))
    orm.session.add(doc)
    orm.session.commit()
    doc.file = upload(b"new", "v2.txt")
    orm.session.flush()
    orm.session.rollback()
    assert orm.stored() == {"documents/v1.txt"}
    orm.session.delete(orm.session.get(orm.Document, doc.id))
    orm.session.flush()
    orm.session.rollback()
    orm.session.commit()
    assert orm.stored() == {"documents/v1.txt"}


def test_a_file_another_row_uses_is_kept(orphans: Orm) -> None:
    orm = orphans
    doc = orm.Document(file=upload(b"x", "shared.txt"))
    twin = orm.Document(file="documents/shared.txt")
    orm.session.add_all([doc, twin])
    orm.session.commit()
    orm.session.add(orm.Attachment(file="documents/shared.txt"))
    orm.session.delete(doc)
    orm.session.delete(twin)
    orm.session.commit()  # the attachment, another model, still uses it
    assert orm.stored() == {"documents/shared.txt"}


def test_a_file_moved_to_another_row_is_kept(orphans: Orm) -> None:
    orm = orphans
    doc = orm.Document(file=upload(b"x", "moving.txt"))
    orm.session.add(doc)
    orm.session.commit()
    other = orm.Attachment(file=doc.file)
    doc.file = None
    orm.session.add(other)
    orm.session.commit()
    assert orm.stored() == {"documents/moving.txt"}


def test_an_expired_value_replaced_unread_is_still_deleted(orphans: Orm) -> None:
    orm = orphans
    doc = orm.Document(file=upload(b"old", "v1.txt"))
    orm.session.add(doc)
    orm.session.commit()
    orm.session.expire(doc)
    doc.file = "documents/elsewhere.txt"  # never read the old value
    orm.session.commit()
    assert orm.stored() == set()


def test_without_the_setting_replaced_files_stay(orm: Orm) -> None:
    doc = orm.Document(file=upload(b"old", "v1.txt"))
    orm.session.add(doc)
    orm.session.commit()
    doc.file = upload(b"new", "v2.txt")
    orm.session.commit()
    orm.session.delete(doc)
    orm.session.commit()
    assert orm.stored() == {"documents/v1.txt", "documents/v2.txt"}


# -- plain SQLAlchemy sessions -------------------------------------------------------


def memory_app(tmp_path: Any, name: str, **config: Any) -> Flask:
    app = make_app(
        tmp_path / name,
        STORE_PROVIDER="flask_store.providers.memory.MemoryProvider",
        **config,
    )
    Store(app)
    return app


def test_an_unhooked_session_refuses_uploads_clearly(tmp_path: Any) -> None:
    app = memory_app(tmp_path, "app")
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with app.app_context(), Session(engine) as session:
        session.add(Document(file=upload(b"x", "a.txt")))
        with pytest.raises(StatementError, match="init_session"):
            session.commit()
        assert {f.path for f in app.extensions["store"].provider.iter_files()} == set()
    engine.dispose()


@pytest.mark.parametrize("kind", ["session", "scoped_session", "sessionmaker"])
def test_init_session_pins_the_app(tmp_path: Any, kind: str) -> None:
    from flask_store.providers.memory import stored_files

    app = memory_app(tmp_path, "app")
    other = memory_app(tmp_path, "other")
    engine = create_engine(f"sqlite:///{tmp_path}/db.sqlite")
    Base.metadata.create_all(engine)
    factory = sessionmaker(engine, expire_on_commit=False)
    target: Any = {
        "session": factory(),
        "scoped_session": scoped_session(factory),
        "sessionmaker": factory,
    }[kind]
    init_session(target, app)
    session = target() if kind != "session" else target
    # Flushed inside the other app's context: the file still goes to ``app``.
    with other.app_context():
        session.add(Document(file=upload(b"x", "a.txt")))
        session.commit()
    assert stored_files(app) == {"documents/a.txt": b"x"}
    assert stored_files(other) == {}
    with pytest.raises(ValueError, match="already works for the app"):
        init_session(target, other)
    session.close()
    engine.dispose()


def test_init_session_refuses_other_things(tmp_path: Any) -> None:
    app = memory_app(tmp_path, "app")
    with pytest.raises(TypeError, match="not Engine"):
        init_session(create_engine("sqlite://"), app)  # type: ignore[arg-type]


def test_init_session_needs_store(tmp_path: Any) -> None:
    app = make_app(tmp_path)
    with pytest.raises(RuntimeError, match="Store"):
        init_session(sessionmaker(), app)


def test_session_events_are_not_process_wide(memory_orm: Orm) -> None:
    from flask_store.sqla import tracking

    memory_orm.session.add(memory_orm.Document(file=upload()))
    memory_orm.session.commit()
    for name, listener in tracking.SESSION_EVENTS:
        assert not event.contains(Session, name, listener)


def test_reading_outside_an_app_context_says_what_to_do(tmp_path: Any) -> None:
    app = memory_app(tmp_path, "app")
    engine = create_engine(f"sqlite:///{tmp_path}/db.sqlite")
    Base.metadata.create_all(engine)
    factory = sessionmaker(engine)
    init_session(factory, app)
    with factory() as session:
        session.add(Document(file="documents/a.txt"))
        session.commit()
        with pytest.raises(RuntimeError, match="app_context"):
            session.scalars(select(Document)).all()
    engine.dispose()


# -- storage failures ------------------------------------------------------------------


def test_a_failing_save_fails_the_flush_and_adds_nothing(
    memory_orm: Orm, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flask_store.exceptions import UploadFailed
    from flask_store.providers.memory import MemoryProvider

    orm = memory_orm

    def broken(self: Any, stream: Any, candidates: Any) -> str:
        raise UploadFailed("the store is down")

    monkeypatch.setattr(MemoryProvider, "_write", broken)
    orm.session.add(orm.Document(name="x", file=upload(b"x", "a.txt")))
    with pytest.raises(UploadFailed, match="down"):
        orm.session.commit()
    orm.session.rollback()
    assert orm.stored() == set()
    with orm.other_session() as other:
        assert other.scalars(select(orm.Document)).all() == []


def test_a_failing_delete_after_commit_is_logged_not_raised(
    memory_orm: Orm, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from flask_store.exceptions import StorageError
    from flask_store.providers.memory import MemoryProvider

    orm = memory_orm
    orm.app.config["STORE_DELETE_ORPHANS"] = True
    doc = orm.Document(file=upload(b"x", "a.txt"))
    orm.session.add(doc)
    orm.session.commit()

    def broken(self: Any, path: str) -> None:
        raise StorageError("cannot delete now")

    monkeypatch.setattr(MemoryProvider, "_delete", broken)
    orm.session.delete(doc)
    orm.session.commit()  # the commit stands
    assert "could not delete" in caplog.text
    assert orm.stored() == {"documents/a.txt"}
    with orm.other_session() as other:
        assert other.scalars(select(orm.Document)).all() == []


def test_a_failing_delete_after_rollback_is_logged_not_raised(
    memory_orm: Orm, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from flask_store.exceptions import StorageError
    from flask_store.providers.memory import MemoryProvider

    orm = memory_orm
    orm.session.add(orm.Document(file=upload(b"x", "a.txt")))
    orm.session.flush()

    def broken(self: Any, path: str) -> None:
        raise StorageError("cannot delete now")

    monkeypatch.setattr(MemoryProvider, "_delete", broken)
    orm.session.rollback()
    assert "could not delete" in caplog.text


def test_orphans_are_kept_when_their_use_cannot_be_checked(
    memory_orm: Orm, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from sqlalchemy.exc import OperationalError

    from flask_store.sqla import tracking

    orm = memory_orm
    orm.app.config["STORE_DELETE_ORPHANS"] = True
    doc = orm.Document(file=upload(b"x", "a.txt"))
    orm.session.add(doc)
    orm.session.commit()

    def unreachable(*args: Any) -> Any:
        raise OperationalError("SELECT", {}, Exception("database is gone"))

    monkeypatch.setattr(tracking, "still_used", unreachable)
    orm.session.delete(doc)
    orm.session.commit()
    assert "it was kept" in caplog.text
    assert orm.stored() == {"documents/a.txt"}


# -- an optional part ------------------------------------------------------------


def run_python(code: str, cwd: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, str(cwd)], cwd=cwd, capture_output=True, text=True
    )


STORE_ALONE = (
    "import sys\n"
    "from flask import Flask\n"
    "from flask_store import Store\n"
    "app = Flask('app', instance_path=sys.argv[1])\n"
    "Store(app)\n"
    "app.test_client().get('/uploads/nothing.txt')\n"
)


def test_store_alone_does_not_import_the_column_type(tmp_path: Any) -> None:
    code = STORE_ALONE + "assert 'flask_store.sqla' not in sys.modules\n"
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr


def test_store_alone_does_not_import_sqlalchemy(tmp_path: Any) -> None:
    code = STORE_ALONE + "assert 'sqlalchemy' not in sys.modules\n"
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr


def test_store_alone_imports_no_optional_part(tmp_path: Any) -> None:
    code = STORE_ALONE + (
        "loaded = {'wtforms', 'flask_wtf', 'sqlalchemy', 'boto3', 'gevent'}"
        " & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr


def test_the_column_type_without_sqlalchemy_names_the_extra(tmp_path: Any) -> None:
    result = run_python(
        "import sys\n"
        "sys.modules['sqlalchemy'] = None  # as if it were not installed\n"
        "import flask_store.sqla\n",
        tmp_path,
    )
    assert result.returncode != 0
    assert "pip install Flask-Store[sqla]" in result.stderr
