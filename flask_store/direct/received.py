"""Receipts a form receives in place of files, checked as posted files are.

A page whose script uploaded a file by itself (tus, direct to S3) posts the
form with the upload's receipt as the value of the file input. The forms
(:mod:`flask_store.forms`) turn each receipt into the stored file with
:func:`receive`, then check it by the upload rules, its first bytes read
from storage (:func:`refusal_of`); a refused file is deleted
(:func:`discard`), unless a row uses it, so nothing refused is kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..metadata import read_head
from ..rules import refusal
from .tokens import confirm_upload

try:
    from ..sqla.orphans import delete_unused

    ROWS_MAY_USE_FILES = True
except ImportError:  # SQLAlchemy is not installed: no row can use a file.
    ROWS_MAY_USE_FILES = False

if TYPE_CHECKING:
    from flask import Flask

    from ..providers.base import Provider


def receive(token: str, *, app: Flask | None = None) -> Provider:
    """The stored file a receipt names (:func:`confirm_upload`).

    :raises BadUploadToken: for a forged or expired receipt, or one whose
        file is not stored as it was signed.
    """
    return confirm_upload(token, app=app)


def refusal_of(provider: Provider, config: Any) -> str | None:
    """Why the upload rules refuse the received file ``provider`` (its
    extension, size and first bytes), with the messages posted files get;
    ``None`` when it passes."""
    with provider.open() as stream:
        head = read_head(stream)
    return refusal(provider.filename, provider.size, config, head)


def discard(provider: Provider) -> None:
    """Delete a refused received file, unless a row uses it."""
    if not ROWS_MAY_USE_FILES:
        provider.delete()
        return
    for _ in delete_unused(provider.app, [provider.relative_path]):
        pass
