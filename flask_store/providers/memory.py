"""An in-memory provider for tests: nothing touches the disk or the network.

Set ``STORE_PROVIDER = "flask_store.providers.memory.MemoryProvider"`` in a
test config. Each app has its own store, its backend;
:func:`stored_files` shows what was saved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..backends.memory import MemoryBackend
from ..state import store_state
from .base import Provider

if TYPE_CHECKING:
    from flask import Flask


def stored_files(app: Flask) -> dict[str, bytes]:
    """A snapshot of the app's in-memory store: relative path to content."""
    backend = store_state(app).backend.storage
    if not isinstance(backend, MemoryBackend):
        raise TypeError(f"{app.name!r} does not use the in-memory provider.")
    return backend.snapshot()


class MemoryProvider(Provider):
    """Keeps files in a dict per app. For tests and demos, not production."""

    backend_class = MemoryBackend

    @staticmethod
    def app_defaults(app: Flask) -> None:
        app.config.setdefault("STORE_URL_PREFIX", "/uploads")
