"""One file, one spelling: no spelling of a path ever deletes a file a row uses.

Other tools write keys and paths the library did not: S3 keys with empty or
``.`` parts, names in NFD on disk, rows written by bulk SQL. Whatever the
spelling, ``flask store orphans --delete`` and ``STORE_DELETE_ORPHANS`` keep
every file a row uses, and every statement stores only the canonical path.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from sqlalchemy import Integer, create_engine, delete, insert, select, text, update
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker

from flask_store import Store
from flask_store.blueprint import blueprint
from flask_store.providers.base import store_state
from flask_store.spelling import canonical_path, is_canonical
from flask_store.sqla import FlaskStoreType, init_session

from ..conftest import PROVIDERS, make_app
from ..s3_support import create_bucket, raw_client, s3_config

ADMIN = "/admin/files"


class Base(DeclarativeBase):
    pass


class Paper(Base):
    __tablename__ = "canonical_paper"
    id = mapped_column(Integer, primary_key=True)
    file = mapped_column(FlaskStoreType(300, location="docs"))


@contextlib.contextmanager
def store_app(
    provider: str = "local", **config: Any
) -> Iterator[tuple[Flask, sessionmaker[Session]]]:
    """An app with the admin, a fresh SQLite database and a fresh store."""
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(
            Path(tmp),
            **{
                "STORE_PROVIDER": PROVIDERS[provider],
                "STORE_PATH": os.path.join(tmp, "store"),
                "STORE_FSYNC": False,
                "STORE_ADMIN_ACCESS": True,
                **config,
            },
        )
        Store(app)
        app.register_blueprint(blueprint, url_prefix=ADMIN)
        engine = create_engine(f"sqlite:///{tmp}/db.sqlite")
        Base.metadata.create_all(engine)
        factory = sessionmaker(engine)
        init_session(factory, app)
        try:
            with app.app_context():
                yield app, factory
        finally:
            engine.dispose()


def save(app: Flask, data: bytes, name: str) -> str:
    """Store ``data`` as the app would; return its (canonical) path."""
    import io

    provider = store_state(app).provider(io.BytesIO(data), "docs", filename=name)
    return provider.save().relative_path


def read(app: Flask, path: str) -> bytes:
    return store_state(app).provider(path).read()


def orphans_delete(app: Flask) -> Any:
    result = app.test_cli_runner().invoke(
        args=["store", "orphans", "--delete", "--yes", "--older-than", "0s"]
    )
    assert result.exit_code == 0, result.output
    return result


# -- spellings ---------------------------------------------------------------

#: Names with letters that have composed and decomposed forms, and plain ones.
NAMES = st.sampled_from(
    ["café.txt", "Résumé.pdf", "naïve.txt", "plain.txt", "Ünïcödé.md", "ñ.txt"]
)


@st.composite
def spellings(draw: st.DrawFn, path: str) -> str:
    """Another spelling of ``path``: forms, empty and ``.`` parts, case."""
    parts = path.split("/")
    spelt = []
    for part in parts:
        form = draw(st.sampled_from(["NFC", "NFD", "NFKD", "mixed"]))
        if form == "mixed":  # only the first letter decomposed
            part = unicodedata.normalize("NFD", part[:1]) + part[1:]
        else:
            part = unicodedata.normalize(form, part)
        if draw(st.booleans()):
            part = part.upper() if draw(st.booleans()) else part.lower()
        spelt.append(part)
        spelt.extend(draw(st.lists(st.sampled_from(["", "."]), max_size=2)))
    prefix = draw(st.sampled_from(["", "./", "/", "//"]))
    suffix = draw(st.sampled_from(["", "/"]))
    return prefix + "/".join(spelt) + suffix


def on_disk(app: Flask, spelling: str) -> Path:
    return Path(app.config["STORE_PATH"], *[p for p in spelling.split("/") if p])


def plant_twin(app: Flask, spelling: str) -> Path | None:
    """Write a file under ``spelling`` on disk, as another tool would."""
    target = on_disk(app, spelling)
    if target.exists():  # the same file as the used one (same bytes on disk)
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"twin")
    return target


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data(), NAMES)
def test_orphans_delete_never_deletes_a_used_file_under_any_spelling(
    data: st.DataObject, name: str
) -> None:
    with store_app() as (app, factory):
        used = save(app, b"used", name)
        spelling = data.draw(spellings(used), label="row spelling")
        twin = data.draw(spellings(used), label="twin on disk")
        planted = plant_twin(app, twin)
        with factory() as session:  # a bulk insert() with any spelling
            session.execute(insert(Paper), [{"file": spelling}])
            session.commit()
        with factory() as session:
            stored = session.scalars(select(Paper.file)).one()
        assert stored.relative_path == canonical_path(spelling)

        orphans_delete(app)

        if canonical_path(spelling) == used:
            assert read(app, used) == b"used"
        listed_as = "/".join(p for p in twin.split("/") if p not in ("", "."))
        if planted is not None and not is_canonical(listed_as):
            assert planted.read_bytes() == b"twin"  # needs attention: kept


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data(), NAMES)
def test_delete_orphans_keeps_a_file_a_bulk_inserted_row_uses(
    data: st.DataObject, name: str
) -> None:
    with store_app(STORE_DELETE_ORPHANS=True) as (app, factory):
        used = save(app, b"used", name)
        spelling = data.draw(spellings(used), label="bulk spelling")
        with factory() as session:
            canonical_row = Paper(file=used)
            session.add(canonical_row)
            session.commit()
            session.execute(insert(Paper), [{"file": spelling}])
            session.commit()
            session.delete(canonical_row)
            session.commit()
        if canonical_path(spelling) == used:
            assert read(app, used) == b"used"
        else:  # another file (another case): no row uses ``used`` now
            assert not store_state(app).provider(used).exists()


@pytest.mark.parametrize(
    "legacy", ["NFD", "NFC"], ids=["decomposed row", "composed row"]
)
def test_a_row_written_behind_the_column_types_back_still_counts(
    legacy: str,
) -> None:
    # Raw SQL skips the bind check: a row holding the NFD spelling of a path
    # still keeps the file when a row with the canonical one goes.
    with store_app(STORE_DELETE_ORPHANS=True) as (app, factory):
        used = save(app, b"used", "café.txt")
        with factory() as session:
            row = Paper(file=used)
            session.add(row)
            session.commit()
            session.execute(
                text("INSERT INTO canonical_paper (file) VALUES (:file)"),
                {"file": unicodedata.normalize(legacy, used)},
            )
            session.commit()
            session.delete(row)
            session.commit()
        assert read(app, used) == b"used"
        orphans_delete(app)
        assert read(app, used) == b"used"


# -- S3 keys other tools wrote -------------------------------------------------


@contextlib.contextmanager
def s3_app(**config: Any) -> Iterator[tuple[Flask, sessionmaker[Session], Any]]:
    with mock_aws():
        create_bucket("canonical-bucket")
        settings_ = {**s3_config("canonical-bucket"), "STORE_PATH": "media", **config}
        settings_.pop("STORE_PROVIDER")
        with store_app("s3", **settings_) as (app, factory):
            yield app, factory, raw_client()


def keys(client: Any) -> dict[str, bytes]:
    listed = client.list_objects_v2(Bucket="canonical-bucket").get("Contents", [])
    return {
        obj["Key"]: client.get_object(Bucket="canonical-bucket", Key=obj["Key"])[
            "Body"
        ].read()
        for obj in listed
    }


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data(), NAMES)
def test_s3_keys_with_empty_or_dot_parts_never_delete_the_used_object(
    data: st.DataObject, name: str
) -> None:
    with s3_app() as (app, factory, client):
        used = save(app, b"used", name)
        twin = data.draw(spellings(used), label="key spelling").lstrip("/")
        twin_key = "media/" + twin
        if twin_key != "media/" + used:
            client.put_object(Bucket="canonical-bucket", Key=twin_key, Body=b"twin")
        with factory() as session:
            session.add(Paper(file=used))
            session.commit()

        result = orphans_delete(app)

        objects = keys(client)
        assert objects["media/" + used] == b"used"
        if not is_canonical(twin) and twin_key != "media/" + used:
            assert objects[twin_key] == b"twin"
            if not twin.endswith("/"):  # not a folder marker: needs attention
                assert "not canonical" in result.output


def test_s3_orphans_lists_non_canonical_keys_as_needing_attention() -> None:
    with s3_app() as (app, factory, client):
        used = save(app, b"used", "a.txt")
        with factory() as session:
            session.add(Paper(file=used))
            session.commit()
        for key in ("media/docs//a.txt", "media/docs/./a.txt", "media/./docs/b.txt"):
            client.put_object(Bucket="canonical-bucket", Key=key, Body=b"twin")
        runner = app.test_cli_runner()
        listed = runner.invoke(
            args=["store", "orphans", "--older-than", "0s", "--json"]
        )
        assert listed.exit_code == 0, listed.output
        import json

        report = json.loads(listed.stdout)
        assert report["orphans"] == []
        assert sorted(e["path"] for e in report["needs_attention"]) == [
            "./docs/b.txt",
            "docs/./a.txt",
            "docs//a.txt",
        ]
        assert all(e["canonical"] is False for e in report["needs_attention"])
        orphans_delete(app)
        assert set(keys(client)) == {
            "media/docs/a.txt",
            "media/docs//a.txt",
            "media/docs/./a.txt",
            "media/./docs/b.txt",
        }
        # The admin shows them, flagged, with nothing to click that would act
        # on the other spelling.
        page = app.test_client().get(ADMIN + "/?folder=docs").get_data(as_text=True)
        assert page.count("needs attention") >= 1


def test_admin_refuses_to_delete_a_non_canonical_spelling() -> None:
    with s3_app(STORE_ADMIN_CSRF=False) as (app, _, client):
        save(app, b"used", "a.txt")
        client.put_object(Bucket="canonical-bucket", Key="media/docs//a.txt", Body=b"t")
        response = app.test_client().post(
            ADMIN + "/delete",
            data={"path": "docs//a.txt", "confirmed": "yes"},
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 400
        assert "not a canonical stored path" in response.json["error"]
        assert keys(client) == {"media/docs/a.txt": b"used", "media/docs//a.txt": b"t"}


# -- what statements may store ---------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("../../etc/passwd", "may not contain '..'"),
        ("docs/../../x.txt", "may not contain '..'"),
        ("docs/a\x00.txt", "control characters"),
        ("docs\\a.txt", "backslashes"),
        ("docs/" + "é" * 200 + ".txt", "bytes long"),
    ],
)
def test_every_statement_refuses_a_bad_path(value: str, message: str) -> None:
    with store_app() as (_, factory), factory() as session:
        session.add(Paper(file="docs/ok.txt"))
        session.commit()
        statements = [
            lambda: session.execute(insert(Paper).values(file=value)),
            lambda: session.execute(insert(Paper), [{"file": value}]),
            lambda: session.execute(update(Paper).values(file=value)),
            lambda: session.execute(
                update(Paper).where(Paper.id == 1).values(file=value)
            ),
        ]
        for run in statements:
            with pytest.raises(StatementError, match=message):
                run()
            session.rollback()
        assert session.scalars(select(Paper.file)).one().relative_path == (
            "docs/ok.txt"
        )


def test_every_statement_stores_the_canonical_spelling() -> None:
    spelling = "./docs//" + unicodedata.normalize("NFD", "café.txt")
    with store_app() as (_, factory), factory() as session:
        session.execute(insert(Paper), [{"file": spelling}])
        session.execute(insert(Paper).values(file="/docs/./b.txt"))
        session.commit()
        session.execute(update(Paper).where(Paper.id == 2).values(file="docs//c.txt/"))
        session.commit()
        raw = session.execute(text("SELECT file FROM canonical_paper ORDER BY id"))
        assert [value for (value,) in raw] == ["docs/café.txt", "docs/c.txt"]
        # Filtering by any spelling finds the row.
        found = session.scalars(select(Paper.id).where(Paper.file == spelling)).all()
        assert found == [1]
        session.execute(delete(Paper))
        session.commit()


def test_bad_values_already_in_a_table_show_as_invalid_not_500() -> None:
    with store_app() as (app, factory):
        good = save(app, b"used", "ok.txt")
        with factory() as session:
            for value in (
                "../../etc/passwd",
                "docs/\x07bell.txt",
                "docs//ok.txt",
                good,
                ".hidden/x.txt",
            ):
                session.execute(
                    text("INSERT INTO canonical_paper (file) VALUES (:v)"), {"v": value}
                )
            session.commit()
        client = app.test_client()
        response = client.get(ADMIN + "/models")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert page.count("invalid:") == 3
        assert "may not contain &#39;..&#39;" in page
        assert "needs attention: not the canonical spelling" in page
        assert "/etc/passwd" in page  # shown as text...
        assert 'href="/admin/files/file/../' not in page  # ...never as a link
        browse = client.get(ADMIN + "/?folder=docs")
        assert browse.status_code == 200
        used_by = browse.get_data(as_text=True)
        assert "Paper #4.file" in used_by
        assert "Paper #3.file" in used_by  # spelt "docs//ok.txt" by raw SQL


def test_a_name_in_nfd_on_disk_needs_attention_in_the_admin_and_cli() -> None:
    with store_app(STORE_ADMIN_CSRF=False) as (app, factory):
        used = save(app, b"used", "café.txt")
        with factory() as session:
            session.add(Paper(file=used))
            session.commit()
        twin = on_disk(app, unicodedata.normalize("NFD", used))
        twin.write_bytes(b"twin")
        page = app.test_client().get(ADMIN + "/?folder=docs").get_data(as_text=True)
        assert page.count("needs attention") == 1
        assert page.count('name="path"') == 1  # one delete form: the NFC file's
        assert "Paper #1.file" in page
        listed = app.test_cli_runner().invoke(args=["store", "ls", "docs"])
        assert listed.exit_code == 0, listed.output
        lines = [line for line in listed.stdout.splitlines() if "caf" in line]
        assert len(lines) == 2
        assert sum("needs attention" in line for line in lines) == 1
        orphans_delete(app)
        assert read(app, used) == b"used"
        assert twin.read_bytes() == b"twin"


def test_patterns_in_filters_are_not_respelt() -> None:
    with store_app() as (_, factory), factory() as session:
        session.execute(
            insert(Paper), [{"file": "docs/a.txt"}, {"file": "docs2/b.txt"}]
        )
        session.commit()

        def ids(condition: Any) -> list[int]:
            return list(session.scalars(select(Paper.id).where(condition)))

        assert ids(Paper.file.startswith("docs/")) == [1]  # not "docs"
        assert ids(Paper.file.contains("/")) == [1, 2]
        assert ids(Paper.file.like("docs/%")) == [1]
        assert ids(Paper.file.endswith(".txt")) == [1, 2]
        assert ids(Paper.file.in_(["docs//a.txt", "./docs2/b.txt"])) == [1, 2]
        assert ids(Paper.file != "docs/./a.txt") == [2]
