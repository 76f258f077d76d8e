"""What Flask-Store keeps for each app, in ``app.extensions["store"]``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from flask import current_app

if TYPE_CHECKING:
    from flask import Flask

    from .backends.base import Backend
    from .extension import Store
    from .providers.base import Provider
    from .variants import VariantSpec


class StoreState:
    """One app's Flask-Store: its provider class and its storage backend.

    Built by :meth:`Store.init_app <flask_store.Store.init_app>`, once per
    app. The backend holds the resources (a client, the store's folder
    descriptor) and the storage settings, read and checked once.
    """

    #: How ``FlaskStoreType`` finds the app's session, set by ``init_session``.
    session_getter: Callable[[], Any] | None = None

    #: The variants made whenever an image is saved (``STORE_EAGER_VARIANTS``).
    eager_variants: tuple[VariantSpec, ...] = ()

    def __init__(
        self, store: Store, app: Flask, provider: type[Provider], backend: Backend
    ) -> None:
        self.store = store
        self.app = app
        self.provider = provider
        self.backend = backend
        #: Backends of other provider classes used in this app, by class.
        self.other_backends: dict[type[Provider], Backend] = {}
        self.lock = threading.RLock()

    @cached_property
    def stored_handle(self) -> Callable[[str], Provider]:
        """Builds the app's provider for a stored path: what a row's column reads as."""
        return self.provider.stored_path_factory(self.app)

    def __repr__(self) -> str:
        return f"<StoreState {self.app.name!r} provider={self.provider.__name__}>"


def store_state(app: Flask) -> StoreState:
    """The Flask-Store state of ``app``, with a clear error when missing."""
    try:
        state: StoreState = app.extensions["store"]
    except KeyError:
        raise RuntimeError(
            "Flask-Store is not initialised on this app: call Store(app) or "
            "store.init_app(app) first."
        ) from None
    return state


def current_state() -> StoreState:
    """The current app's Flask-Store state (needs an app context)."""
    return store_state(current_app)


def store_provider() -> type[Provider]:
    """The current app's provider class (needs an app context)."""
    return current_state().provider
