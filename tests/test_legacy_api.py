"""The 0.0.2 and 0.0.4 APIs, as their documentation printed them.

Each old spelling works and warns with a DeprecationWarning that names the
current way, attributed to the line of the app's code that used it.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import types
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request
from werkzeug.datastructures import MultiDict

from flask_store import Store, names, store_provider
from flask_store.admin import BrowseQuery
from flask_store.files import StoreFile
from flask_store.providers import Provider
from flask_store.providers.local import LocalProvider
from flask_store.stores import BaseStore
from flask_store.stores.local import LocalStore

from . import s3_support
from .conftest import make_app, upload
from .docs_examples import example

HERE = os.path.abspath(__file__)

# The S3 fixtures, used by name below.
moto_server = s3_support.moto_server
s3_endpoint = s3_support.s3_endpoint
bucket = s3_support.bucket
raw = s3_support.raw


def warned_here(record: Any, *, match: str) -> None:
    """``record`` holds a DeprecationWarning matching ``match`` from this file."""
    hits = [
        w
        for w in record
        if issubclass(w.category, DeprecationWarning) and match in str(w.message)
    ]
    assert hits, [str(w.message) for w in record]
    assert {w.filename for w in hits} == {HERE}


# -- 0.0.2 quick start ---------------------------------------------------------


def quick_start_app(store_path: Path, **config: Any) -> tuple[Flask, Store]:
    """The 0.0.2 quick start's app, step 3, with ``flask_store`` imports."""
    app = Flask(__name__)
    app.config.update(config)
    app.config["STORE_DOMAIN"] = "http://127.0.0.1:5000"
    app.config["STORE_PATH"] = str(store_path)
    store = Store(app)

    @app.route("/upload", methods=["POST"])
    def upload() -> str:
        file = request.files.get("afile")
        provider = store.Provider()
        f = provider.save(file)

        return f.absolute_url()

    return app, store


def test_the_0_0_2_quick_start(tmp_path: Path) -> None:
    # 0.0.2's default provider, as its Local Store page sets it explicitly.
    with pytest.deprecated_call() as record:
        app, _ = quick_start_app(
            tmp_path / "somewhere",
            STORE_PROVIDER="flask_store.stores.local.LocalStore",
        )
    warned_here(
        record,
        match="'flask_store.stores.local.LocalStore' is a 0.0.2 store class and "
        "is deprecated: set STORE_PROVIDER = "
        "'flask_store.providers.local.LocalProvider'",
    )
    client = app.test_client()

    with pytest.deprecated_call(match=r"store\.Provider\(request\.files"):
        response = client.post(
            "/upload", data={"afile": (io.BytesIO(b"\xff\xd8jpeg"), "localfile.jpg")}
        )

    assert response.status_code == 200
    assert response.text == "http://127.0.0.1:5000/uploads/localfile.jpg"
    assert (tmp_path / "somewhere" / "localfile.jpg").read_bytes() == b"\xff\xd8jpeg"
    with client.get("/uploads/localfile.jpg") as served:
        assert served.status_code == 200
        assert served.data == b"\xff\xd8jpeg"


def test_the_docs_0_0_2_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the example app's instance folder goes here
    module = types.ModuleType("readme_migration_0_0_2")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    with pytest.deprecated_call(match="set STORE_PROVIDER"):
        exec(
            compile(example("migration-0.0.2"), "upgrading.md", "exec"), module.__dict__
        )
    client = module.app.test_client()
    with pytest.deprecated_call(match="0.0.2 API"):
        response = client.post(
            "/upload", data={"afile": (io.BytesIO(b"jpeg"), "localfile.jpg")}
        )
    assert response.text == "http://127.0.0.1:5000/uploads/localfile.jpg"
    assert (tmp_path / "instance" / "uploads" / "localfile.jpg").read_bytes() == b"jpeg"
    with client.get("/uploads/localfile.jpg") as served:
        assert served.data == b"jpeg"


def test_the_0_0_2_quick_start_with_the_default_provider(tmp_path: Path) -> None:
    app, _ = quick_start_app(tmp_path / "somewhere", TESTING=True)
    client = app.test_client()
    with pytest.deprecated_call(
        match=r"LocalProvider\(\) with no file is the 0.0.2 API"
    ):
        response = client.post(
            "/upload", data={"afile": (io.BytesIO(b"jpeg"), "localfile.jpg")}
        )
    assert response.text == "http://127.0.0.1:5000/uploads/localfile.jpg"
    assert (tmp_path / "somewhere" / "localfile.jpg").read_bytes() == b"jpeg"


def test_a_second_upload_of_a_name_is_not_overwritten(tmp_path: Path) -> None:
    with pytest.deprecated_call():
        app, _ = quick_start_app(
            tmp_path, STORE_PROVIDER="flask_store.stores.local.LocalStore"
        )
    client = app.test_client()
    urls = []
    for body in (b"first", b"second"):
        with pytest.deprecated_call():
            urls.append(
                client.post("/upload", data={"afile": (io.BytesIO(body), "a.txt")}).text
            )
    assert urls[0] == "http://127.0.0.1:5000/uploads/a.txt"
    assert urls[1] != urls[0]
    assert (tmp_path / "a.txt").read_bytes() == b"first"
    second = urls[1].removeprefix("http://127.0.0.1:5000")
    with client.get(second) as served:
        assert served.data == b"second"


# -- the 0.0.2 classes ---------------------------------------------------------


@pytest.fixture
def legacy_app(tmp_path: Path) -> Iterator[Flask]:
    app = make_app(tmp_path, STORE_PROVIDER="flask_store.stores.local.LocalStore")
    with pytest.deprecated_call():
        Store(app)
    with app.app_context():
        yield app


def test_store_file_methods_read_the_saved_provider(legacy_app: Flask) -> None:
    with legacy_app.test_request_context(base_url="http://files.test/"):
        with pytest.deprecated_call():
            store = store_provider()(destination="/reports")  # type: ignore[call-arg]
        assert store.destination == "reports"
        assert store.store_path == os.path.join(
            legacy_app.config["STORE_PATH"], "reports"
        )
        f = store.save(upload(b"data", "Q1 report.pdf"))
        assert isinstance(f, StoreFile)
        assert f.filename == "Q1_report.pdf"
        assert f.destination == "reports"
        assert f.relative_path() == "reports/Q1_report.pdf"
        assert f.absolute_path() == os.path.join(
            legacy_app.config["STORE_PATH"], "reports", "Q1_report.pdf"
        )
        assert f.relative_url() == "/uploads/reports/Q1_report.pdf"
        assert f.absolute_url() == "http://files.test/uploads/reports/Q1_report.pdf"
        assert f.provider.read() == b"data"


def test_store_file_for_a_stored_file(legacy_app: Flask) -> None:
    with pytest.deprecated_call():
        saved = store_provider()().save(upload(b"x", "a.txt"))
    with pytest.deprecated_call(match=r"store\.Provider\('destination/filename'\)"):
        again = StoreFile(saved.filename)
    assert again.relative_path() == "a.txt"
    assert again.provider.read() == b"x"


def test_a_store_is_todays_provider_with_a_file(legacy_app: Flask) -> None:
    # What FlaskStoreType, the admin and the CLI do with the configured class.
    provider = store_provider()(upload(b"new", "n.txt"), location="docs")
    assert isinstance(provider, LocalProvider)
    assert provider.save() is provider
    assert provider.relative_path == "docs/n.txt"
    assert store_provider()("docs/n.txt").read() == b"new"


def test_a_store_with_no_file_needs_the_upload(legacy_app: Flask) -> None:
    with pytest.deprecated_call():
        store = store_provider()()
    with pytest.raises(TypeError, match="needs the upload"):
        store.save()
    with pytest.raises(TypeError, match="destination="):
        LocalStore(location="docs")


def test_base_store_takes_a_destination(legacy_app: Flask) -> None:
    assert issubclass(BaseStore, Provider)
    assert issubclass(LocalStore, (BaseStore, LocalProvider))
    with pytest.deprecated_call(match="0.0.2 API"):
        store = BaseStore(destination="a/b")
    assert store.destination == "a/b"
    with pytest.deprecated_call():
        assert BaseStore().destination is None
    with pytest.raises(ValueError, match=r"\.\."):
        BaseStore(destination="../up")


def test_a_custom_0_0_2_store_is_told_to_subclass_provider(tmp_path: Path) -> None:
    app = make_app(tmp_path, STORE_PROVIDER="flask_store.stores.BaseStore")
    with pytest.deprecated_call(match="subclass flask_store.providers.Provider"):
        Store(app)


@pytest.mark.parametrize(
    ("legacy", "current"),
    [
        ("flask_store.stores.s3.S3Store", "flask_store.providers.s3.S3Provider"),
        (
            "flask_store.stores.s3.S3GeventStore",
            "flask_store.providers.s3.S3GeventProvider",
        ),
    ],
)
def test_s3_stores(
    tmp_path: Path,
    bucket: str,
    s3_endpoint: str | None,
    raw: Any,
    legacy: str,
    current: str,
) -> None:
    from flask_store.providers.s3 import wait_for_uploads

    from .s3_support import s3_app

    with pytest.deprecated_call(match=f"set STORE_PROVIDER = {current!r}"):
        app = s3_app(
            tmp_path,
            bucket,
            s3_endpoint,
            STORE_PROVIDER=legacy,
            STORE_S3_SPOOL_PATH=str(tmp_path / "spool"),
        )
    with app.app_context():
        with pytest.deprecated_call(match="0.0.2 API"):
            store = store_provider()(destination="docs")
        f = store.save(upload(b"s3", "a.txt"))
        assert isinstance(f, StoreFile)
        assert wait_for_uploads(timeout=30)
        assert f.absolute_path() == "docs/a.txt"
        assert f.relative_path() == "docs/a.txt"
        assert f.relative_url() == "/docs/a.txt"
    body = raw.get_object(Bucket=bucket, Key="docs/a.txt")["Body"].read()
    assert body == b"s3"


def test_importing_the_old_modules_has_no_side_effects(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import sys
        import flask_store, flask_store.stores, flask_store.stores.local
        import flask_store.files, flask_store.utils
        assert "boto3" not in sys.modules, "boto3 imported"
        assert "flask_store.stores.s3" not in sys.modules
        """
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []


# -- 0.0.4 SQLAlchemy ----------------------------------------------------------


def test_the_0_0_4_sqlalchemy_example(tmp_path: Path) -> None:
    from flask_sqlalchemy import SQLAlchemy
    from sqlalchemy.exc import LegacyAPIWarning

    from flask_store.sqla import FlaskStoreType

    # yourapp/ext.py
    db = SQLAlchemy()
    store = Store()

    # yourapp/models.py, as printed but for the primary key a model needs.
    with pytest.deprecated_call() as record:

        class MyModel(db.Model):  # type: ignore[name-defined, misc]
            id = db.Column(db.Integer, primary_key=True)
            field = db.Column(FlaskStoreType(128, location="/some/where"))

    warned_here(record, match="write 'some/where'")

    # yourapp/__init__.py
    def create_app() -> Flask:
        app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI="sqlite://")
        db.init_app(app)
        store.init_app(app)
        return app

    app = create_app()

    @app.route("/foo", methods=["POST"])
    def foo() -> str:
        foo = MyModel()
        foo.field = request.files.get("foo")

        db.session.add(foo)
        db.session.commit()

        # The docs print foo.absolute_url: the URL is the field's.
        return str(foo.field.absolute_url)

    @app.route("/bar")
    def bar() -> str:
        foo = MyModel.query.get(1)

        return str(foo.field.absolute_url)

    with app.app_context():
        db.create_all()
    client = app.test_client()

    response = client.post("/foo", data={"foo": (io.BytesIO(b"%PDF"), "doc.pdf")})
    assert response.status_code == 200
    assert response.text == "http://localhost/uploads/some/where/doc.pdf"
    disk = Path(app.config["STORE_PATH"], "some", "where", "doc.pdf")
    assert disk.read_bytes() == b"%PDF"
    with client.get("/uploads/some/where/doc.pdf") as served:
        assert served.data == b"%PDF"
    # Query.get is SQLAlchemy's own legacy API, as printed in the 0.0.4 docs.
    with pytest.warns(LegacyAPIWarning):
        assert client.get("/bar").text == response.text
    with app.app_context():
        row = db.session.get(MyModel, 1)
        assert row.field.relative_path == "some/where/doc.pdf"
        db.session.remove()
        db.engine.dispose()


# -- a leading slash on a location ----------------------------------------------


def test_a_leading_slash_is_dropped_with_a_warning(storage: Flask) -> None:
    with pytest.deprecated_call() as record:
        provider = store_provider()(upload(b"d", "a.txt"), location="/docs")
    warned_here(record, match="Location '/docs': a leading slash is deprecated")
    warned_here(record, match="relative to STORE_PATH; write 'docs'")
    provider.save()
    assert provider.relative_path == "docs/a.txt"
    assert store_provider()("docs/a.txt").read() == b"d"


def test_a_call_site_warns_once(storage: Flask) -> None:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("default")  # Python's filter for app code
        for _ in range(3):
            store_provider()(upload(), location="/docs")
    assert [w.filename for w in record] == [HERE]


@pytest.mark.parametrize(
    ("given", "expected"),
    [("/some/where", "some/where"), ("//a//b/", "a/b"), ("/", ""), ("/./x", "x")],
)
def test_clean_location_drops_a_leading_slash(given: str, expected: str) -> None:
    with pytest.deprecated_call():
        assert names.clean_location(given, legacy_slash=True) == expected


@pytest.mark.parametrize("bad", ["/../x", "/a/../..", "/C:/x", "/a\\b", "/a\x00"])
def test_a_leading_slash_stays_confined(storage: Flask, bad: str) -> None:
    # Refused before any warning: under filterwarnings=error a warning would
    # surface here instead of the ValueError.
    with pytest.raises(ValueError):
        store_provider()(upload(), location=bad)
    with pytest.raises(ValueError):
        names.clean_location(bad, legacy_slash=True)


@pytest.mark.parametrize("given", ["/etc", "//etc", "/"])
def test_what_clients_send_never_gets_the_leeway(given: str) -> None:
    # Forms, the admin and the command line validate with the default.
    with pytest.raises(ValueError, match="must be relative"):
        names.clean_location(given)
    assert names.clean_location("etc") == "etc"


@pytest.mark.parametrize("bad", ["/etc/passwd", "//etc/passwd"])
def test_a_stored_path_with_a_leading_folder_slash_is_still_refused(
    storage: Flask, bad: str
) -> None:
    with pytest.raises(ValueError):
        store_provider()(bad)


def test_upload_form_and_admin_folder_refuse_a_leading_slash(tmp_path: Path) -> None:
    # The leeway is for code written against 0.0.4, never for what clients send.
    from werkzeug.datastructures import FileStorage
    from werkzeug.exceptions import BadRequest

    from flask_store.forms import UploadForm

    app = make_app(tmp_path, WTF_CSRF_ENABLED=False)
    Store(app)
    data = MultiDict(
        [("file", FileStorage(io.BytesIO(b"x"), filename="a.txt")), ("location", "/a")]
    )
    with app.test_request_context(method="POST"):
        form = UploadForm(formdata=data)
        assert not form.validate()
        assert "must be relative" in form.errors["location"][0]
    with pytest.raises(BadRequest):
        BrowseQuery.from_args(MultiDict({"folder": "/etc"}))


def test_cli_location_refuses_a_leading_slash(storage: Flask, tmp_path: Path) -> None:
    source = tmp_path / "report.txt"
    source.write_bytes(b"r")
    result = storage.test_cli_runner().invoke(
        args=["store", "put", str(source), "--location", "/etc"]
    )
    assert result.exit_code != 0
    assert "must be relative" in result.output
    assert list(store_provider().iter_files()) == []


# -- flask_store.utils -----------------------------------------------------------


def test_utils_is_path(tmp_path: Path) -> None:
    from flask_store import utils

    for value, expected in [("a", True), (b"a", True), (tmp_path, True), (1, False)]:
        with pytest.deprecated_call(
            match=r"isinstance\(value, \(str, bytes, os\.PathLike\)\)"
        ) as record:
            assert utils.is_path(value) is expected
        warned_here(record, match="flask_store.utils.is_path() is deprecated")


def test_utils_is_directory(tmp_path: Path) -> None:
    from flask_store import utils

    (tmp_path / "f.txt").write_text("x")
    cases = [(str(tmp_path), True), (tmp_path / "f.txt", False), (None, False)]
    cases += [(str(tmp_path / "missing"), False)]
    for value, expected in cases:
        with pytest.deprecated_call(match=r"use os\.path\.isdir\(path\)"):
            assert utils.is_directory(value) is expected


def test_utils_path_to_uri() -> None:
    from flask_store import utils

    with pytest.deprecated_call(match="relative_url and absolute_url") as record:
        assert utils.path_to_uri("a\\b\\c d.txt") == "a/b/c d.txt"
    warned_here(record, match="path.replace('\\\\', '/')")


# -- store.Provider without an app context -----------------------------------


def test_store_provider_without_a_context_for_one_app(tmp_path: Path) -> None:
    store = Store(make_app(tmp_path))
    with pytest.deprecated_call(match=r"app\.extensions\['store'\]\.provider") as rec:
        assert store.Provider is LocalProvider
    warned_here(rec, match="store.Provider outside an application context")


def test_store_provider_in_a_context_does_not_warn(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    store = Store(app)
    with app.app_context():
        assert store.Provider is LocalProvider  # filterwarnings=error


def test_store_provider_needs_a_context_once_a_store_serves_two_apps(
    tmp_path: Path,
) -> None:
    first = make_app(tmp_path / "a")
    store = Store(first)
    store.init_app(make_app(tmp_path / "b"))
    with pytest.raises(RuntimeError, match="application context"):
        store.Provider  # noqa: B018


def test_store_provider_needs_a_context_for_a_factory_store(tmp_path: Path) -> None:
    store = Store()
    store.init_app(make_app(tmp_path))
    with pytest.raises(RuntimeError, match="application context"):
        store.Provider  # noqa: B018
    assert not [k for k in vars(store) if not k.startswith("__")]
