"""Storage backends: one app's configured storage, built once by ``init_app``.

Subclass :class:`Backend` to store files somewhere new, and pair it with a
:class:`~flask_store.providers.Provider` subclass (its ``backend_class``).
"""

from __future__ import annotations

from .base import Backend, CheckResult, FolderPage, Leftover, PageQuery, StoredFile

__all__ = [
    "Backend",
    "CheckResult",
    "FolderPage",
    "Leftover",
    "PageQuery",
    "StoredFile",
]
