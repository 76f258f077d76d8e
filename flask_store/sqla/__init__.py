"""A SQLAlchemy column type that ties stored files to rows.

::

    from flask_store.sqla import FlaskStoreType

    class Document(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        file = db.Column(FlaskStoreType(128, location="documents"))

The column keeps the file's relative path. An upload assigned to it is saved
when the row is flushed, inside the session's transaction: a rollback deletes
it again, and with ``STORE_DELETE_ORPHANS`` a file a row stops using is deleted
once the commit has happened. Flask-SQLAlchemy sessions are hooked
automatically; plain SQLAlchemy sessions are hooked with :func:`init_session`.

Needs the ``sqla`` extra (``pip install Flask-Store[sqla]``). One job per
module: :mod:`~flask_store.sqla.types` (the column type),
:mod:`~flask_store.sqla.registry` (which attributes hold files),
:mod:`~flask_store.sqla.tracking` (session hooks),
:mod:`~flask_store.sqla.session` (which session an app uses),
:mod:`~flask_store.sqla.references` (which rows use a file) and
:mod:`~flask_store.sqla.orphans` (files no row uses).
"""

from __future__ import annotations

try:
    import sqlalchemy  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "flask_store.sqla needs SQLAlchemy 2.0 or later: install the extra with "
        "'pip install Flask-Store[sqla]'."
    ) from error

from .context import APP_KEY
from .orphans import delete_orphans, delete_unused, find_orphans
from .references import BATCH_SIZE, file_defers, raw_column, rows_using
from .registry import FileColumn
from .session import file_columns, get_session, init_session
from .tracking import SessionTarget
from .types import FlaskStoreType

__all__ = [
    "APP_KEY",
    "BATCH_SIZE",
    "FileColumn",
    "FlaskStoreType",
    "SessionTarget",
    "delete_orphans",
    "delete_unused",
    "file_columns",
    "file_defers",
    "find_orphans",
    "get_session",
    "init_session",
    "raw_column",
    "rows_using",
]
