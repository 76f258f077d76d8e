"""Stored files that no row uses: finding them, and deleting them safely.

References are checked, under every spelling of a path, right before each
deletion, so a file a row started to use in the meantime is kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from .. import spelling
from ..backends.base import StoredFile
from ..state import store_state
from .references import (
    batches,
    bound_columns,
    referenced,
    session_executor,
    still_used,
)
from .session import get_session

if TYPE_CHECKING:
    from flask import Flask


def find_orphans(
    app: Flask,
    *,
    older_than: timedelta | None = None,
    non_canonical: list[StoredFile] | None = None,
) -> Iterator[StoredFile]:
    """Stored files that no FlaskStoreType column references.

    Files modified within ``older_than`` are spared: they may belong to a
    transaction still in progress. Walks the whole store with the provider's
    ``iter_files`` and checks it in batches, for every provider.

    A file whose path is not canonical (see
    :func:`flask_store.spelling.is_canonical`: an S3 key with an empty or ``.``
    part, a name in NFD) is never called an orphan: Flask-Store would address
    it under another spelling, maybe a file a row uses. Such files are
    appended to ``non_canonical`` when it is given, for people to look at.

    :raises RuntimeError: when the app has no session (see
        :func:`~flask_store.sqla.get_session`) or no FlaskStoreType column is
        mapped: without them every file would look orphaned.
    """
    session = get_session(app)
    if session is None:
        raise RuntimeError(
            "Flask-Store has no SQLAlchemy session for this app: use "
            "Flask-SQLAlchemy or call flask_store.sqla.init_session(session, app)."
        )
    columns = bound_columns(session, app)
    if not columns:
        raise RuntimeError(
            "No FlaskStoreType column is mapped to a table in this app's database "
            "(are the models imported and the tables created?); refusing to call "
            "every stored file an orphan."
        )
    cutoff = datetime.now(timezone.utc) - older_than if older_than is not None else None
    execute = session_executor(session)
    files = store_state(app).backend.iter_files("")
    with session.no_autoflush:
        for batch in batches(files):
            canonical = []
            for stored in batch:
                if spelling.is_canonical(stored.path):
                    canonical.append(stored)
                elif non_canonical is not None:
                    non_canonical.append(stored)
            used = referenced(columns, {f.path for f in canonical}, execute)
            for stored in canonical:
                if stored.path in used or not _old_enough(stored, cutoff):
                    continue
                yield stored


def _old_enough(stored: StoredFile, cutoff: datetime | None) -> bool:
    if cutoff is None:
        return True
    modified = stored.modified
    if modified is None:  # unknown age: spare it
        return False
    if modified.tzinfo is None:
        modified = modified.replace(tzinfo=timezone.utc)
    return modified <= cutoff


def delete_unused(app: Flask, paths: list[str]) -> Iterator[tuple[str, str]]:
    """Delete each of ``paths`` that no row uses, yielding ``(path, outcome)``.

    The outcome is ``"deleted"``, ``"used"`` (a row uses it now: kept),
    ``"missing"`` or ``"non-canonical"`` (not a canonical stored path: kept,
    since deleting it would delete the file under another spelling).
    References are checked, under every spelling, for each path right
    before it is deleted, and the file deleted is exactly the one checked,
    so a row that started to use a file while a list of orphans was read,
    or while the files before it were deleted, keeps its file.
    """
    session = get_session(app)
    columns = bound_columns(session, app) if session is not None else []
    provider_class = store_state(app).provider
    for path in paths:
        provider = (
            provider_class(path, app=app) if spelling.is_canonical(path) else None
        )
        if provider is None or provider.relative_path != path:
            yield path, "non-canonical"
            continue
        if session is not None and columns:
            with session.no_autoflush:  # checked right before its deletion
                used = still_used(columns, path, session_executor(session))
            if used:
                yield path, "used"
                continue
        try:
            provider.delete()
        except FileNotFoundError:  # StoredFileNotFound, or a custom provider's
            yield path, "missing"
        else:
            yield path, "deleted"


def delete_orphans(
    app: Flask, *, older_than: timedelta | None = None
) -> list[StoredFile]:
    """Delete the files :func:`find_orphans` finds; return the ones deleted."""
    orphans = list(find_orphans(app, older_than=older_than))
    outcomes = dict(delete_unused(app, [stored.path for stored in orphans]))
    return [stored for stored in orphans if outcomes[stored.path] == "deleted"]
