"""The admin's logic, one job per module, callable without a request.

- :mod:`~flask_store.admin.access`: ``STORE_ADMIN_ACCESS`` and CSRF.
- :mod:`~flask_store.admin.browsing`: the browse page's query, pages,
  breadcrumbs and previews.
- :mod:`~flask_store.admin.actions`: uploads, new folders, deletions and
  where to go after a change.
- :mod:`~flask_store.admin.models`: the SQLAlchemy rows that use files.
- :mod:`~flask_store.admin.messages`: what the admin says to people.
- :mod:`~flask_store.admin.views`: the thin views and the blueprint, also
  importable as ``from flask_store.blueprint import blueprint``.

Importing this package loads neither the views (Flask-WTF) nor SQLAlchemy.
"""

from __future__ import annotations

from ..access import access_decision
from .access import (
    AdminAccessDenied,
    admin_allowed,
    check_access,
    csrf_enabled,
)
from .actions import (
    join_folder,
    parse_used_by,
    raise_no_room,
    safe_next,
    save_uploads,
    stored_provider,
    stream_size,
    uploaded_json,
)
from .browsing import (
    MAX_BACK_CHARS,
    MAX_PAGE_SIZE,
    PAGE_SIZES,
    PREVIEW_TYPES,
    Browse,
    BrowseQuery,
    breadcrumbs,
    browse,
    is_previewable,
    parent_folder,
    trim_back,
)
from .messages import confirm_message
from .models import (
    FileValue,
    ModelRows,
    file_columns,
    file_usage,
    file_value,
    model_listing,
    model_rows,
    parse_page,
    row_anchor,
    row_key,
    row_label,
    usage_labels,
)

__all__ = [
    "MAX_BACK_CHARS",
    "MAX_PAGE_SIZE",
    "PAGE_SIZES",
    "PREVIEW_TYPES",
    "AdminAccessDenied",
    "Browse",
    "BrowseQuery",
    "FileValue",
    "ModelRows",
    "access_decision",
    "admin_allowed",
    "breadcrumbs",
    "browse",
    "check_access",
    "confirm_message",
    "csrf_enabled",
    "file_columns",
    "file_usage",
    "file_value",
    "is_previewable",
    "join_folder",
    "model_listing",
    "model_rows",
    "parent_folder",
    "parse_page",
    "parse_used_by",
    "raise_no_room",
    "row_anchor",
    "row_key",
    "row_label",
    "safe_next",
    "save_uploads",
    "stored_provider",
    "stream_size",
    "trim_back",
    "uploaded_json",
    "usage_labels",
]
