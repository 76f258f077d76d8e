"""The mountable admin blueprint: browse, upload, delete, new folder, models.

::

    from flask_store.blueprint import blueprint as store_admin
    app.register_blueprint(store_admin, url_prefix="/admin/files")

The views live in :mod:`flask_store.admin.views` and the work they call in
the rest of :mod:`flask_store.admin`; this module keeps the import path.
"""

from __future__ import annotations

from .admin.views import (
    admin_form,
    after_change,
    blueprint,
    check_access,
    delete,
    download,
    error_message,
    filesize,
    first_error,
    form_errors,
    http_error,
    index,
    models_page,
    new_folder,
    render_browse,
    template_helpers,
    upload,
    wants_json,
)

#: The models page view, by its endpoint's name.
models = models_page

__all__ = [
    "admin_form",
    "after_change",
    "blueprint",
    "check_access",
    "delete",
    "download",
    "error_message",
    "filesize",
    "first_error",
    "form_errors",
    "http_error",
    "index",
    "models",
    "new_folder",
    "render_browse",
    "template_helpers",
    "upload",
    "wants_json",
]
