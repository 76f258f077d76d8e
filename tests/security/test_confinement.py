"""Whole-store operations stay inside the store: listing, the admin's browse
page and deleting orphans never see or touch what lies outside ``STORE_PATH``
(a symlink planted inside pointing out) or outside the S3 key prefix (keys
that merely start with the same letters)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from moto import mock_aws
from sqlalchemy import Integer, create_engine
from sqlalchemy.orm import DeclarativeBase, mapped_column, sessionmaker

from flask_store.sqla import FlaskStoreType, delete_orphans, init_session

from ..s3_support import create_bucket, s3_config
from .conftest import ADMIN, admin_app

OUTSIDE_KEYS = ["outside.txt", "tenant-other/a.txt", "tenant.txt", "tenantx/b.txt"]


class Base(DeclarativeBase):
    pass


class Kept(Base):
    __tablename__ = "confinement_kept"
    id = mapped_column(Integer, primary_key=True)
    file = mapped_column(FlaskStoreType(200))


def with_database(app: Flask, tmp_path: Path) -> sessionmaker[Any]:
    engine = create_engine(f"sqlite:///{tmp_path}/confinement.db")
    Base.metadata.create_all(engine)
    factory = sessionmaker(engine)
    init_session(factory, app)
    return factory


@pytest.fixture
def s3_tenant(tmp_path: Path) -> Iterator[tuple[Flask, Any]]:
    """An S3 app with the prefix ``tenant`` in a bucket shared with others."""
    with mock_aws():
        raw = create_bucket("shared-bucket")
        for key in OUTSIDE_KEYS:
            raw.put_object(Bucket="shared-bucket", Key=key, Body=b"not yours")
        config = s3_config("shared-bucket")
        config.pop("STORE_PROVIDER")
        app = admin_app(tmp_path, "s3", **config, STORE_PATH="tenant")
        yield app, raw


def all_keys(raw: Any) -> set[str]:
    listing = raw.list_objects_v2(Bucket="shared-bucket")
    return {o["Key"] for o in listing.get("Contents", [])}


def test_s3_listing_and_browsing_stay_under_the_prefix(
    s3_tenant: tuple[Flask, Any],
) -> None:
    app, raw = s3_tenant
    provider = app.extensions["store"].provider
    with app.app_context():
        provider(io.BytesIO(b"mine"), filename="mine.txt").save()
        assert [f.path for f in provider.iter_files()] == ["mine.txt"]
        assert [e.path for e in provider.list_folder().entries] == ["mine.txt"]
        with pytest.raises(ValueError):
            provider.list_folder("..")
    body = app.test_client().get(ADMIN + "/").get_data(as_text=True)
    assert "mine.txt" in body
    for key in OUTSIDE_KEYS:
        assert key.split("/")[0] not in body
    assert "tenant/mine.txt" in all_keys(raw)


def test_s3_orphan_deletion_never_leaves_the_prefix(
    s3_tenant: tuple[Flask, Any], tmp_path: Path
) -> None:
    app, raw = s3_tenant
    factory = with_database(app, tmp_path)
    provider = app.extensions["store"].provider
    with app.app_context():
        used = provider(io.BytesIO(b"used"), filename="used.txt").save()
        provider(io.BytesIO(b"orphan"), filename="orphan.txt").save()
        with factory() as session:
            session.add(Kept(file=used.relative_path))
            session.commit()
        deleted = [f.path for f in delete_orphans(app)]
    assert deleted == ["orphan.txt"]
    assert all_keys(raw) == set(OUTSIDE_KEYS) | {"tenant/used.txt"}


def test_local_orphan_deletion_never_follows_a_planted_symlink(
    tmp_path: Path,
) -> None:
    app = admin_app(tmp_path, "local")
    root = Path(app.config["STORE_PATH"])
    root.mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_bytes(b"precious")
    (root / "linked-dir").symlink_to(outside)
    (root / "linked-file.txt").symlink_to(outside / "precious.txt")
    factory = with_database(app, tmp_path)
    provider = app.extensions["store"].provider
    with app.app_context():
        provider(io.BytesIO(b"orphan"), filename="orphan.txt").save()
        with factory() as session:
            session.add(Kept(file=None))
            session.commit()
        assert [f.path for f in provider.iter_files()] == ["orphan.txt"]
        deleted = [f.path for f in delete_orphans(app)]
    assert deleted == ["orphan.txt"]
    assert (outside / "precious.txt").read_bytes() == b"precious"
    assert (root / "linked-file.txt").is_symlink()
    body = app.test_client().get(ADMIN + "/").get_data(as_text=True)
    assert "linked-file.txt" not in body and "precious" not in body
