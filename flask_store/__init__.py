"""Flask-Store: file uploads and storage for Flask.

::

    from flask_store import Store

    store = Store(app)
    provider = store.Provider(request.files["afile"])
    provider.save()
    provider.absolute_url
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.local import LocalProxy

from .extension import Store, StoreState, store_provider

if TYPE_CHECKING:
    from .providers.base import Provider as _Provider

__version__ = "1.0.0.dev0"

#: The current app's provider class, as ``from flask_store import Provider``.
Provider: type[_Provider] = LocalProxy(store_provider)  # type: ignore[assignment]

__all__ = ["Provider", "Store", "StoreState", "store_provider"]
