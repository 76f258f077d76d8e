"""Flask-Admin's own file admin test suite, run against StoreFileAdmin.

``Base.FileAdminTests`` ships in Flask-Admin's wheel; Flask-Admin's local,
S3 and Azure storages subclass it the same way. Its ``admin`` and ``babel``
fixtures are imported from Flask-Admin's conftest into this module. Not the
whole conftest as a plugin (``pytest_plugins``): a plugin is registered for
the whole session, and on Python < 3.12 its autouse ``_sqlite_isolation``
changes every SQLAlchemy engine's transactions for every other test. Its
``app`` fixture is replaced here by an app with Flask-Store on each
provider, holding ``dummy.txt`` as Flask-Admin's ``files`` folder does.
"""

from __future__ import annotations

import io
import typing as t
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_admin.tests.conftest import admin, babel  # noqa: F401 (fixtures)
from flask_admin.tests.fileadmin.test_fileadmin import Base

from flask_store.contrib.flask_admin import StoreFileAdmin
from flask_store.state import current_state

from . import s3_support
from .contrib.flask_admin_support import KINDS, admin_app

moto_server = s3_support.moto_server

#: Flask-Admin's fixture file, stored in every app under the same name.
DUMMY = Path(Base.FileAdminTests._test_files_root) / "dummy.txt"


@pytest.fixture(params=KINDS)
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    with admin_app(request.param, tmp_path, request) as app:
        current_state().backend.write(io.BytesIO(DUMMY.read_bytes()), ["dummy.txt"])
        yield app


class TestStoreFileAdmin(Base.FileAdminTests):  # type: ignore[misc]
    def fileadmin_class(self) -> type[StoreFileAdmin]:  # type: ignore[override]
        return StoreFileAdmin

    def fileadmin_args(self) -> tuple[tuple[t.Any, ...], dict[str, t.Any]]:
        return (), {}
