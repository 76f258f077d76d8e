"""Direct uploads to S3: the browser sends the bytes to the bucket itself.

``s3_uploads`` is a blueprint of small JSON endpoints in the shapes Uppy's
``@uppy/aws-s3`` plugin calls (``endpoint`` set to the blueprint's URL)::

    from flask_store.direct import s3_uploads

    app.register_blueprint(s3_uploads, url_prefix="/uploads/direct")

- ``GET s3/params?filename=&type=&size=``: a presigned POST for one request;
  then ``POST s3/confirm`` with ``{"key": ...}``.
- ``POST s3/multipart`` (``{filename, type, metadata}``), then per part
  ``GET s3/multipart/<uploadId>/<partNumber>?key=`` (or several at once,
  ``GET s3/multipart/<uploadId>/batch?key=&partNumbers=1,2,3``), ``GET
  s3/multipart/<uploadId>?key=`` (the parts S3 has, to resume), ``POST
  s3/multipart/<uploadId>/complete?key=`` and ``DELETE
  s3/multipart/<uploadId>?key=`` (cancel).

``Store.init_app`` registers it itself for the S3 providers (see
:mod:`flask_store.direct.registration`). Starting an upload (``s3/params``,
``POST s3/multipart``) needs a grant (``Flask-Store-Grant``) or
``STORE_UPLOADS_ACCESS``, as does every other request; a grant lets a page
carry on with its uploads for ``STORE_UPLOAD_EXPIRES`` seconds.

A multipart upload goes straight to its final name, claimed before the
first byte; a presigned POST goes to a hidden staging key and is moved once
checked (:mod:`.s3_targets`). The ``key`` the browser is handed is a signed
token, so nothing it sends picks a key. The answer to the last request
carries the receipt a form posts instead of the file (also as ``key``, the
one field besides ``location`` that Uppy hands on).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import BadRequest, HTTPException, NotFound

from ..backends.s3 import S3Backend
from ..state import current_state
from .common import check_rules, check_upload_request, upload_expires, upload_location
from .s3_targets import Claimed, Staged
from .tokens import sign_receipt

#: S3's limits on multipart uploads.
MAX_PARTS = 10_000
MAX_OBJECT = 5 * 1024**4

s3_uploads = Blueprint("flask_store_s3", __name__)


def _backend() -> S3Backend:
    storage = current_state().backend.storage
    if not isinstance(storage, S3Backend):
        raise NotFound(
            "Direct uploads go to S3; this app stores files with "
            f"{current_state().provider.__name__}."
        )
    return storage


@s3_uploads.before_request
def check_request() -> None:
    view = (request.endpoint or "").rpartition(".")[2]
    check_upload_request(starting=view in _STARTING)
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


def _file(body: dict[str, Any]) -> tuple[str, str]:
    """The name and folder of a new upload, checked against the upload rules."""
    filename = body.get("filename") or ""
    metadata = body.get("metadata") or {}
    if not isinstance(filename, str) or not isinstance(metadata, dict):
        raise BadRequest("Send the file's name as text.")
    try:
        size = int(body.get("size", metadata.get("size")) or 0)
    except (TypeError, ValueError, OverflowError):  # 1e400 is infinite
        size = -1
    if size < 0:
        raise BadRequest("Send the size as a number of bytes.")
    location = upload_location(metadata.get("location"))
    check_rules(filename, size)
    return filename, location


@s3_uploads.get("/s3/params")
def params() -> Any:
    """A presigned POST of one file to a staging key."""
    backend = _backend()
    token = Staged.start(
        *_file(
            {
                "filename": request.args.get("filename"),
                "size": request.args.get("size", 0),
                "metadata": {"location": request.args.get("metadata[location]")},
            }
        )
    )
    max_size = current_app.config.get("STORE_MAX_SIZE")
    post = backend.client.generate_presigned_post(
        Bucket=backend.bucket,
        Key=backend.key(Staged(token).path),
        Conditions=[["content-length-range", 0, max_size or MAX_OBJECT]],
        ExpiresIn=upload_expires(),
    )
    return jsonify(
        method="POST", url=post["url"], fields=post["fields"], headers={}, key=token
    )


@s3_uploads.post("/s3/confirm")
def confirm() -> Any:
    """Publish a file the browser sent with a presigned POST."""
    backend = _backend()
    return _done(*Staged(_json().get("key")).publish(backend))


@s3_uploads.post("/s3/multipart")
def create_multipart() -> Any:
    """Claim a free name and start a multipart upload there."""
    backend = _backend()
    upload_id, token = Claimed.start(backend, *_file(_json()))
    return jsonify(uploadId=upload_id, key=token)


@s3_uploads.get("/s3/multipart/<upload_id>/batch")
def sign_parts(upload_id: str) -> Any:
    """Presigned URLs for several parts at once (``?partNumbers=1,2,3``)."""
    backend = _backend()
    upload = Claimed(request.args.get("key"))
    try:
        numbers = sorted({int(n) for n in request.args["partNumbers"].split(",")})
    except (KeyError, ValueError):
        raise BadRequest("Send the part numbers: ?partNumbers=1,2,3.") from None
    if not numbers or numbers[0] < 1 or numbers[-1] > MAX_PARTS or len(numbers) > 100:
        raise BadRequest(f"Sign 1 to 100 parts at a time, numbered 1 to {MAX_PARTS}.")
    urls = {n: upload.part_url(backend, upload_id, n) for n in numbers}
    return jsonify(presignedUrls=urls, expires=upload_expires())


@s3_uploads.get("/s3/multipart/<upload_id>/<int:part>")
def sign_part(upload_id: str, part: int) -> Any:
    """A presigned URL for one part."""
    backend = _backend()
    upload = Claimed(request.args.get("key"))
    if not 1 <= part <= MAX_PARTS:
        raise BadRequest(f"Part numbers go from 1 to {MAX_PARTS}.")
    url = upload.part_url(backend, upload_id, part)
    return jsonify(url=url, method="PUT", expires=upload_expires())


@s3_uploads.get("/s3/multipart/<upload_id>")
def list_parts(upload_id: str) -> Any:
    """The parts S3 has: what a resumed upload need not send again."""
    backend = _backend()
    return jsonify(Claimed(request.args.get("key")).parts(backend, upload_id))


@s3_uploads.post("/s3/multipart/<upload_id>/complete")
def complete_multipart(upload_id: str) -> Any:
    """Assemble the parts under the claimed name and check the file."""
    backend = _backend()
    upload = Claimed(request.args.get("key"))
    try:
        numbered = sorted(
            (int(p["PartNumber"]), str(p["ETag"])) for p in _json().get("parts") or ()
        )
    except (KeyError, TypeError, ValueError, OverflowError):
        numbered = []
    if not numbered:
        raise BadRequest("Send the uploaded parts: [{PartNumber, ETag}, ...].")
    parts = [{"PartNumber": number, "ETag": etag} for number, etag in numbered]
    return _done(*upload.complete(backend, upload_id, parts))


@s3_uploads.delete("/s3/multipart/<upload_id>")
def abort_multipart(upload_id: str) -> Any:
    """Cancel a multipart upload: S3 drops its parts, the name is free again."""
    backend = _backend()
    Claimed(request.args.get("key")).abort(backend, upload_id)
    return jsonify({})


def _done(path: str, size: int) -> Any:
    provider = current_state().provider(path, app=current_app._get_current_object())  # type: ignore[attr-defined]
    receipt = sign_receipt(path, size)
    response = jsonify(
        location=provider.absolute_url, key=receipt, path=path, receipt=receipt
    )
    response.headers["Flask-Store-Receipt"] = receipt
    return response


def _json() -> dict[str, Any]:
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the JSON parser goes
        body = None
    if not isinstance(body, dict):
        raise BadRequest("Send a JSON object.")
    return body


#: The views that start an upload (the rest carry on with one).
_STARTING = frozenset({params.__name__, create_multipart.__name__})
