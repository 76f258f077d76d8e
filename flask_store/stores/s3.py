"""``S3Store`` and ``S3GeventStore``, the 0.0.2 names of the S3 providers.

Like :mod:`flask_store.providers.s3`, this module needs boto3 (the ``s3``
extra); nothing imports it until ``STORE_PROVIDER`` names one of its classes.

.. deprecated:: 1.0
    Set ``STORE_PROVIDER`` to ``"flask_store.providers.s3.S3Provider"`` or
    ``"flask_store.providers.s3.S3GeventProvider"``.
"""

from __future__ import annotations

from ..providers.s3 import S3GeventProvider, S3Provider
from . import BaseStore

__all__ = ["S3GeventStore", "S3Store"]


class S3Store(BaseStore, S3Provider):
    """:class:`~flask_store.providers.s3.S3Provider` with the 0.0.2 API.

    .. deprecated:: 1.0
        Use :class:`~flask_store.providers.s3.S3Provider`.
    """


class S3GeventStore(S3Store, S3GeventProvider):
    """:class:`~flask_store.providers.s3.S3GeventProvider` with the 0.0.2 API.

    ``save(upload)`` returns as soon as the upload is spooled, like the
    provider's ``save()``.

    .. deprecated:: 1.0
        Use :class:`~flask_store.providers.s3.S3GeventProvider`.
    """
