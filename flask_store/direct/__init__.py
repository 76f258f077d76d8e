"""Uploads that reach the store without passing through a form post.

``Store.init_app`` registers the endpoints that fit the app's provider
(:mod:`.registration`); a page may use them with a grant
(:func:`upload_grant`), which the upload macro makes for its form.

:data:`tus_uploads` receives resumable uploads (tus 1.0) into the local
store; :data:`flask_store.direct.s3.s3_uploads` (imported from there, as it
needs boto3) lets browsers upload to S3 themselves. A finished upload gives
the browser a receipt, which the form posts and :func:`confirm_upload` turns
into the stored file.
"""

from __future__ import annotations

from .grants import GRANT_HEADER, upload_grant
from .tokens import UploadReceipt, confirm_upload, read_receipt, sign_receipt
from .tus import tus_uploads

__all__ = [
    "GRANT_HEADER",
    "UploadReceipt",
    "confirm_upload",
    "read_receipt",
    "sign_receipt",
    "tus_uploads",
    "upload_grant",
]
