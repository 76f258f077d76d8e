"""The local disk provider, the default: files in ``STORE_PATH``, served by the app.

The storage itself is :class:`~flask_store.backends.local.LocalBackend`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..backends.local import LocalBackend, path_parts, store_dir, store_root
from ..backends.publish import TEMP_PREFIX
from .base import Provider

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["TEMP_PREFIX", "LocalProvider", "path_parts", "store_dir", "store_root"]


class LocalProvider(Provider):
    """Stores files in ``STORE_PATH`` on the local disk and serves them.

    ``STORE_PATH`` defaults to ``<instance_path>/uploads``; files are served
    under ``STORE_URL_PREFIX`` (default ``/uploads``).
    """

    backend_class = LocalBackend
    register_route = True

    @staticmethod
    def app_defaults(app: Flask) -> None:
        app.config.setdefault("STORE_PATH", os.path.join(app.instance_path, "uploads"))
        app.config.setdefault("STORE_URL_PREFIX", "/uploads")
        path = app.config["STORE_PATH"]
        if path and not os.path.isabs(path):
            # Relative to the app, like Flask's own folders; never the cwd.
            app.config["STORE_PATH"] = os.path.join(app.root_path, path)

    @property
    def root(self) -> str:
        """The real, absolute path of ``STORE_PATH``."""
        return store_root(self.app)
