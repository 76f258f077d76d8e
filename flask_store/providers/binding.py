"""Which backend a provider class uses in an app.

``init_app`` builds the app's backend once from the configured provider
class (:func:`make_backend`); a handle of another provider class in the same
app gets a backend of its own, built on first use and kept in the app's
state (:func:`backend_for`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

from ..state import StoreState, store_state
from .adapter import ProviderBackend, own_hooks

if TYPE_CHECKING:
    from flask import Flask

    from ..backends.base import Backend
    from .base import Provider


def app_or_current(app: Flask | None) -> Flask:
    """``app``, or the current app when it is ``None``."""
    if app is not None:
        return app
    return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]


def make_backend(cls: type[Provider], app: Flask, *, base: type[Provider]) -> Backend:
    """The backend of provider class ``cls`` for ``app`` (reading its settings).

    Storage hooks that ``cls`` defines itself (``_write``, ``list_folder``...)
    take the place of the backend's methods, through a
    :class:`ProviderBackend`; ``base`` is the class whose hooks are the
    defaults.
    """
    if cls.backend_class is None:
        return ProviderBackend(app, cls, base=base)
    backend = cls.backend_class(app)
    backend.provider_class = cls
    names_it = next(k for k in cls.__mro__ if "backend_class" in vars(k))
    if own_hooks(cls, names_it):
        return ProviderBackend(app, cls, base=names_it, inner=backend)
    return backend


def backend_for(cls: type[Provider], app: Flask | None) -> Backend:
    """The backend provider class ``cls`` uses in ``app`` (default: current)."""
    state = store_state(app_or_current(app))
    backend = state.backend
    wanted = cls.backend_class
    if isinstance(backend, ProviderBackend):
        if issubclass(backend.provider_class, cls) or (
            wanted is not None and isinstance(backend.inner, wanted)
        ):
            return backend
    elif wanted is not None and isinstance(backend, wanted):
        return backend
    return _other_backend(state, cls)


def _other_backend(state: StoreState, cls: type[Provider]) -> Backend:
    """A backend for ``cls`` in an app configured with another provider."""
    with state.lock:
        backend = state.other_backends.get(cls)
        if backend is None:
            backend = state.other_backends[cls] = cls.make_backend(state.app)
    return backend
