"""``StoreUploadField``: a form field for a ``FlaskStoreType`` column.

It shows the file the row holds (a link, its size, a thumbnail for images)
with a checkbox to remove it, and a file input to replace it. On
``populate_obj`` a chosen file is assigned to the column as an upload (the
column type saves it when the row is flushed; a rollback deletes it again,
and with ``STORE_DELETE_ORPHANS`` the replaced file is deleted after the
commit), the checkbox assigns ``None``, and nothing chosen keeps the file.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from markupsafe import Markup
from werkzeug.datastructures import FileStorage
from wtforms import fields, validators
from wtforms.widgets import html_params

from ... import admin, rules
from ...content import guess_type
from ...humanize import human_size
from ...providers.base import Provider

#: Validators a file field cannot use: "no file chosen" means "keep" when a
#: row has a file. The field checks that a required column gets one itself.
_REQUIRING = (validators.InputRequired, validators.DataRequired)

REQUIRED_MESSAGE = "Choose a file: this column needs one."


def file_url(provider: Provider) -> str:
    """Where a browser can fetch the stored file (a presigned URL on S3)."""
    presigned = getattr(provider, "presigned_url", None)
    if callable(presigned):
        return str(presigned())
    return provider.absolute_url


def file_link(provider: Provider) -> Markup:
    """A link to the stored file, named by its file name."""
    return Markup('<a href="{}" rel="noopener">{}</a>').format(
        file_url(provider), provider.filename
    )


def stored_size(provider: Provider) -> str:
    """The file's size for people, or why it is unknown."""
    try:
        return human_size(provider.size)
    except FileNotFoundError:
        return "missing from the store"


class StoreFileInput:
    """The widget: the current file with a remove checkbox, then a file input."""

    #: Flask-Admin's form templates read it to style the field.
    input_type = "file"

    def __call__(self, field: StoreUploadField, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        accept = rules.upload_rules(current_app.config)["accept"]
        if accept:
            kwargs.setdefault("accept", accept)
        parts = []
        current = field.current
        if current is not None:
            parts.append(self.current_file(field, current))
        parts.append(
            Markup("<input {}>").format(
                html_params(type="file", name=field.name, **kwargs)
            )
        )
        return Markup("").join(parts)

    def current_file(self, field: StoreUploadField, current: Provider) -> Markup:
        thumbnail = Markup("")
        if guess_type(current.filename) in admin.PREVIEW_TYPES:
            thumbnail = Markup(
                '<img src="{}" alt="" class="flask-store-thumbnail" '
                'style="max-height:6em;max-width:12em;display:block">'
            ).format(file_url(current))
        return Markup(
            '<div class="flask-store-current">{} {} ({})'
            '<label class="ml-2"><input type="checkbox" name="{}" value="y"> '
            "Remove the file</label></div>"
        ).format(
            thumbnail,
            file_link(current),
            stored_size(current),
            field.remove_name,
        )


class StoreUploadField(fields.FileField):  # type: ignore[misc]
    """An upload field for a ``FlaskStoreType`` column (see the module).

    Use it in ``form_overrides`` of a plain ``ModelView``, or let
    :class:`~flask_store.contrib.flask_admin.StoreModelConverter` pick every
    ``FlaskStoreType`` column up. Uploads are checked against
    ``STORE_ALLOWED_EXTENSIONS`` and ``STORE_MAX_SIZE``.

    :param required: the row must hold a file (a column that is not nullable).

    .. versionadded:: 1.0
    """

    widget = StoreFileInput()

    def __init__(
        self,
        label: str | None = None,
        validators: list[Any] | tuple[Any, ...] | None = None,
        *,
        required: bool = False,
        **kwargs: Any,
    ) -> None:
        kept = [v for v in validators or () if not isinstance(v, _REQUIRING)]
        super().__init__(label, kept, **kwargs)
        self.required = required or len(kept) != len(validators or ())
        self.remove = False

    @property
    def remove_name(self) -> str:
        """The name of the remove checkbox."""
        return f"{self.name}-remove"

    @property
    def current(self) -> Provider | None:
        """The file the row holds, if any."""
        data = self.object_data
        return data if isinstance(data, Provider) else None

    @property
    def upload(self) -> FileStorage | None:
        """The file chosen in the form, if any."""
        data = self.data
        if isinstance(data, FileStorage) and data.filename:
            return data
        return None

    def process(
        self, formdata: Any, data: Any = fields.core.unset_value, **kwargs: Any
    ) -> None:
        super().process(formdata, data, **kwargs)
        self.remove = bool(formdata and formdata.get(self.remove_name))

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = next((v for v in valuelist if isinstance(v, FileStorage)), None)

    def pre_validate(self, form: Any) -> None:
        upload = self.upload
        if upload is not None:
            size = admin.stream_size(upload)
            reason = rules.refusal(upload.filename or "", size or 0, current_app.config)
            if reason is not None:
                raise validators.StopValidation(reason)
        elif self.required and (self.remove or self.current is None):
            raise validators.StopValidation(REQUIRED_MESSAGE)

    def populate_obj(self, obj: Any, name: str) -> None:
        upload = self.upload
        if upload is not None:
            setattr(obj, name, upload)
        elif self.remove:
            setattr(obj, name, None)
