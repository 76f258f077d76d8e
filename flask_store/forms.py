"""Upload and admin forms (Flask-WTF), validated against the app's config.

``UploadForm`` reads ``STORE_ALLOWED_EXTENSIONS``, ``STORE_ALLOWED_TYPES``,
``STORE_MAX_SIZE`` and ``STORE_CHECK_CONTENT_MATCHES_NAME`` when it validates, not when it is defined, so one form class serves every app and
follows config changes.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileRequired, FileSize, MultipleFileField
from werkzeug.datastructures import FileStorage
from wtforms import Field, Form, HiddenField, StringField
from wtforms.validators import (
    DataRequired,
    Length,
    Optional,
    StopValidation,
    ValidationError,
)

from . import names
from .humanize import human_size
from .metadata import peek
from .rules import (
    allowed_extensions,
    content_refusal,
    not_allowed_message,
    too_large_message,
    upload_rules,
)

__all__ = [
    "DeleteForm",
    "FolderForm",
    "StoreFileRules",
    "UploadForm",
    "allowed_extensions",
    "human_size",
    "upload_rules",
    "valid_folder_name",
    "valid_location",
    "valid_stored_path",
]


class StoreFileRules:
    """Check each uploaded file against the current app's Flask-Store config.

    The checks themselves are Flask-WTF's :class:`FileAllowed` and
    :class:`FileSize`, built at validation time from
    ``STORE_ALLOWED_EXTENSIONS`` and ``STORE_MAX_SIZE`` and run per file, so
    every refused file gets its own message naming it. A file that passes
    them has its first bytes checked (:func:`flask_store.rules.content_refusal`:
    ``STORE_ALLOWED_TYPES``, content that contradicts the name). The messages
    are also kept, per file name, in ``form.file_errors``.
    """

    def __call__(self, form: Form, field: Field) -> None:
        uploads: list[FileStorage] = (
            field.data if isinstance(field.data, list) else [field.data]
        )
        config = current_app.config
        allowed = allowed_extensions(config)
        max_size = config.get("STORE_MAX_SIZE")
        file_errors: dict[str, list[str]] = {}
        for upload in uploads:
            name = upload.filename or ""
            checks: list[Any] = []
            if allowed is not None:
                checks.append(FileAllowed(allowed, not_allowed_message(name, allowed)))
            if max_size is not None:
                checks.append(
                    FileSize(int(max_size), message=too_large_message(name, max_size))
                )
            # Flask-WTF's validators read field.data: give each one file.
            single = copy.copy(field)
            single.data = upload
            for check in checks:
                try:
                    check(form, single)
                except (ValidationError, StopValidation) as exc:
                    file_errors.setdefault(name, []).append(str(exc))
            if name not in file_errors and isinstance(upload, FileStorage):
                reason = content_refusal(name, peek(upload.stream), config)
                if reason is not None:
                    file_errors[name] = [reason]
        form.file_errors = file_errors
        if file_errors:
            messages = [m for errors in file_errors.values() for m in errors]
            field.errors.extend(messages[:-1])
            raise ValidationError(messages[-1])


def valid_location(form: Form, field: Field) -> None:
    """Validate a folder with :func:`flask_store.names.clean_location`."""
    try:
        field.data = names.clean_location(field.data or "")
    except (TypeError, ValueError) as exc:
        raise ValidationError(str(exc)) from None


def valid_stored_path(form: Form, field: Field) -> None:
    """Validate the relative path of a stored file."""
    try:
        names.split_stored_path(field.data or "")
    except (TypeError, ValueError) as exc:
        raise ValidationError(str(exc)) from None


def valid_folder_name(form: Form, field: Field) -> None:
    """A new folder's name: one path segment that listings will show."""
    name = (field.data or "").strip()
    if "/" in name or "\\" in name:
        raise ValidationError("A folder name may not contain slashes.")
    if names.is_hidden_name(name):
        raise ValidationError("A folder name may not start with a dot.")
    try:
        field.data = names.clean_location(name)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    if not field.data:
        raise ValidationError("Give the new folder a name.")


class UploadForm(FlaskForm):  # type: ignore[misc]
    """Upload one or more files, optionally into a folder.

    ::

        form = UploadForm()
        if form.validate_on_submit():
            for upload in form.file.data:
                store.Provider(upload, location=form.location.data).save()

    ``file`` is checked against ``STORE_ALLOWED_EXTENSIONS`` and
    ``STORE_MAX_SIZE``; ``location`` must be a relative folder.
    """

    file = MultipleFileField(
        "Files",
        validators=[
            FileRequired("Choose at least one file to upload."),
            StoreFileRules(),
        ],
    )
    location = StringField(
        "Folder", validators=[Optional(strip_whitespace=False), valid_location]
    )

    #: Messages per refused file name, filled in by validation.
    file_errors: dict[str, list[str]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.file_errors = {}


class DeleteForm(FlaskForm):  # type: ignore[misc]
    """Delete one stored file; ``confirmed`` is set by the confirmation step."""

    path = HiddenField("File", validators=[DataRequired(), valid_stored_path])
    confirmed = HiddenField()
    #: The rows the confirmation named, as a JSON list: a row using the file
    #: that is not among them asks for a new confirmation.
    used_by = HiddenField()
    next = HiddenField()


class FolderForm(FlaskForm):  # type: ignore[misc]
    """Create a folder named ``name`` inside ``location``."""

    location = HiddenField(
        "In folder", validators=[Optional(strip_whitespace=False), valid_location]
    )
    name = StringField(
        "New folder",
        validators=[
            DataRequired("Give the new folder a name."),
            Length(max=255),
            valid_folder_name,
        ],
    )
    next = HiddenField()
