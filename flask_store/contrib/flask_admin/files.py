"""``StoreFileAdmin``: Flask-Admin's file manager over the app's store.

::

    from flask_admin import Admin
    from flask_store.contrib.flask_admin import StoreFileAdmin

    admin = Admin(app)
    admin.add_view(StoreFileAdmin(name="Files"))

It works with every provider (local, memory, S3), shows a folder one page at
a time, and keeps Flask-Store's guarantees (see :mod:`.storage`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, request
from flask_admin.base import expose
from flask_admin.contrib.fileadmin import BaseFileAdmin
from werkzeug.exceptions import BadRequest

from ... import names
from .storage import NEXT_AFTER, PAGE_AFTER, PathTaken, StoreFileStorage


def page_after(raw: str | None) -> str | None:
    """The ``after`` argument of a listing page; :class:`BadRequest` if bad.

    It is a ``next_after`` the previous page gave: one name (an S3 folder's
    ends with ``/``), never longer than a name may be.
    """
    if not raw:
        return None
    name = raw[:-1] if raw.endswith("/") else raw
    if (
        len(name.encode(errors="surrogatepass")) > names.MAX_NAME_BYTES
        or "/" in name
        or any(ord(char) < 32 or ord(char) == 127 for char in name)
    ):
        raise BadRequest(f"{raw!r} is not a page of this folder: start again.")
    return raw


class StoreFileAdmin(BaseFileAdmin):  # type: ignore[misc]
    """A Flask-Admin file view of the store (or of its folder ``location``).

    :param location: the folder of the store the view manages; ``""`` is
        the whole store.
    :param view_kwargs: ``BaseFileAdmin``'s arguments (``name``,
        ``category``, ``endpoint``, ``url``...).

    Set ``page_size`` on a subclass to show more or fewer entries a page.

    .. versionadded:: 1.0
    """

    list_template = "flask_store_admin/file_list.html"

    #: Entries per listing page.
    page_size = 200

    def __init__(self, location: str = "", **view_kwargs: Any) -> None:
        storage = StoreFileStorage(location, page_size=self.page_size)
        super().__init__(storage=storage, **view_kwargs)

    @property
    def store_storage(self) -> StoreFileStorage:
        storage: StoreFileStorage = self.storage
        return storage

    def create_blueprint(self, admin: Any) -> Blueprint:
        """Flask-Admin's blueprint, plus one that holds this view's templates."""
        blueprint: Blueprint = super().create_blueprint(admin)
        blueprint.register_blueprint(
            Blueprint("flask_store_templates", __name__, template_folder="templates")
        )
        return blueprint

    @expose("/")  # type: ignore[untyped-decorator]
    @expose("/b/<path:path>")  # type: ignore[untyped-decorator]
    def index_view(self, path: str | None = None) -> Any:
        """Flask-Admin's listing, one page at a time (``?after=`` a name)."""
        setattr(g, PAGE_AFTER, page_after(request.args.get("after")))
        return super().index_view(path)

    def render(self, template: str, **kwargs: Any) -> Any:
        if template == self.list_template:
            after = g.get(NEXT_AFTER)
            kwargs["next_page_url"] = after and self._get_dir_url(
                ".index_view",
                kwargs.get("dir_path"),
                after=after,
                sort=request.args.get("sort"),
                desc=request.args.get("desc"),
            )
        return super().render(template, **kwargs)

    def _save_form_files(self, directory: str, path: str, form: Any) -> None:
        """Save an upload under its safe name, refusing a name that is taken.

        Unlike Flask-Admin's check-then-save, the refusal is the save's own:
        two uploads of one name at once never replace each other.
        """
        name = names.secure_name(form.upload.data.filename or "")
        target = names.join_key(directory, name)
        self.save_file(target, form.upload.data)
        self.on_file_upload(directory, path, target)


__all__ = ["PathTaken", "StoreFileAdmin"]
