"""The admin's forms for renaming, moving and deleting folders and selections.

Only the CSRF token and the fields' names live here; what a value may be is
checked by :mod:`flask_store.admin.changes`, which answers with a message.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField


class MoveForm(FlaskForm):  # type: ignore[misc]
    """Rename or move the file or folder ``path``: to ``folder``/``name``."""

    path = HiddenField()
    folder = StringField("Folder")
    name = StringField("Name")
    next = HiddenField()


class FolderDeleteForm(FlaskForm):  # type: ignore[misc]
    """Delete the folder ``folder``; ``count`` and ``used_by`` say what the
    confirmation showed."""

    folder = HiddenField()
    confirmed = HiddenField()
    count = HiddenField()
    used_by = HiddenField()
    next = HiddenField()


class SelectionForm(FlaskForm):  # type: ignore[misc]
    """Delete or move the selected files (``paths``, one value each)."""

    action = HiddenField()
    target = StringField("Move to folder")
    confirmed = HiddenField()
    count = HiddenField()
    used_by = HiddenField()
    next = HiddenField()
