"""Flask-Store: file uploads and storage for Flask.

::

    from flask_store import Store

    store = Store(app)
    provider = store.Provider(request.files["afile"])
    provider.save()
    provider.absolute_url
"""

from __future__ import annotations

import importlib.metadata
from typing import TYPE_CHECKING, Any

from werkzeug.local import LocalProxy

from .extension import Store, StoreState, store_provider
from .providers.base import Provider as _BaseProvider

if TYPE_CHECKING:
    from .providers.base import Provider as _Provider


class _ProviderProxy(LocalProxy):  # type: ignore[type-arg]
    """The current app's provider class; a class written on it subclasses
    :class:`flask_store.providers.Provider`, in an app context or not."""

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[type]:
        return (_BaseProvider,)


#: The current app's provider class, as ``from flask_store import Provider``.
Provider: type[_Provider] = _ProviderProxy(store_provider)  # type: ignore[assignment]

__all__ = ["Provider", "Store", "StoreState", "store_provider"]


def __getattr__(name: str) -> Any:
    # The version has one source, the package metadata (setup.cfg).
    if name == "__version__":
        return importlib.metadata.version("Flask-Store")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
