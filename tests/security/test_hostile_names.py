"""Property-based tests: whatever name or location a client sends, nothing is
written outside the store, nothing is overwritten, and every stored name is
safe on Linux, macOS and Windows and in a URL."""

from __future__ import annotations

import io
import os
import secrets
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flask_store import Store, names, store_provider
from flask_store.exceptions import StorageError

from ..conftest import make_app

WINDOWS_FORBIDDEN = set('<>:"/\\|?*') | {chr(c) for c in range(32)}
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {
    f"{d}{n}" for d in ("COM", "LPT") for n in "0123456789¹²³"
}

# Names built from the parts attackers combine: separators, dots, controls,
# reserved device names, URL metacharacters and arbitrary Unicode.
hostile_names = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "..",
                ".",
                "/",
                "\\",
                "\x00",
                "%2e",
                "%2f",
                "CON",
                "nul",
                "lpt1",
                " ",
                "~",
                "#",
                "?",
                "%",
                "&",
                ":",
                "\u202e",
                "\ufeff",
                ".txt",
                "\n",
            ]
        ),
        st.text(min_size=1, max_size=20),
    ),
    max_size=12,
).map("".join)


def assert_safe_name(name: str) -> None:
    assert name
    assert len(name.encode()) <= names.MAX_NAME_BYTES
    assert unicodedata.normalize("NFC", name) == name
    assert not set(name) & WINDOWS_FORBIDDEN
    assert not any(unicodedata.category(c)[0] in "CZ" and c != " " for c in name)
    assert name not in (".", "..") and not name.startswith(".")
    assert not name.endswith((".", " "))
    assert name.split(".")[0].upper() not in WINDOWS_RESERVED
    assert unquote(names.url_path(name)) == "/" + name
    assert "/" not in names.url_path(name)[1:]


@settings(max_examples=500)
@given(hostile_names)
def test_secure_name_is_always_safe(name: str) -> None:
    assert_safe_name(names.secure_name(name))


@settings(max_examples=300)
@given(hostile_names)
def test_secure_name_is_stable(name: str) -> None:
    once = names.secure_name(name)
    if not once.startswith("file-"):
        assert names.secure_name(once) == once


@settings(max_examples=300)
@given(st.text(max_size=60))
def test_location_is_refused_or_stays_inside(location: str) -> None:
    try:
        cleaned = names.clean_location(location)
    except ValueError:
        return
    parts = cleaned.split("/") if cleaned else []
    assert ".." not in parts and "" not in parts
    assert not cleaned.startswith("/") and "\\" not in cleaned
    root = "/store/root"
    assert os.path.normpath(os.path.join(root, cleaned)).startswith(root)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    app = make_app(tmp_path_factory.mktemp("hostile"), STORE_FSYNC=False)
    Store(app)
    os.makedirs(app.config["STORE_PATH"])
    with app.app_context():
        yield app


@pytest.mark.filterwarnings("ignore:.*a leading slash is deprecated:DeprecationWarning")
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=hostile_names, location=st.one_of(st.none(), st.text(max_size=30)))
def test_saving_hostile_names_stays_inside_and_never_overwrites(
    app,
    name: str,
    location: str | None,  # type: ignore[no-untyped-def]
) -> None:
    root = Path(app.config["STORE_PATH"]).resolve()
    outside_before = set(root.parent.parent.iterdir())
    try:
        provider = store_provider()(
            io.BytesIO(b"payload"), filename=name, location=location
        )
    except ValueError:
        return
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    try:
        provider.save()
    except StorageError:
        # A file already has the location's name: refused, nothing changed.
        assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before
        return
    written = Path(provider.absolute_path).resolve()
    assert written.is_relative_to(root)
    assert written.read_bytes() == b"payload"
    assert_safe_name(provider.filename)
    # Every file that was there before is still there, unchanged.
    for path, data in before.items():
        assert path.read_bytes() == data
    assert written not in before
    assert set(root.parent.parent.iterdir()) == outside_before


# -- every provider and every way in ------------------------------------------

#: Property tests below share one app per module; a fresh name each example.
_examples = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def s3_app(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """An S3 app under moto's mock with the key prefix ``tenant``.

    The bucket also holds objects outside the prefix, which must never change.
    """
    from moto import mock_aws

    from ..s3_support import create_bucket, s3_config

    with mock_aws():
        raw = create_bucket("hostile-bucket")
        for key in ("outside.txt", "tenant-other/a.txt", "tenant.txt"):
            raw.put_object(Bucket="hostile-bucket", Key=key, Body=b"outside")
        app = make_app(
            tmp_path_factory.mktemp("s3"),
            **{**s3_config("hostile-bucket"), "STORE_PATH": "tenant"},
        )
        Store(app)
        with app.app_context():
            yield app


def bucket_objects(app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Every key in the bucket with its ETag (the MD5 of its unique content)."""
    from flask_store.providers.s3 import s3_client

    pages = s3_client(app).get_paginator("list_objects_v2")
    return {
        obj["Key"]: obj["ETag"]
        for page in pages.paginate(Bucket="hostile-bucket")
        for obj in page.get("Contents", [])
    }


@_examples
@given(name=hostile_names, location=st.one_of(st.none(), st.text(max_size=30)))
def test_s3_keys_stay_under_the_prefix_and_never_overwrite(
    s3_app,
    name: str,
    location: str | None,  # type: ignore[no-untyped-def]
) -> None:
    before = bucket_objects(s3_app)
    payload = secrets.token_bytes(8)
    try:
        provider = store_provider()(
            io.BytesIO(payload), filename=name, location=location
        )
    except ValueError:
        assert bucket_objects(s3_app) == before
        return
    provider.save()
    after = bucket_objects(s3_app)
    key = provider.absolute_path
    assert key.startswith("tenant/")
    assert ".." not in key.split("/") and "//" not in key and "\\" not in key
    assert set(after) == set(before) | {key} and key not in before
    assert provider.read() == payload
    assert {k: after[k] for k in before} == before
    assert_safe_name(provider.filename)
    assert provider.relative_url.startswith("/tenant/")
    assert unquote(provider.relative_url) == "/" + key


@pytest.fixture(scope="module")
def memory_app(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    app = make_app(
        tmp_path_factory.mktemp("memory"),
        STORE_PROVIDER="flask_store.providers.memory.MemoryProvider",
    )
    Store(app)
    with app.app_context():
        yield app


# Locations given in code may start with a slash (0.0.4), dropped with a warning.
@pytest.mark.filterwarnings("ignore:.*a leading slash is deprecated:DeprecationWarning")
@_examples
@given(name=hostile_names, location=st.one_of(st.none(), st.text(max_size=30)))
def test_memory_paths_stay_relative_and_never_overwrite(
    memory_app,
    name: str,
    location: str | None,  # type: ignore[no-untyped-def]
) -> None:
    from flask_store.providers.memory import stored_files

    before = stored_files(memory_app)
    try:
        provider = store_provider()(
            io.BytesIO(b"payload"), filename=name, location=location
        )
    except ValueError:
        assert stored_files(memory_app) == before
        return
    provider.save()
    after = stored_files(memory_app)
    path = provider.relative_path
    parts = path.split("/")
    assert not path.startswith("/") and "" not in parts and ".." not in parts
    assert set(after) == set(before) | {path} and path not in before
    assert {p: after[p] for p in before} == before
    assert_safe_name(provider.filename)


# -- through the admin upload view ----------------------------------------------

#: Names a browser could send in a multipart filename (no NUL, CR or LF,
#: which no browser sends and HTTP parsers reject).
multipart_names = hostile_names.map(
    lambda n: n.replace("\x00", "").replace("\r", "").replace("\n", "")
).filter(bool)


@pytest.fixture(scope="module")
def admin_client(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    import re

    from flask_store.blueprint import blueprint

    app = make_app(
        tmp_path_factory.mktemp("admin"), STORE_ADMIN_ACCESS=True, STORE_FSYNC=False
    )
    Store(app)
    app.register_blueprint(blueprint, url_prefix="/admin")
    client = app.test_client()
    body = client.get("/admin/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body)
    assert token is not None
    return app, client, token.group(1)


def every_file(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


@_examples
@given(name=multipart_names, location=st.text(max_size=20))
def test_admin_uploads_of_hostile_names_stay_inside(
    admin_client,
    name: str,
    location: str,  # type: ignore[no-untyped-def]
) -> None:
    app, client, token = admin_client
    root = Path(app.config["STORE_PATH"])
    root.mkdir(parents=True, exist_ok=True)
    outside = set(root.parent.parent.iterdir())
    before = every_file(root)
    response = client.post(
        "/admin/upload",
        data={
            "csrf_token": token,
            "location": location,
            "file": (io.BytesIO(b"payload"), name),
        },
        headers={"Accept": "application/json"},
    )
    # 400: a refused location; 409: a location where a file has the name.
    assert response.status_code in (201, 400, 409), response.get_data(as_text=True)
    after = every_file(root)
    assert {p: after[p] for p in before} == before
    assert set(root.parent.parent.iterdir()) == outside
    if response.status_code != 201:
        assert response.json["error"]
        assert after == before
        return
    (saved,) = response.json["files"]
    (new,) = set(after) - set(before)
    assert new.resolve().is_relative_to(root.resolve())
    assert new.read_bytes() == b"payload"
    assert new.relative_to(root).as_posix() == saved["path"]
    assert_safe_name(saved["name"])


# -- through FlaskStoreType ----------------------------------------------------


@pytest.fixture(scope="module")
def orm_app(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from sqlalchemy import Integer, create_engine
    from sqlalchemy.orm import DeclarativeBase, mapped_column, sessionmaker

    from flask_store.sqla import FlaskStoreType, init_session

    class Base(DeclarativeBase):
        pass

    class Upload(Base):
        __tablename__ = "hostile_upload"
        id = mapped_column(Integer, primary_key=True)
        file = mapped_column(FlaskStoreType(512, location="rows"))

    tmp = tmp_path_factory.mktemp("orm")
    app = make_app(tmp, STORE_FSYNC=False)
    Store(app)
    engine = create_engine(f"sqlite:///{tmp}/rows.db")
    Base.metadata.create_all(engine)
    factory = sessionmaker(engine)
    init_session(factory, app)
    os.makedirs(app.config["STORE_PATH"])
    with app.app_context():
        yield app, factory, Upload
    engine.dispose()


@_examples
@given(name=hostile_names)
def test_hostile_upload_names_assigned_to_a_column_stay_inside(
    orm_app,
    name: str,  # type: ignore[no-untyped-def]
) -> None:
    from werkzeug.datastructures import FileStorage

    app, factory, Upload = orm_app
    root = Path(app.config["STORE_PATH"])
    outside = set(root.parent.parent.iterdir())
    before = every_file(root)
    with factory() as session:
        row = Upload(file=FileStorage(io.BytesIO(b"payload"), filename=name))
        session.add(row)
        session.commit()
        path = row.file.relative_path if row.file is not None else None
    after = every_file(root)
    assert {p: after[p] for p in before} == before
    assert set(root.parent.parent.iterdir()) == outside
    if path is None:  # an empty file name stores NULL and no file
        assert name == "" and after == before
        return
    assert path.startswith("rows/")
    (new,) = set(after) - set(before)
    assert new.resolve().is_relative_to(root.resolve())
    assert new.relative_to(root).as_posix() == path
    assert_safe_name(path.rpartition("/")[2])
