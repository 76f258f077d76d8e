"""Upload and admin forms (Flask-WTF), validated against the app's config.

``UploadForm`` reads ``STORE_ALLOWED_EXTENSIONS``, ``STORE_ALLOWED_TYPES``,
``STORE_MAX_SIZE`` and ``STORE_CHECK_CONTENT_MATCHES_NAME`` when it validates,
not when it is defined, so one form class serves every app and follows
config changes.

Its ``file`` field, and :class:`StoreFileField` for an app's own forms, take
posted files and *receipts* alike: the value a page's script posts in place
of a file it uploaded itself (:mod:`flask_store.direct`). A receipt becomes
the stored file (a provider), checked by the same rules, by its content read
from storage; a refused one is deleted.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.file import (
    FileAllowed,
    FileField,
    FileRequired,
    FileSize,
    MultipleFileField,
)
from werkzeug.datastructures import FileStorage
from wtforms import Field, Form, HiddenField, StringField
from wtforms.validators import (
    DataRequired,
    Length,
    Optional,
    StopValidation,
    ValidationError,
)

from . import names, spelling
from .direct.received import discard, receive, refusal_of
from .exceptions import BadUploadToken
from .humanize import human_size
from .metadata import peek
from .providers.base import Provider
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
    "StoreFileField",
    "StoreFileRules",
    "StoreFilesField",
    "UploadForm",
    "UploadRequired",
    "allowed_extensions",
    "human_size",
    "upload_rules",
    "valid_folder_name",
    "valid_location",
    "valid_stored_path",
]


#: A posted file, or a file a receipt names, already stored.
Upload = FileStorage | Provider


def read_uploads(field: Field, values: list[Any]) -> list[Upload]:
    """The files among a field's posted ``values``: each non-empty upload,
    and the stored file each receipt (a text value) names.

    A forged or expired receipt is one of the field's errors.
    """
    uploads: list[Upload] = []
    for value in values:
        if isinstance(value, FileStorage):
            if value:
                uploads.append(value)
        elif isinstance(value, str) and value.strip():
            try:
                uploads.append(receive(value.strip()))
            except BadUploadToken as exc:
                field.process_errors.append(str(exc.description))
    return uploads


def upload_errors(
    form: Form | None, field: Field, uploads: list[Upload]
) -> dict[str, list[str]]:
    """Why the app's upload rules refuse each of ``uploads``, by file name.

    A posted file is checked with Flask-WTF's :class:`FileAllowed` and
    :class:`FileSize`, built from ``STORE_ALLOWED_EXTENSIONS`` and
    ``STORE_MAX_SIZE``, then by its first bytes
    (:func:`flask_store.rules.content_refusal`). A received file gets the
    same checks, its first bytes read from storage, and is deleted when
    refused, so nothing refused is kept.
    """
    config = current_app.config
    allowed = allowed_extensions(config)
    max_size = config.get("STORE_MAX_SIZE")
    file_errors: dict[str, list[str]] = {}
    for upload in uploads:
        if isinstance(upload, Provider):
            reason = refusal_of(upload, config)
            if reason is not None:
                discard(upload)
                file_errors.setdefault(upload.filename, []).append(reason)
            continue
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
        if name not in file_errors:
            reason = content_refusal(name, peek(upload.stream), config)
            if reason is not None:
                file_errors[name] = [reason]
    return file_errors


def raise_errors(field: Field, file_errors: dict[str, list[str]]) -> None:
    """Put every message of ``file_errors`` on ``field``, the last one raised."""
    if file_errors:
        messages = [m for errors in file_errors.values() for m in errors]
        field.errors.extend(messages[:-1])
        raise ValidationError(messages[-1])


def check_folder(uploads: list[Upload], location: str) -> dict[str, list[str]]:
    """Refuse (and delete) each received file not stored in ``location``:
    its page was granted another folder than the form says."""
    file_errors: dict[str, list[str]] = {}
    for upload in uploads:
        if isinstance(upload, Provider) and upload.location != location:
            discard(upload)
            file_errors[upload.filename] = [
                f"{upload.filename} was uploaded to the folder "
                f"{upload.location or '(top)'!r}, not {location or '(top)'!r}: "
                "upload it again."
            ]
    return file_errors


class StoreFileRules:
    """Check each file of a field against the current app's Flask-Store config.

    Posted files and received ones (receipts) alike: see :func:`upload_errors`.
    Every refused file gets its own message naming it; the messages are also
    kept, per file name, in ``form.file_errors``.
    """

    def __call__(self, form: Form, field: Field) -> None:
        data = field.data if isinstance(field.data, list) else [field.data]
        file_errors = upload_errors(form, field, [u for u in data if u])
        form.file_errors = file_errors
        raise_errors(field, file_errors)


class UploadRequired(FileRequired):  # type: ignore[misc]
    """At least one file, posted or received (a receipt).

    A field whose receipts were all refused says so, and only that.

    .. versionadded:: 1.0
    """

    def __call__(self, form: Form, field: Field) -> None:
        data = field.data if isinstance(field.data, list) else [field.data]
        if not any(data):
            raise StopValidation(
                None
                if field.process_errors
                else self.message or field.gettext("This field is required.")
            )


class StoreFilesField(MultipleFileField):  # type: ignore[misc]
    """Several files: posted, or received as receipts (see the module).

    ``data`` is a list of :class:`~werkzeug.datastructures.FileStorage` and
    providers of received files; ``store.Provider(item, location=...).save()``
    takes either.

    .. versionadded:: 1.0
    """

    def process_formdata(self, valuelist: list[Any]) -> None:
        uploads = read_uploads(self, valuelist)
        if uploads:
            self.data = uploads
        else:
            self.raw_data = ()


class StoreFileField(FileField):  # type: ignore[misc]
    """One file for a ``FlaskStoreType`` column: posted, or received (a receipt).

    ``data`` is a :class:`~werkzeug.datastructures.FileStorage`, the provider
    of a received file, or ``None``; assign it to the column as it is. The
    upload rules (:class:`StoreFileRules`) always apply; add
    ``DataRequired()`` to make the field required.

    :param location: the folder a received file must be stored in (the one
        its page's grant named); any folder when ``None``.

    .. versionadded:: 1.0
    """

    def __init__(self, *args: Any, location: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.location = None if location is None else names.clean_location(location)

    def process_formdata(self, valuelist: list[Any]) -> None:
        uploads = read_uploads(self, valuelist)
        if uploads:
            self.data = uploads[0]
        else:
            self.raw_data = ()

    def pre_validate(self, form: Form) -> None:
        if not self.data:
            return
        uploads = [self.data]
        file_errors = upload_errors(form, self, uploads)
        if not file_errors and self.location is not None:
            file_errors = check_folder(uploads, self.location)
        raise_errors(self, file_errors)


def valid_location(form: Form, field: Field) -> None:
    """Validate a folder with :func:`flask_store.names.clean_location`."""
    try:
        field.data = names.clean_location(field.data or "")
    except (TypeError, ValueError) as exc:
        raise ValidationError(str(exc)) from None


def valid_stored_path(form: Form, field: Field) -> None:
    """Validate the relative path of a stored file."""
    try:
        spelling.split_stored_path(field.data or "")
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

    ``file`` is checked against ``STORE_ALLOWED_EXTENSIONS``,
    ``STORE_ALLOWED_TYPES`` and ``STORE_MAX_SIZE``; ``location`` must be a
    relative folder. ``file`` also takes receipts (:class:`StoreFilesField`):
    a received file must be stored in ``location``, and saving it returns it
    unchanged.
    """

    file = StoreFilesField(
        "Files",
        validators=[
            UploadRequired("Choose at least one file to upload."),
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

    def validate(self, extra_validators: Any = None) -> bool:
        """Validate the fields, then refuse received files stored elsewhere
        than ``location``."""
        if not super().validate(extra_validators):
            return False
        file_errors = check_folder(self.file.data or [], self.location.data or "")
        if not file_errors:
            return True
        self.file_errors = file_errors
        self.file.errors = [m for errors in file_errors.values() for m in errors]
        return False


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
