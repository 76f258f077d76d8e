"""No file a row uses is deleted without naming the rows first.

``flask store rm`` refuses unless ``--force``; the admin asks for a
confirmation that names the rows (JSON clients get a 409 saying which), and
both ask the same reference check, which sees every spelling of a path.
"""

from __future__ import annotations

import io
import json
import os
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Integer, create_engine, text
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker

from flask_store.providers.base import store_state
from flask_store.sqla import FlaskStoreType, init_session

from ..security.conftest import ADMIN, admin_app


class Base(DeclarativeBase):
    pass


class Invoice(Base):
    __tablename__ = "used_invoice"
    id = mapped_column(Integer, primary_key=True)
    pdf = mapped_column(FlaskStoreType(128, location="invoices"))
    copy = mapped_column(FlaskStoreType(128, location="invoices"))


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[Flask, sessionmaker[Session]]]:
    app = admin_app(tmp_path, STORE_ADMIN_CSRF=False)
    engine = create_engine(f"sqlite:///{tmp_path}/invoices.db")
    Base.metadata.create_all(engine)
    factory = sessionmaker(engine)
    init_session(factory, app)
    yield app, factory
    engine.dispose()


def put(app: Flask, name: str, location: str = "invoices") -> str:
    with app.app_context():
        provider = store_state(app).provider(io.BytesIO(b"x"), location, filename=name)
        return provider.save().relative_path


def on_disk(app: Flask, path: str) -> bool:
    return os.path.exists(os.path.join(app.config["STORE_PATH"], path))


def use(
    app: Flask, factory: sessionmaker[Session], value: str, *, raw: bool = False
) -> None:
    with app.app_context(), factory() as session:
        if raw:  # written behind the column type's back
            session.execute(
                text("INSERT INTO used_invoice (pdf) VALUES (:v)"), {"v": value}
            )
        else:
            session.add(Invoice(pdf=value))
        session.commit()


def rm(app: Flask, *args: str) -> object:
    return app.test_cli_runner().invoke(args=["store", "rm", *args])


def test_rm_refuses_a_used_file_and_deletes_nothing(
    app: tuple[Flask, sessionmaker[Session]],
) -> None:
    flask_app, factory = app
    used = put(flask_app, "a.pdf")
    free = put(flask_app, "b.pdf")
    use(flask_app, factory, used)
    use(flask_app, factory, used)
    result = rm(flask_app, free, used)
    assert result.exit_code == 1
    assert (
        "Nothing deleted: rows use invoices/a.pdf "
        "(Invoice #1.pdf, Invoice #2.pdf). Pass --force to delete anyway."
    ) in result.output
    assert on_disk(flask_app, used) and on_disk(flask_app, free)


def test_rm_force_deletes_and_names_the_rows_left_pointing_at_nothing(
    app: tuple[Flask, sessionmaker[Session]],
) -> None:
    flask_app, factory = app
    used = put(flask_app, "a.pdf")
    use(flask_app, factory, used)
    result = rm(flask_app, "--force", "--json", used)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "deleted": [used],
        "missing": [],
        "used_by": {used: ["Invoice #1.pdf"]},
    }
    assert not on_disk(flask_app, used)


@pytest.mark.parametrize(
    "spelling",
    [
        lambda p: unicodedata.normalize("NFD", p),
        lambda p: p.replace("/", "//"),
        lambda p: "./" + p,
        lambda p: p.replace("/", "/./"),
    ],
    ids=["NFD", "empty part", "leading dot part", "dot part"],
)
def test_rm_and_the_admin_see_a_row_under_any_spelling(
    app: tuple[Flask, sessionmaker[Session]], spelling: object
) -> None:
    flask_app, factory = app
    used = put(flask_app, "façade.pdf")
    use(flask_app, factory, spelling(used), raw=True)  # type: ignore[operator]
    assert rm(flask_app, used).exit_code == 1
    assert on_disk(flask_app, used)
    client = flask_app.test_client()
    response = client.post(
        ADMIN + "/delete",
        data={"path": used, "confirmed": "yes"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 409
    assert "Invoice #1.pdf" in response.json["error"]
    assert on_disk(flask_app, used)


def test_the_admin_deletes_a_used_file_once_its_rows_were_named(
    app: tuple[Flask, sessionmaker[Session]],
) -> None:
    flask_app, factory = app
    used = put(flask_app, "a.pdf")
    use(flask_app, factory, used)
    client = flask_app.test_client()
    asking = client.post(ADMIN + "/delete", data={"path": used})
    page = asking.get_data(as_text=True)
    assert asking.status_code == 200
    assert "This file is used by" in page and "Invoice #1.pdf" in page
    assert on_disk(flask_app, used)
    # A confirmation that named other rows (or none) is not enough.
    stale = client.post(
        ADMIN + "/delete",
        data={"path": used, "confirmed": "yes", "used_by": '["Invoice #9.pdf"]'},
    )
    assert stale.status_code == 200 and "Invoice #1.pdf" in stale.get_data(as_text=True)
    assert on_disk(flask_app, used)
    done = client.post(
        ADMIN + "/delete",
        data={"path": used, "confirmed": "yes", "used_by": '["Invoice #1.pdf"]'},
        headers={"Accept": "application/json"},
    )
    assert done.status_code == 200
    assert done.json == {"deleted": used}
    assert not on_disk(flask_app, used)


def test_an_unused_file_needs_no_row_list(
    app: tuple[Flask, sessionmaker[Session]],
) -> None:
    flask_app, _ = app
    free = put(flask_app, "b.pdf")
    response = flask_app.test_client().post(
        ADMIN + "/delete",
        data={"path": free, "confirmed": "yes"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    assert not on_disk(flask_app, free)


def test_rm_refuses_a_non_canonical_spelling(
    app: tuple[Flask, sessionmaker[Session]],
) -> None:
    flask_app, _ = app
    path = put(flask_app, "a.pdf")
    result = rm(flask_app, "invoices//a.pdf")
    assert result.exit_code == 1
    assert "'invoices//a.pdf' is 'invoices/a.pdf'" in result.output
    assert on_disk(flask_app, path)


def test_one_row_using_a_file_twice_is_named_once_per_column(
    app: tuple[Flask, sessionmaker[Session]],
) -> None:
    from flask_store.sqla import rows_using

    flask_app, factory = app
    used = put(flask_app, "façade.pdf")
    with flask_app.app_context(), factory() as session:
        session.execute(
            text("INSERT INTO used_invoice (pdf, copy) VALUES (:a, :b)"),
            {"a": used, "b": "./" + unicodedata.normalize("NFD", used)},
        )
        session.commit()
        found = rows_using(session, [used])
        assert [(column.name, row.id) for column, row in found[used]] == [
            ("Invoice.copy", 1),
            ("Invoice.pdf", 1),
        ]
    result = rm(flask_app, used)
    assert "(Invoice #1.copy, Invoice #1.pdf)" in result.output


def test_rm_recursive_refuses_a_folder_holding_a_used_file(
    app: tuple[Flask, sessionmaker[Session]],
) -> None:
    flask_app, factory = app
    used = put(flask_app, "a.pdf", "invoices/2024")
    free = put(flask_app, "b.pdf", "invoices/2024/q1")
    use(flask_app, factory, used)
    result = rm(flask_app, "-r", "invoices/2024")
    assert result.exit_code == 1
    assert "Nothing deleted: rows use invoices/2024/a.pdf (Invoice #1.pdf)" in (
        result.output
    )
    assert on_disk(flask_app, used) and on_disk(flask_app, free)


def test_rm_recursive_deletes_a_folder_with_everything_in_it(
    app: tuple[Flask, sessionmaker[Session]],
) -> None:
    flask_app, _ = app
    inside = [put(flask_app, "a.pdf", "old"), put(flask_app, "b.pdf", "old/deep")]
    kept = put(flask_app, "c.pdf", "new")
    result = rm(flask_app, "--recursive", "old")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "deleted folder old"
    assert not any(on_disk(flask_app, path) for path in inside)
    assert not os.path.exists(os.path.join(flask_app.config["STORE_PATH"], "old"))
    assert on_disk(flask_app, kept)


def test_mv_refuses_a_used_file_and_moves_nothing(
    app: tuple[Flask, sessionmaker[Session]],
) -> None:
    flask_app, factory = app
    used = put(flask_app, "a.pdf")
    free = put(flask_app, "b.pdf")
    use(flask_app, factory, used)
    result = flask_app.test_cli_runner().invoke(
        args=["store", "mv", free, used, "archive"]
    )
    assert result.exit_code == 1
    assert (
        "Nothing moved: rows use invoices/a.pdf (Invoice #1.pdf). "
        "Pass --force to move anyway."
    ) in result.output
    assert on_disk(flask_app, used) and on_disk(flask_app, free)


def test_mv_moves_without_overwriting(
    app: tuple[Flask, sessionmaker[Session]],
) -> None:
    flask_app, _ = app
    first = put(flask_app, "a.pdf")
    taken = put(flask_app, "a.pdf", "archive")
    result = flask_app.test_cli_runner().invoke(
        args=["store", "mv", "--json", first, "archive"]
    )
    assert result.exit_code == 0, result.output
    [moved] = json.loads(result.stdout)["moved"]
    assert moved["from"] == first and moved["to"].startswith("archive/a_")
    assert not on_disk(flask_app, first)
    assert on_disk(flask_app, taken) and on_disk(flask_app, moved["to"])
