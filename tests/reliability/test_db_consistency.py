"""The store always matches the database: FlaskStoreType under commits,
rollbacks, replacements, deletions, shared paths and failed flushes.

The checker compares the set of paths the rows reference with the set of
files the provider holds, on the local disk, in memory and in an S3 bucket.
With ``STORE_DELETE_ORPHANS`` they must be equal after every transaction;
without it, every referenced file must exist (nothing a row points at is
ever lost).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Integer, String, Unicode, create_engine, select, type_coerce
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker

from flask_store import Store
from flask_store.providers.base import store_state
from flask_store.sqla import FlaskStoreType, init_session

from ..conftest import PROVIDERS, make_app, upload


class Base(DeclarativeBase):
    pass


class Row(Base):
    __tablename__ = "consistency_row"
    id = mapped_column(Integer, primary_key=True)
    name = mapped_column(String(40), unique=True)
    file = mapped_column(FlaskStoreType(256, location="rows"))


def referenced(session: Session) -> set[str]:
    """Every path a row references, as the database holds it."""
    column = type_coerce(Row.file, Unicode())
    return {p for p in session.execute(select(column)).scalars() if p is not None}


def stored(app: Flask) -> set[str]:
    """Every file the store holds."""
    return {f.path for f in store_state(app).provider.iter_files(app=app)}


def check(app: Flask, factory: sessionmaker[Session], *, exact: bool = True) -> None:
    """The store holds exactly (or at least) what the committed rows reference."""
    with factory() as session:
        paths = referenced(session)
    files = stored(app)
    if exact:
        assert files == paths
    else:
        assert paths <= files


#: Every sessionmaker this module made, kept alive so that no new one gets
#: the id of a collected one: see test_a_new_sessionmaker_is_always_hooked.
_FACTORIES: list[sessionmaker[Session]] = []


@contextlib.contextmanager
def database(
    provider: str, tmp_path: Any, **config: Any
) -> Iterator[tuple[Flask, sessionmaker[Session]]]:
    with contextlib.ExitStack() as stack:
        if provider == "s3":
            from ..s3_support import mocked_bucket

            config = {**stack.enter_context(mocked_bucket()), **config}
        app = make_app(
            tmp_path,
            **{"STORE_PROVIDER": PROVIDERS[provider], "STORE_FSYNC": False, **config},
        )
        Store(app)
        engine = create_engine(f"sqlite:///{tmp_path}/consistency.db")
        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
        factory = sessionmaker(engine)
        _FACTORIES.append(factory)
        init_session(factory, app)
        try:
            with app.app_context():
                yield app, factory
        finally:
            engine.dispose()


@pytest.fixture(params=sorted(PROVIDERS))
def db(
    request: pytest.FixtureRequest, tmp_path: Any
) -> Iterator[tuple[Flask, sessionmaker[Session]]]:
    with database(request.param, tmp_path, STORE_DELETE_ORPHANS=True) as found:
        yield found


def add_row(factory: sessionmaker[Session], name: str, data: bytes = b"x") -> int:
    with factory() as session:
        row = Row(name=name, file=upload(data, f"{name}.txt"))
        session.add(row)
        session.commit()
        return int(row.id)


def test_save_then_rollback(db: tuple[Flask, sessionmaker[Session]]) -> None:
    app, factory = db
    with factory() as session:
        session.add(Row(name="a", file=upload(b"a", "a.txt")))
        session.flush()
        assert len(stored(app)) == 1  # saved at the flush
        session.rollback()
    check(app, factory)
    assert stored(app) == set()


def test_replace_then_rollback_and_commit(
    db: tuple[Flask, sessionmaker[Session]],
) -> None:
    app, factory = db
    row_id = add_row(factory, "a", b"old")
    with factory() as session:
        row = session.get(Row, row_id)
        row.file = upload(b"new", "new.txt")
        session.flush()
        session.rollback()
    check(app, factory)
    with factory() as session:
        assert session.get(Row, row_id).file.read() == b"old"
        session.get(Row, row_id).file = upload(b"new", "new.txt")
        session.commit()
    check(app, factory)
    with factory() as session:
        assert session.get(Row, row_id).file.read() == b"new"


def test_delete_then_rollback_and_commit(
    db: tuple[Flask, sessionmaker[Session]],
) -> None:
    app, factory = db
    row_id = add_row(factory, "a")
    with factory() as session:
        session.delete(session.get(Row, row_id))
        session.flush()
        session.rollback()
    check(app, factory)
    assert len(stored(app)) == 1
    with factory() as session:
        session.delete(session.get(Row, row_id))
        session.commit()
    check(app, factory)
    assert stored(app) == set()


def test_two_rows_sharing_a_path(db: tuple[Flask, sessionmaker[Session]]) -> None:
    app, factory = db
    first = add_row(factory, "a")
    with factory() as session:
        path = session.get(Row, first).file.relative_path
        session.add(Row(name="b", file=path))
        session.commit()
    with factory() as session:
        session.delete(session.get(Row, first))
        session.commit()
    check(app, factory)
    assert stored(app) == {path}  # still used by "b"
    with factory() as session:
        session.delete(session.execute(select(Row)).scalar_one())
        session.commit()
    check(app, factory)
    assert stored(app) == set()


def test_a_flush_failing_on_a_constraint_after_the_save(
    db: tuple[Flask, sessionmaker[Session]],
) -> None:
    app, factory = db
    add_row(factory, "taken")
    with factory() as session:
        session.add(Row(name="taken", file=upload(b"dup", "dup.txt")))
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
    check(app, factory)
    assert len(stored(app)) == 1


def test_a_session_closed_without_commit(
    db: tuple[Flask, sessionmaker[Session]],
) -> None:
    app, factory = db
    session = factory()
    session.add(Row(name="a", file=upload(b"a", "a.txt")))
    session.flush()
    session.close()
    check(app, factory)


# -- any sequence of operations -------------------------------------------------

OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["add", "replace", "delete", "share", "clear", "dup"]),
        st.integers(0, 3),
        st.booleans(),  # commit (True) or roll back
    ),
    min_size=1,
    max_size=8,
)


def apply(session: Session, op: str, index: int, counter: list[int]) -> None:
    rows = list(session.execute(select(Row).order_by(Row.id)).scalars())
    row = rows[index % len(rows)] if rows else None
    counter[0] += 1
    name = f"r{counter[0]}"
    if op == "add" or row is None:
        session.add(Row(name=name, file=upload(name.encode(), "same.txt")))
    elif op == "replace":
        row.file = upload(name.encode(), "same.txt")
    elif op == "delete":
        session.delete(row)
    elif op == "share":
        session.add(Row(name=name, file=row.file))
    elif op == "clear":
        row.file = None
    elif op == "dup":  # fails at the flush, after the upload was saved
        session.add(Row(name=row.name, file=upload(b"dup", "same.txt")))


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
@pytest.mark.parametrize("orphans", [True, False], ids=["delete-orphans", "keep"])
def test_any_sequence_keeps_store_and_database_in_step(
    tmp_path_factory: pytest.TempPathFactory, provider: str, orphans: bool
) -> None:
    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(OPERATIONS)
    def run(operations: list[tuple[str, int, bool]]) -> None:
        tmp = tmp_path_factory.mktemp("sequence")
        with database(provider, tmp, STORE_DELETE_ORPHANS=orphans) as (app, factory):
            counter = [0]
            for op, index, commit in operations:
                with factory() as session:
                    try:
                        apply(session, op, index, counter)
                        if commit:
                            session.commit()
                        else:
                            session.flush()
                            session.rollback()
                    except IntegrityError:
                        session.rollback()
                check(app, factory, exact=orphans)
            # Every row still reads its own file.
            with factory() as session:
                for row in session.execute(select(Row)).scalars():
                    if row.file is not None:
                        assert row.file.exists()

    run()


def test_a_new_sessionmaker_is_always_hooked(tmp_path: Any) -> None:
    # One app and sessionmaker after another, as a test suite or an app
    # factory makes them; each old pair is collected before the next.
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    for attempt in range(200):
        app = make_app(tmp_path, STORE_PROVIDER=PROVIDERS["memory"])
        Store(app)
        factory = sessionmaker(engine)
        init_session(factory, app)
        with app.app_context(), factory() as session:
            session.add(Row(name=f"n{attempt}", file=upload(b"x", "x.txt")))
            session.flush()  # saves the upload, or fails when not hooked
            session.rollback()
        del app, factory, session
        gc.collect()
    engine.dispose()
