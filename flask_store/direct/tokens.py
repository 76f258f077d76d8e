"""Signed tokens for uploads that reach the store without a form post.

A browser that uploaded a file by itself (tus, a direct S3 upload) gets a
*receipt*: a short-lived token, signed with the app's ``SECRET_KEY``, naming
the stored path and its size. The form then posts only the receipt; the app
reads it back with :func:`read_receipt` and checks the file is there as
signed (:func:`confirm_upload`). A receipt is bound to the app and to its
store, so one app's receipt is refused by another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import current_app
from itsdangerous import BadData

from ..exceptions import BadUploadToken, StoredFileNotFound
from ..signing import serializer
from ..state import store_state

if TYPE_CHECKING:
    from flask import Flask

    from ..providers.base import Provider

#: How long a receipt is good for, in seconds (``STORE_UPLOAD_TOKEN_MAX_AGE``).
DEFAULT_MAX_AGE = 3600


@dataclass(frozen=True)
class UploadReceipt:
    """What a receipt says: the stored path and its size in bytes."""

    path: str
    size: int


def sign_receipt(path: str, size: int, *, app: Flask | None = None) -> str:
    """A receipt for the stored file ``path`` of ``size`` bytes."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return str(serializer(app, "receipt").dumps([path, size]))


def read_receipt(
    token: str, *, app: Flask | None = None, max_age: int | None = None
) -> UploadReceipt:
    """The receipt ``token`` stands for; :class:`BadUploadToken` when it is
    forged, expired (``max_age`` seconds, default
    ``STORE_UPLOAD_TOKEN_MAX_AGE``) or not one of this app's."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    if max_age is None:
        max_age = int(app.config.get("STORE_UPLOAD_TOKEN_MAX_AGE", DEFAULT_MAX_AGE))
    try:
        value: Any = serializer(app, "receipt").loads(token, max_age=max_age)
        path, size = value
        if not isinstance(path, str) or not isinstance(size, int):
            raise TypeError
    except (BadData, TypeError, ValueError):
        raise BadUploadToken(
            "The upload's token is not valid or has expired: upload the file again."
        ) from None
    return UploadReceipt(path, size)


def confirm_upload(token: str, *, app: Flask | None = None) -> Provider:
    """The app's provider for the file a receipt names, once it is checked.

    The file must be stored with the size the receipt was signed for;
    :class:`BadUploadToken` otherwise. Assign the result to a
    ``FlaskStoreType`` attribute as any provider; its ``save()`` returns it
    unchanged (:attr:`~flask_store.providers.Provider.received`).
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    receipt = read_receipt(token, app=app)
    provider = store_state(app).provider(receipt.path, app=app)
    try:
        size = provider.size
    except StoredFileNotFound:
        size = None
    if size != receipt.size:
        raise BadUploadToken(
            f"{receipt.path!r} is not stored as it was uploaded: upload the file again."
        )
    provider.received = True
    return provider
