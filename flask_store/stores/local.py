"""``LocalStore``, the 0.0.2 name of the local-disk provider.

.. deprecated:: 1.0
    Set ``STORE_PROVIDER = "flask_store.providers.local.LocalProvider"``.
"""

from __future__ import annotations

from ..providers.local import LocalProvider
from . import BaseStore

__all__ = ["LocalStore"]


class LocalStore(BaseStore, LocalProvider):
    """:class:`~flask_store.providers.local.LocalProvider` with the 0.0.2 API.

    .. deprecated:: 1.0
        Use :class:`~flask_store.providers.local.LocalProvider`.
    """
