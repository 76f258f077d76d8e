from __future__ import annotations

import io
import os
from pathlib import Path
from typing import ClassVar

import pytest
from flask import Flask, url_for

import flask_store
from flask_store import Store, StoreState, store_provider
from flask_store.exceptions import NotConfiguredError
from flask_store.providers import Provider
from flask_store.providers.local import LocalProvider
from flask_store.providers.memory import MemoryProvider

from .conftest import make_app


def test_init_app_sets_defaults_and_state(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    store = Store()
    store.init_app(app)
    state = app.extensions["store"]
    assert isinstance(state, StoreState)
    assert state.store is store and state.app is app
    assert state.provider is LocalProvider
    assert app.config["STORE_PROVIDER"] == "flask_store.providers.local.LocalProvider"
    assert app.config["STORE_DOMAIN"] is None
    assert app.config["STORE_URL_PREFIX"] == "/uploads"
    assert app.config["STORE_FSYNC"] is True


def test_store_path_defaults_to_instance_folder_never_cwd(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    Store(app)
    assert app.config["STORE_PATH"] == os.path.join(app.instance_path, "uploads")
    assert app.config["STORE_PATH"] != os.getcwd()


def test_relative_store_path_is_relative_to_the_app_not_cwd(tmp_path: Path) -> None:
    app = make_app(tmp_path, STORE_PATH="files")
    Store(app)
    assert app.config["STORE_PATH"] == os.path.join(app.root_path, "files")


def test_explicit_config_wins_over_defaults(tmp_path: Path) -> None:
    app = make_app(tmp_path, STORE_PATH=str(tmp_path / "mine"), STORE_URL_PREFIX="/f")
    Store(app)
    assert app.config["STORE_PATH"] == str(tmp_path / "mine")
    assert app.url_map.bind("localhost").match("/f/a.txt")[0] == "flask_store.file"
    with app.test_request_context():
        assert url_for("flask_store.file", filename="a b.txt") == "/f/a%20b.txt"
        # The 0.0.4 endpoint name still builds the same URL.
        assert url_for("flask.store.file", filename="a b.txt") == "/f/a%20b.txt"


def test_provider_proxy_and_store_provider(app: Flask) -> None:
    assert store_provider() is LocalProvider
    assert app.extensions["store"].store.Provider is LocalProvider
    provider = flask_store.Provider(io.BytesIO(b"x"), filename="x.txt")
    assert isinstance(provider, LocalProvider)


def test_provider_outside_app_context_is_a_clear_error(tmp_path: Path) -> None:
    store = Store()
    store.init_app(make_app(tmp_path))
    with pytest.raises(RuntimeError, match="application context"):
        store.Provider  # noqa: B018


def test_one_store_serves_several_apps(tmp_path: Path) -> None:
    store = Store()
    local = make_app(tmp_path / "a")
    memory = make_app(
        tmp_path / "b", STORE_PROVIDER="flask_store.providers.memory.MemoryProvider"
    )
    store.init_app(local)
    store.init_app(memory)
    with local.app_context():
        assert store.Provider is LocalProvider
    with memory.app_context():
        assert store.Provider is MemoryProvider
        assert store.provider(memory) is MemoryProvider
    assert store.provider(local) is LocalProvider
    assert not [k for k in vars(store) if not k.startswith("__")]


def test_unknown_provider_module_raises_import_error_naming_it(tmp_path: Path) -> None:
    app = make_app(tmp_path, STORE_PROVIDER="no.such.module.Provider")
    with pytest.raises(ImportError, match=r"no\.such\.module\.Provider"):
        Store(app)


def test_unknown_provider_class_raises_import_error_naming_it(tmp_path: Path) -> None:
    app = make_app(tmp_path, STORE_PROVIDER="flask_store.providers.local.Nope")
    with pytest.raises(ImportError, match=r"flask_store\.providers\.local\.Nope"):
        Store(app)


def test_provider_that_is_not_a_provider_is_refused(tmp_path: Path) -> None:
    app = make_app(tmp_path, STORE_PROVIDER="os.path.join")
    with pytest.raises(ImportError, match="Provider subclass"):
        Store(app)


class NeedsConfig(MemoryProvider):
    REQUIRED_CONFIGURATION: ClassVar[tuple[str, ...]] = ("STORE_ONE", "STORE_TWO")


def test_missing_configuration_names_every_key(tmp_path: Path) -> None:
    app = make_app(tmp_path, STORE_PROVIDER=f"{__name__}.NeedsConfig", STORE_TWO="")
    with pytest.raises(NotConfiguredError, match="STORE_ONE, STORE_TWO"):
        Store(app)
    app.config.update(STORE_ONE="1", STORE_TWO="2")
    Store(app)


class WithDefaults(MemoryProvider):
    @staticmethod
    def app_defaults(app: Flask) -> None:
        app.config.setdefault("STORE_COLOUR", "blue")


def test_provider_app_defaults_are_applied(tmp_path: Path) -> None:
    app = make_app(tmp_path, STORE_PROVIDER=f"{__name__}.WithDefaults")
    Store(app)
    assert app.config["STORE_COLOUR"] == "blue"


def test_route_registered_only_for_providers_that_ask(tmp_path: Path) -> None:
    local = make_app(tmp_path / "a")
    Store(local)
    assert "flask_store.file" in local.view_functions
    memory = make_app(
        tmp_path / "b", STORE_PROVIDER="flask_store.providers.memory.MemoryProvider"
    )
    Store(memory)
    assert "flask_store.file" not in memory.view_functions


def test_trailing_slash_in_url_prefix_is_tolerated(tmp_path: Path) -> None:
    app = make_app(tmp_path, STORE_URL_PREFIX="/media/")
    Store(app)
    with app.test_request_context():
        saved = store_provider()(io.BytesIO(b"x"), filename="a.txt").save()
        assert saved.relative_url == "/media/a.txt"
    with app.test_client().get("/media/a.txt") as response:
        assert response.data == b"x"


def test_store_cli_group_is_registered(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    Store(app)
    assert "store" in app.cli.list_commands(app.app_context())  # type: ignore[arg-type]


def test_importing_has_no_side_effects(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import os, sys, socket\n"
        "before = set(os.listdir('.'))\n"
        "def offline(*args): raise AssertionError('network used at import')\n"
        "socket.socket.connect = offline\n"
        "import flask_store, flask_store.providers.local, flask_store.providers.memory\n"
        "import flask_store.serving, flask_store.cli, flask_store.names\n"
        "assert set(os.listdir('.')) == before\n"
        "assert 'gevent' not in sys.modules and 'boto3' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True)


def test_subclassing_provider_is_the_extension_point() -> None:
    assert issubclass(LocalProvider, Provider)
    assert issubclass(MemoryProvider, Provider)


def test_a_second_init_app_on_one_app_is_refused(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    store = Store(app)
    with pytest.raises(RuntimeError, match="already initialised"):
        store.init_app(app)
    with pytest.raises(RuntimeError, match="already initialised"):
        Store(app)
    assert app.extensions["store"].store is store


def test_a_wrong_type_is_refused_at_init_app_naming_the_key(tmp_path: Path) -> None:
    app = make_app(tmp_path, STORE_MAX_SIZE="10 MB")
    with pytest.raises(
        NotConfiguredError, match="STORE_MAX_SIZE must be a whole number"
    ):
        Store(app)
    assert "store" not in app.extensions


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("STORE_FSYNC", "no"),
        ("STORE_DELETE_ORPHANS", 1),
        ("STORE_ALLOWED_EXTENSIONS", "png"),
        ("STORE_PATH", 42),
        ("STORE_ADMIN_ACCESS", "admin"),
    ],
)
def test_each_setting_is_checked(tmp_path: Path, key: str, value: object) -> None:
    with pytest.raises(NotConfiguredError, match=key):
        Store(make_app(tmp_path, **{key: value}))


def test_an_unknown_setting_is_warned_about_with_a_suggestion(tmp_path: Path) -> None:
    app = make_app(tmp_path, STORE_MAX_SIZ=100)
    with pytest.warns(
        UserWarning, match="STORE_MAX_SIZ is not a Flask-Store setting.*STORE_MAX_SIZE"
    ) as record:
        Store(app)
    assert record[0].filename == __file__  # points at the app's own code


def test_a_provider_s_own_settings_are_not_unknown(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        STORE_PROVIDER="flask_store.providers.memory.MemoryProvider",
        STORE_S3_SPOOL_PATH="/tmp/spool",  # a built-in setting, unused here
    )
    Store(app)  # no warning: filterwarnings = error would raise it


def test_settings_changed_after_init_app_are_not_seen(tmp_path: Path) -> None:
    app = make_app(tmp_path, STORE_DOMAIN="https://cdn.example.com")
    store = Store(app)
    app.config["STORE_DOMAIN"] = "https://elsewhere.example.com"
    app.config["STORE_PATH"] = str(tmp_path / "elsewhere")
    with app.app_context():
        saved = store.Provider(io.BytesIO(b"x"), filename="a.txt").save()
    assert saved.absolute_url == "https://cdn.example.com/uploads/a.txt"
    assert (tmp_path / "instance" / "uploads" / "a.txt").read_bytes() == b"x"


def test_a_provider_written_on_the_proxy_subclasses_the_base_class(
    tmp_path: Path,
) -> None:
    class Outside(flask_store.Provider):  # no app context here
        pass

    app = make_app(tmp_path)
    Store(app)
    with app.app_context():
        assert flask_store.Provider == LocalProvider  # the proxy still resolves

        class Inside(flask_store.Provider):
            pass

    assert Outside.__mro__[1] is Provider
    assert Inside.__mro__[1] is Provider
