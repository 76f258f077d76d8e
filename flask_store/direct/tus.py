"""Resumable uploads to the local store with the tus 1.0 protocol.

``tus_uploads`` is a blueprint that speaks tus 1.0.0 with the creation,
termination and expiration extensions, so ``tus-js-client`` and Uppy's tus
plugin can send large files in chunks and resume after a network cut::

    from flask_store.direct import tus_uploads

    app.register_blueprint(tus_uploads, url_prefix="/uploads/tus")

``Store.init_app`` registers it itself for the local provider (see
:mod:`flask_store.direct.registration`). Creating an upload needs a grant
(``Flask-Store-Grant``) or ``STORE_UPLOADS_ACCESS``; the signed upload URL it
answers is the capability for the rest (``HEAD``, ``PATCH``, ``DELETE``).
A new upload is checked against ``STORE_ALLOWED_EXTENSIONS`` and
``STORE_MAX_SIZE`` before any byte is sent. Its URL is signed: it carries the
length, name and folder, and expires after ``STORE_UPLOAD_EXPIRES`` seconds.
Once the last chunk arrives its first bytes are checked
(``STORE_ALLOWED_TYPES``, a name that contradicts the content: 415, and its
bytes deleted), and the file is published under a free name, as a
save would, and the response carries a *receipt*
(``Flask-Store-Receipt``) that a form posts instead of the file;
:func:`~flask_store.direct.confirm_upload` turns it into the stored file.

Every request but ``OPTIONS`` carries the ``Tus-Resumable`` header, which a
page on another site cannot send without a CORS preflight this blueprint
never grants; a request whose ``Origin`` is another site is refused too.
"""

from __future__ import annotations

import base64
import os
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from itsdangerous import BadData, SignatureExpired
from werkzeug.exceptions import (
    BadRequest,
    Conflict,
    Gone,
    HTTPException,
    NotFound,
    PreconditionFailed,
    RequestEntityTooLarge,
    UnsupportedMediaType,
)
from werkzeug.http import http_date

from ..backends.local import LocalBackend
from ..content import SNIFF_BYTES
from ..humanize import whole_number
from ..signing import serializer
from ..state import current_state
from . import tus_spool
from .common import (
    check_content,
    check_origin,
    check_rules,
    check_upload_request,
    upload_expires,
    upload_location,
)
from .tokens import sign_receipt

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,termination,expiration"

tus_uploads = Blueprint("flask_store_tus", __name__)


class _Upload:
    """A resumable upload named by its signed URL segment."""

    def __init__(self, upload_id: str, backend: LocalBackend) -> None:
        self.id = upload_id
        signer = serializer(current_app, "tus")
        try:
            value, signed_at = signer.loads(
                upload_id, max_age=upload_expires(), return_timestamp=True
            )
        except SignatureExpired as exc:
            nonce = exc.payload and signer.load_payload(exc.payload)[0]
            if isinstance(nonce, str) and nonce.isalnum():
                tus_spool.SpooledTusUpload(backend, nonce).remove()
            raise Gone("This upload has expired: start it again.") from None
        except BadData:
            raise NotFound("There is no such upload.") from None
        self.nonce, self.length, self.filename, self.location = value
        self.expires = signed_at + timedelta(seconds=upload_expires())
        self.spool = tus_spool.SpooledTusUpload(backend, self.nonce)


def _backend() -> LocalBackend:
    storage = current_state().backend.storage
    if not isinstance(storage, LocalBackend):
        raise NotFound(
            "Resumable (tus) uploads store files on the local disk; this app's "
            f"provider is {current_state().provider.__name__}."
        )
    return storage


@tus_uploads.before_request
def check_request() -> None:
    if request.method == "POST":
        check_upload_request()
    else:  # the signed upload URL, or discovery: no grant needed
        check_origin()
    if (
        request.method != "OPTIONS"
        and request.headers.get("Tus-Resumable") != TUS_VERSION
    ):
        raise PreconditionFailed(
            f"This server speaks tus {TUS_VERSION}; send 'Tus-Resumable: {TUS_VERSION}'."
        )


@tus_uploads.after_request
def tus_headers(response: Response) -> Response:
    response.headers["Tus-Resumable"] = TUS_VERSION
    response.headers["Cache-Control"] = "no-store"
    return response


@tus_uploads.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> Any:
    message = exc.description or exc.name
    if request.accept_mimetypes.best == "application/json":
        response = jsonify(error=message)
    else:
        response = Response(message + "\n", mimetype="text/plain")
    response.status_code = exc.code or 500
    if isinstance(exc, PreconditionFailed):
        response.headers["Tus-Version"] = TUS_VERSION
    return response


@tus_uploads.route("/", methods=["OPTIONS"], provide_automatic_options=False)
@tus_uploads.route("/<upload_id>", methods=["OPTIONS"], provide_automatic_options=False)
def options(upload_id: str | None = None) -> Response:
    """What this server supports (tus discovery)."""
    response = Response(status=204)
    response.headers["Tus-Version"] = TUS_VERSION
    response.headers["Tus-Extension"] = EXTENSIONS
    max_size = current_app.config.get("STORE_MAX_SIZE")
    if max_size is not None:
        response.headers["Tus-Max-Size"] = str(max_size)
    return response


@tus_uploads.post("/")
def create() -> Response:
    """Start an upload of ``Upload-Length`` bytes (tus creation)."""
    backend = _backend()
    if "Upload-Defer-Length" in request.headers:
        raise BadRequest("Send the file's length in Upload-Length.")
    length = _length(request.headers.get("Upload-Length"))
    metadata = parse_metadata(request.headers.get("Upload-Metadata", ""))
    filename = metadata.get("filename") or ""
    if not filename:
        raise BadRequest("Send the file's name in Upload-Metadata (filename).")
    check_rules(filename, length)
    location = upload_location(metadata.get("location"))
    nonce = secrets.token_hex(16)
    upload_id = serializer(current_app, "tus").dumps(
        [nonce, length, filename, location]
    )
    upload = _Upload(upload_id, backend)
    upload.spool.create()
    response = Response(status=201)
    response.headers["Location"] = url_for(
        ".status", upload_id=upload_id, _external=True
    )
    response.headers["Upload-Expires"] = http_date(upload.expires)
    if length == 0:
        with upload.spool.locked() as (folder, fd):
            _publish(upload, response, folder, fd)
    return response


@tus_uploads.route("/<upload_id>", methods=["HEAD"])
def status(upload_id: str) -> Response:
    """How many bytes the server has (tus core)."""
    upload = _Upload(upload_id, _backend())
    response = Response(status=200)
    offset = upload.spool.offset()
    if offset is None:
        receipt = upload.spool.receipt()
        if receipt is None:
            raise NotFound("There is no such upload.")
        _receipt_headers(response, receipt["path"], receipt["size"])
        offset = upload.length
    response.headers["Upload-Offset"] = str(offset)
    response.headers["Upload-Length"] = str(upload.length)
    response.headers["Upload-Expires"] = http_date(upload.expires)
    return response


@tus_uploads.route("/<upload_id>", methods=["PATCH"])
def append(upload_id: str) -> Response:
    """Add the request's bytes at ``Upload-Offset`` (tus core)."""
    upload = _Upload(upload_id, _backend())
    if request.mimetype != "application/offset+octet-stream":
        raise UnsupportedMediaType("Send chunks as application/offset+octet-stream.")
    offset = _length(request.headers.get("Upload-Offset"), "Upload-Offset")
    response = Response(status=204)
    response.headers["Upload-Expires"] = http_date(upload.expires)
    try:
        with upload.spool.locked() as (folder, fd):
            try:
                new_offset = upload.spool.append(
                    request.stream, offset, upload.length, fd
                )
            except tus_spool.OffsetMismatch as exc:
                raise Conflict(
                    f"The upload has {exc.offset} bytes, not {offset}: resume from there."
                ) from None
            except tus_spool.TooLong:
                raise RequestEntityTooLarge(
                    f"The chunk goes past the upload's length ({upload.length} bytes)."
                ) from None
            response.headers["Upload-Offset"] = str(new_offset)
            if new_offset == upload.length:
                _publish(upload, response, folder, fd)
    except tus_spool.Busy:
        raise Conflict("Another request is sending this upload's bytes.") from None
    except tus_spool.Gone:
        receipt = upload.spool.receipt()
        if receipt is None or offset != upload.length:
            raise NotFound(
                "There is no such upload (it finished or was stopped)."
            ) from None
        response.headers["Upload-Offset"] = str(upload.length)
        _receipt_headers(response, receipt["path"], receipt["size"])
    return response


@tus_uploads.route("/<upload_id>", methods=["DELETE"])
def terminate(upload_id: str) -> Response:
    """Stop an upload and delete its bytes (tus termination)."""
    upload = _Upload(upload_id, _backend())
    try:
        with upload.spool.locked():
            upload.spool.remove()
    except tus_spool.Busy:
        raise Conflict("Another request is sending this upload's bytes.") from None
    except tus_spool.Gone:
        raise NotFound(
            "There is no such upload (it finished or was stopped)."
        ) from None
    return Response(status=204)


def _publish(upload: _Upload, response: Response, folder: int, fd: int) -> None:
    state = current_state()
    try:
        check_content(upload.filename, os.pread(fd, SNIFF_BYTES, 0))
    except UnsupportedMediaType:
        upload.spool.remove()
        raise

    def save(spooled: Any) -> str:
        handle = state.provider(
            spooled, upload.location or None, filename=upload.filename, app=state.app
        )
        return str(handle.save().relative_path)

    path, size = upload.spool.publish(folder, fd, save)
    _receipt_headers(response, path, size)


def _receipt_headers(response: Response, path: str, size: int) -> None:
    response.headers["Flask-Store-Receipt"] = sign_receipt(path, size)
    response.headers["Flask-Store-Path"] = quote(path)


def _length(value: str | None, header: str = "Upload-Length") -> int:
    length = whole_number(value, digits=19)
    if length is None:
        raise BadRequest(f"Send {header} as a number of bytes.")
    return length


def parse_metadata(header: str) -> dict[str, str]:
    """``Upload-Metadata`` (``key base64value`` pairs, comma-separated) as text."""
    metadata: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in header.split(","))):
        key, _, encoded = pair.partition(" ")
        try:
            metadata[key] = base64.b64decode(encoded, validate=True).decode("utf-8")
        except ValueError:  # binascii.Error, UnicodeDecodeError, non-ASCII text
            raise BadRequest(
                f"Upload-Metadata {key!r} is not base64 UTF-8 text."
            ) from None
    return metadata
