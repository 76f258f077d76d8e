"""The example app's optional Flask-Admin views, at ``/flask-admin/``.

Enabled when Flask-Admin is installed (``pip install
"Flask-Store[flask-admin]"``): the documents with upload fields for their
files, and the store's files, both behind the example's login. Every form
carries a CSRF token (Flask-Admin's ``SecureForm``).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, redirect

from .auth import logged_in, login_url
from .models import Document, db

try:
    from flask_admin import Admin, AdminIndexView
    from flask_admin.form import SecureForm
    from flask_admin.theme import Bootstrap4Theme

    from flask_store.contrib.flask_admin import StoreFileAdmin, StoreModelView
except ImportError:  # Flask-Admin is optional
    Admin = None

URL = "/flask-admin"
#: No bulk actions: Flask-Admin's row checkboxes for them have no label (a
#: title at most). Each row keeps its own delete button.
NO_BULK_ACTIONS = ("delete",)


def init_app(app: Flask) -> None:
    """Add the Flask-Admin views to ``app`` when Flask-Admin is installed."""
    if Admin is None:
        return
    admin = Admin(
        app,
        name="Flask-Store example",
        url=URL,
        index_view=IndexView(url=URL),
        # Our page around every view: a document in English with landmarks
        # and an h1, which Flask-Admin's own base template does not give.
        theme=Bootstrap4Theme(base_template="example_admin/base.html"),
    )
    admin.add_view(DocumentView(Document, db, name="Documents"))
    admin.add_view(FilesView(name="Files", endpoint="store_files"))


if Admin is not None:

    class LoginRequired:
        """Only a logged-in user sees the views; others go to the login."""

        def is_accessible(self) -> bool:
            return logged_in()

        def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
            return redirect(login_url())

    class IndexView(LoginRequired, AdminIndexView):  # type: ignore[misc]
        pass

    class DocumentView(LoginRequired, StoreModelView):
        form_base_class = SecureForm
        column_list = ("title", "attachment", "image", "created")
        form_excluded_columns = ("created",)
        list_template = "example_admin/model_list.html"
        action_disallowed_list = NO_BULK_ACTIONS

    class FilesView(LoginRequired, StoreFileAdmin):
        form_base_class = SecureForm
        list_template = "example_admin/file_list.html"
        upload_template = mkdir_template = "example_admin/file_form.html"
        rename_template = edit_template = "example_admin/file_form.html"

        def is_action_allowed(self, name: str) -> bool:
            # Flask-Admin's file admin does not read action_disallowed_list.
            return name not in NO_BULK_ACTIONS and super().is_action_allowed(name)
