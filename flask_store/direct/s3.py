"""Direct uploads to S3: the browser sends the bytes to the bucket itself.

``s3_uploads`` is a blueprint of small JSON endpoints in the shapes Uppy's
``@uppy/aws-s3`` plugin calls (``endpoint`` set to the blueprint's URL)::

    from flask_store.direct import s3_uploads

    app.register_blueprint(s3_uploads, url_prefix="/uploads/direct")

- ``GET s3/params?filename=&type=&size=``: a presigned POST for one request;
  then ``POST s3/confirm`` with ``{"key": ...}``.
- ``POST s3/multipart`` (``{filename, type, metadata}``), then per part
  ``GET s3/multipart/<uploadId>/<partNumber>?key=``, ``GET
  s3/multipart/<uploadId>?key=`` (the parts S3 has, to resume), ``POST
  s3/multipart/<uploadId>/complete?key=`` and ``DELETE
  s3/multipart/<uploadId>?key=`` (cancel).

The browser uploads to a key of its own under the hidden prefix
``.flask-store-uploads/`` of the store; the ``key`` it is given is signed
and names that key, the file's name and folder, so nothing the browser sends
picks a key. When the upload is complete the app checks the object (its
size against ``STORE_MAX_SIZE``) and moves it to its final name, a free one:
nothing is overwritten, and the browser, whose URLs were for the staging key
only, cannot change the stored file afterwards. The answer carries the
receipt a form posts instead of the file (``Flask-Store-Receipt``).
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from itsdangerous import BadData
from werkzeug.exceptions import BadRequest, HTTPException, NotFound

from .. import names
from ..backends.s3 import S3Backend
from ..backends.s3_client import BotoCoreError, ClientError, translate
from ..backends.s3_staging import STAGING
from ..exceptions import StoredFileNotFound
from ..state import current_state
from .common import check_rules, check_upload_request, upload_expires
from .tokens import serializer, sign_receipt

#: S3's limits on multipart uploads.
MAX_PARTS = 10_000
MAX_OBJECT = 5 * 1024**4

s3_uploads = Blueprint("flask_store_s3", __name__)


class _Staged:
    """An upload to the staging area, named by the signed ``key``."""

    def __init__(self, token: str | None) -> None:
        if not token:
            raise BadRequest("Send the upload's key.")
        try:
            value = serializer(current_app, "s3-upload").loads(
                token, max_age=upload_expires()
            )
            self.nonce, self.filename, self.location = value
        except (BadData, ValueError, TypeError):
            raise NotFound("There is no such upload, or it has expired.") from None
        self.token = token
        #: Where the browser uploads it, relative to ``STORE_PATH``.
        self.path = f"{STAGING}/{self.nonce}/{names.secure_name(self.filename)}"

    @classmethod
    def new(cls, filename: str, location: str) -> _Staged:
        nonce = secrets.token_hex(16)
        return cls(
            serializer(current_app, "s3-upload").dumps([nonce, filename, location])
        )


def _backend() -> S3Backend:
    storage = current_state().backend.storage
    if not isinstance(storage, S3Backend) or not current_app.config.get(
        "STORE_DIRECT_UPLOADS", True
    ):
        raise NotFound(
            "Direct uploads go to S3, with STORE_DIRECT_UPLOADS on; this app "
            f"stores files with {current_state().provider.__name__}."
        )
    return storage


@s3_uploads.before_request
def check_request() -> None:
    check_upload_request()
    # A JSON body, like a DELETE, needs a CORS preflight from another site,
    # which is never granted: a page elsewhere cannot start, finish or
    # cancel an upload.
    if request.method == "POST" and request.mimetype != "application/json":
        raise BadRequest("Send the request's body as JSON (application/json).")


@s3_uploads.after_request
def no_store(response: Any) -> Any:
    response.headers["Cache-Control"] = "no-store"
    return response


@s3_uploads.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> Any:
    message = exc.description or exc.name
    response = jsonify(error=message, message=message)
    response.status_code = exc.code or 500
    return response


def _s3_call(backend: S3Backend, key: str, action: str, **params: Any) -> Any:
    try:
        return getattr(backend.client, action)(Bucket=backend.bucket, **params)
    except (ClientError, BotoCoreError) as exc:
        error = translate(exc, key, "upload")
        if isinstance(error, StoredFileNotFound):
            raise NotFound("There is no such upload, or it has expired.") from exc
        raise error from exc


def _start(body: dict[str, Any]) -> _Staged:
    filename = body.get("filename") or ""
    metadata = body.get("metadata") or {}
    size = body.get("size", metadata.get("size", 0))
    if not isinstance(filename, str) or not isinstance(metadata, dict):
        raise BadRequest("Send the file's name as text.")
    try:
        size = int(size)
        location = names.clean_location(metadata.get("location"))
    except (TypeError, ValueError) as exc:
        raise BadRequest(str(exc) or "Send the size as a number of bytes.") from None
    check_rules(filename, size)
    return _Staged.new(filename, location)


@s3_uploads.get("/s3/params")
def params() -> Any:
    """A presigned POST of one file to its staging key."""
    backend = _backend()
    staged = _start(
        {
            "filename": request.args.get("filename"),
            "size": request.args.get("size", 0),
            "metadata": {"location": request.args.get("metadata[location]")},
        }
    )
    max_size = current_app.config.get("STORE_MAX_SIZE")
    post = backend.client.generate_presigned_post(
        Bucket=backend.bucket,
        Key=backend.key(staged.path),
        Conditions=[["content-length-range", 0, max_size or MAX_OBJECT]],
        ExpiresIn=upload_expires(),
    )
    return jsonify(
        method="POST",
        url=post["url"],
        fields=post["fields"],
        headers={},
        key=staged.token,
    )


@s3_uploads.post("/s3/confirm")
def confirm() -> Any:
    """Publish a file the browser sent with a presigned POST."""
    backend = _backend()
    staged = _Staged(_json().get("key"))
    return _publish(backend, staged)


@s3_uploads.post("/s3/multipart")
def create_multipart() -> Any:
    """Start a multipart upload to a new staging key."""
    backend = _backend()
    staged = _start(_json())
    key = backend.key(staged.path)
    created = _s3_call(backend, key, "create_multipart_upload", Key=key)
    return jsonify(uploadId=created["UploadId"], key=staged.token)


@s3_uploads.get("/s3/multipart/<upload_id>/<int:part>")
def sign_part(upload_id: str, part: int) -> Any:
    """A presigned URL for one part."""
    backend = _backend()
    staged = _Staged(request.args.get("key"))
    if not 1 <= part <= MAX_PARTS:
        raise BadRequest(f"Part numbers go from 1 to {MAX_PARTS}.")
    url = backend.client.generate_presigned_url(
        "upload_part",
        Params={
            "Bucket": backend.bucket,
            "Key": backend.key(staged.path),
            "UploadId": upload_id,
            "PartNumber": part,
        },
        ExpiresIn=upload_expires(),
    )
    return jsonify(url=url, method="PUT", expires=upload_expires())


@s3_uploads.get("/s3/multipart/<upload_id>")
def list_parts(upload_id: str) -> Any:
    """The parts S3 has: what a resumed upload need not send again."""
    backend = _backend()
    staged = _Staged(request.args.get("key"))
    return jsonify(_parts(backend, staged, upload_id))


def _parts(backend: S3Backend, staged: _Staged, upload_id: str) -> list[dict[str, Any]]:
    key = backend.key(staged.path)
    parts: list[dict[str, Any]] = []
    marker = 0
    while True:
        listed = _s3_call(
            backend,
            key,
            "list_parts",
            Key=key,
            UploadId=upload_id,
            PartNumberMarker=marker,
        )
        parts.extend(
            {"PartNumber": p["PartNumber"], "Size": p["Size"], "ETag": p["ETag"]}
            for p in listed.get("Parts", [])
        )
        if not listed.get("IsTruncated"):
            return parts
        marker = listed["NextPartNumberMarker"]


@s3_uploads.post("/s3/multipart/<upload_id>/complete")
def complete_multipart(upload_id: str) -> Any:
    """Assemble the parts, then check and publish the file."""
    backend = _backend()
    staged = _Staged(request.args.get("key"))
    key = backend.key(staged.path)
    sent = _json().get("parts")
    try:
        parts = [
            {"ETag": str(p["ETag"]), "PartNumber": int(p["PartNumber"])}
            for p in sent or ()
        ]
    except (KeyError, TypeError, ValueError):
        parts = []
    if not parts:
        raise BadRequest("Send the uploaded parts: [{PartNumber, ETag}, ...].")
    max_size = current_app.config.get("STORE_MAX_SIZE")
    if max_size is not None:
        size = sum(p["Size"] for p in _parts(backend, staged, upload_id))
        if size > max_size:
            _s3_call(
                backend, key, "abort_multipart_upload", Key=key, UploadId=upload_id
            )
            check_rules(staged.filename, size)  # raises the 413
    _s3_call(
        backend,
        key,
        "complete_multipart_upload",
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Parts": sorted(parts, key=lambda p: p["PartNumber"])},
    )
    return _publish(backend, staged)


@s3_uploads.delete("/s3/multipart/<upload_id>")
def abort_multipart(upload_id: str) -> Any:
    """Cancel a multipart upload: S3 drops its parts."""
    backend = _backend()
    staged = _Staged(request.args.get("key"))
    key = backend.key(staged.path)
    _s3_call(backend, key, "abort_multipart_upload", Key=key, UploadId=upload_id)
    return jsonify({})


def _publish(backend: S3Backend, staged: _Staged) -> Any:
    """Check the staged object, then move it to a free final name."""
    try:
        size = backend.stat(staged.path).size or 0
    except StoredFileNotFound:
        raise NotFound(
            "The upload has not reached S3 (or was already confirmed)."
        ) from None
    try:
        check_rules(staged.filename, size)
    except HTTPException:
        backend.delete(staged.path)
        raise
    try:
        path = backend.move(staged.path, staged.location)
    except StoredFileNotFound:  # another request confirmed it meanwhile
        raise NotFound("The upload was already confirmed.") from None
    provider = current_state().provider(path, app=current_app._get_current_object())  # type: ignore[attr-defined]
    receipt = sign_receipt(path, size)
    # Uppy hands the browser ``location`` and ``key`` alone: the receipt is
    # the key, as the key it was given was a token too.
    response = jsonify(
        location=provider.absolute_url, key=receipt, path=path, receipt=receipt
    )
    response.headers["Flask-Store-Receipt"] = receipt
    return response


def _json() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("Send a JSON object.")
    return body
