"""Storage providers. Subclass :class:`Provider` to write your own."""

from __future__ import annotations

from .base import FolderPage, Provider, StoredFile

__all__ = ["FolderPage", "Provider", "StoredFile"]
