"""File handles: a provider pairs the app's storage backend with one file.

Subclass :class:`Provider` (with a :class:`~flask_store.backends.Backend` as
its ``backend_class``) to store files somewhere new.
"""

from __future__ import annotations

from .adapter import ProviderBackend
from .base import FolderPage, Provider, StoredFile

__all__ = ["FolderPage", "Provider", "ProviderBackend", "StoredFile"]
