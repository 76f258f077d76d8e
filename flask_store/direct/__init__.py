"""Uploads that reach the store without passing through a form post.

:data:`tus_uploads` receives resumable uploads (tus 1.0) into the local
store; a finished upload gives the browser a receipt, which the form posts
and :func:`confirm_upload` turns into the stored file.
"""

from __future__ import annotations

from .tokens import UploadReceipt, confirm_upload, read_receipt, sign_receipt
from .tus import tus_uploads

__all__ = [
    "UploadReceipt",
    "confirm_upload",
    "read_receipt",
    "sign_receipt",
    "tus_uploads",
]
