"""``StoreModelView``: Flask-Admin's SQLAlchemy ``ModelView`` for models with
``FlaskStoreType`` columns.

Flask-Admin's own converter leaves such columns out of the form (it knows
no field for the type). :class:`StoreModelConverter` turns each into a
:class:`~.fields.StoreUploadField`; a plain ``ModelView`` subclass picks it up
with one line::

    class DocumentView(ModelView):
        model_form_converter = StoreModelConverter

:class:`StoreModelView` is that, plus a list-view formatter that links each
row's files.
"""

from __future__ import annotations

from typing import Any

from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.model.form import converts
from markupsafe import Markup
from sqlalchemy import inspect

from ...providers.base import Provider
from ...sqla import FlaskStoreType
from .fields import StoreUploadField, file_link


class StoreModelConverter(AdminModelConverter):  # type: ignore[misc]
    """Flask-Admin's SQLAlchemy converter, with a field for ``FlaskStoreType``.

    .. versionadded:: 1.0
    """

    @converts("flask_store.sqla.types.FlaskStoreType")  # type: ignore[untyped-decorator]
    def conv_flask_store(
        self, column: Any, field_args: dict[str, Any], **extra: Any
    ) -> StoreUploadField:
        return StoreUploadField(required=not column.nullable, **field_args)


def file_column_names(model: type) -> list[str]:
    """The attributes of ``model`` mapped to ``FlaskStoreType`` columns."""
    mapper: Any = inspect(model)
    return [
        attribute.key
        for attribute in mapper.column_attrs
        if any(isinstance(c.type, FlaskStoreType) for c in attribute.columns)
    ]


def file_formatter(view: Any, context: Any, model: Any, name: str) -> Markup:
    """A list-view cell: a link to the row's file, or nothing.

    Reading the column builds a provider without any storage I/O, so a list
    page costs no request per row.
    """
    value = getattr(model, name)
    return file_link(value) if isinstance(value, Provider) else Markup("")


class StoreModelView(ModelView):  # type: ignore[misc]
    """A ``ModelView`` whose ``FlaskStoreType`` columns are upload fields.

    Each shows the row's file (link, size, a thumbnail for images) with a
    remove checkbox; the list view links the files. Formatters given in
    ``column_formatters`` win over the file links.

    .. versionadded:: 1.0
    """

    model_form_converter = StoreModelConverter

    def __init__(self, model: type, *args: Any, **kwargs: Any) -> None:
        formatters = dict.fromkeys(file_column_names(model), file_formatter)
        given: dict[str, Any] = dict(getattr(self, "column_formatters", None) or {})
        self.column_formatters = {**formatters, **given}
        super().__init__(model, *args, **kwargs)
