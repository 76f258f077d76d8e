"""Flask-Admin views over Flask-Store.

::

    from flask_admin import Admin
    from flask_store.contrib.flask_admin import StoreFileAdmin, StoreModelView

    admin = Admin(app)
    admin.add_view(StoreFileAdmin(name="Files"))
    admin.add_view(StoreModelView(Document, db.session))

- :class:`StoreFileAdmin` (:mod:`.files`, :mod:`.storage`): Flask-Admin's
  file manager over the app's provider, paged, with Flask-Store's guarantees.
- :class:`StoreModelView` (:mod:`.models`): a SQLAlchemy ``ModelView`` whose
  ``FlaskStoreType`` columns are upload fields (:class:`StoreUploadField`,
  :mod:`.fields`) showing the current file, with a remove checkbox.

Needs the ``flask-admin`` extra (``pip install Flask-Store[flask-admin]``).
"""

from __future__ import annotations

try:
    import flask_admin  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "flask_store.contrib.flask_admin needs Flask-Admin 2.2 or later: install "
        "the extra with 'pip install Flask-Store[flask-admin]'."
    ) from error

import importlib
from typing import TYPE_CHECKING, Any

from .fields import StoreUploadField
from .files import StoreFileAdmin
from .storage import FileInUse, PathTaken, StoreFileStorage

if TYPE_CHECKING:
    from .models import StoreModelConverter, StoreModelView

__all__ = [
    "FileInUse",
    "PathTaken",
    "StoreFileAdmin",
    "StoreFileStorage",
    "StoreModelConverter",
    "StoreModelView",
    "StoreUploadField",
]

#: Names from :mod:`.models`, imported when first used: they need SQLAlchemy,
#: which an app that only manages files with :class:`StoreFileAdmin` may lack.
_SQLALCHEMY_NAMES = frozenset({"StoreModelConverter", "StoreModelView"})


def __getattr__(name: str) -> Any:
    if name in _SQLALCHEMY_NAMES:
        return getattr(importlib.import_module(f"{__name__}.models"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
