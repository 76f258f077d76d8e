"""Where a direct upload's bytes go, and how each kind ends.

- A **multipart upload** goes straight to its final name, claimed before
  the browser sends a byte by a pending placeholder (:mod:`..backends.s3_claims`):
  S3 itself decides which writer gets a name. Completing it replaces the
  placeholder (``If-Match`` on its ETag), and its part URLs die with the
  upload, so the browser cannot change the file afterwards. Nothing is copied.
- A **presigned POST** goes to a key of its own under the hidden staging
  prefix (a POST policy could be used again until it expires), and is moved
  to a free final name, by a copy S3 makes itself, once checked.

The browser is handed a signed token naming the target, so nothing it sends
chooses a key.
"""

from __future__ import annotations

import secrets
from dataclasses import astuple
from typing import Any

from flask import current_app
from itsdangerous import BadData
from werkzeug.exceptions import BadRequest, Conflict, HTTPException, NotFound

from .. import names
from ..backends import s3_claims
from ..backends.s3 import S3Backend
from ..backends.s3_client import (
    UPLOAD_TOKEN,
    BotoCoreError,
    ClientError,
    error_code,
    translate,
)
from ..backends.s3_conditional import TAKEN
from ..backends.s3_staging import DIRECT_MARK, STAGING
from ..exceptions import StoredFileNotFound
from ..metadata import read_head
from ..signing import serializer
from .common import check_content, check_rules, upload_expires

#: S3's error codes for parts that are not the upload's: the client's mistake.
BAD_PARTS = frozenset({"InvalidPart", "InvalidPartOrder", "EntityTooSmall"})


def s3_call(backend: S3Backend, key: str, action: str, **params: Any) -> Any:
    """``backend.client.<action>(...)``; S3's errors as HTTP errors."""
    try:
        return getattr(backend.client, action)(Bucket=backend.bucket, **params)
    except (ClientError, BotoCoreError) as exc:
        raise _upload_error(exc, key) from exc


def _upload_error(exc: ClientError | BotoCoreError, key: str) -> Exception:
    """What the client is told of an S3 error about its upload."""
    code = error_code(exc) if isinstance(exc, ClientError) else None
    if code in BAD_PARTS:
        return BadRequest(
            "The parts sent are not this upload's: send each part's number and "
            "the ETag S3 answered its upload with, in order."
        )
    error = translate(exc, key, "upload")
    if code == "NoSuchUpload" or isinstance(error, StoredFileNotFound):
        return NotFound("There is no such upload, or it has expired.")
    return error


def _sign(kind: str, *fields: Any) -> str:
    return str(serializer(current_app, "s3-upload").dumps([kind, *fields]))


def _read(token: object, kind: str) -> list[Any]:
    if not token or not isinstance(token, str):
        raise BadRequest("Send the upload's key.")
    try:
        value = serializer(current_app, "s3-upload").loads(
            token, max_age=upload_expires()
        )
    except BadData:
        value = None
    if not isinstance(value, list) or not value or value[0] != kind:
        raise NotFound("There is no such upload, or it has expired.")
    return value[1:]


class Staged:
    """An object a presigned POST sends to the staging prefix."""

    def __init__(self, token: str | None) -> None:
        try:
            self.nonce, self.filename, self.location = _read(token, "staged")
        except ValueError:
            raise NotFound("There is no such upload, or it has expired.") from None
        #: Where the browser sends it, relative to ``STORE_PATH``.
        self.path = f"{STAGING}/{self.nonce}/{names.secure_name(self.filename)}"

    @staticmethod
    def start(filename: str, location: str) -> str:
        """The token of a new staging target."""
        return _sign("staged", secrets.token_hex(16), filename, location)

    def publish(self, backend: S3Backend) -> tuple[str, int]:
        """Check the object, then move it to a free name; (path, size)."""
        try:
            size = backend.stat(self.path).size or 0
        except StoredFileNotFound:
            raise NotFound(
                "The upload has not reached S3 (or was already confirmed)."
            ) from None
        try:
            check_rules(self.filename, size)
            check_content(self.filename, _head(backend, self.path))
        except HTTPException:
            backend.delete(self.path)
            raise
        try:
            return backend.move(self.path, self.location), size
        except StoredFileNotFound:  # another request confirmed it meanwhile
            raise NotFound("The upload was already confirmed.") from None


class Claimed:
    """A multipart upload to its final name, held by a placeholder."""

    def __init__(self, token: str | None) -> None:
        try:
            fields = _read(token, "claimed")
            self.claim = s3_claims.Claim(*fields[:5])
            (self.filename,) = fields[5:]
        except (TypeError, ValueError):
            raise NotFound("There is no such upload, or it has expired.") from None
        self.key = self.claim.key

    @staticmethod
    def start(backend: S3Backend, filename: str, location: str) -> tuple[str, str]:
        """Claim a free name and start the upload there; (upload id, token)."""
        candidates = names.Candidates(location, names.secure_name(filename))
        honoured = backend._honoured(candidates)
        claim = s3_claims.claim_first(
            backend, candidates, honoured, hold=False, marks={DIRECT_MARK: "1"}
        )
        extra = backend.upload_args(claim.key)
        extra["Metadata"] = {UPLOAD_TOKEN: claim.token}
        try:
            created = s3_call(
                backend, claim.key, "create_multipart_upload", Key=claim.key, **extra
            )
        except BaseException:
            s3_claims.drop_placeholder(backend, claim)
            raise
        token = _sign("claimed", *astuple(claim), filename)
        return created["UploadId"], token

    def part_url(self, backend: S3Backend, upload_id: str, part: int) -> str:
        return str(
            backend.client.generate_presigned_url(
                "upload_part",
                Params={
                    "Bucket": backend.bucket,
                    "Key": self.key,
                    "UploadId": upload_id,
                    "PartNumber": part,
                },
                ExpiresIn=upload_expires(),
            )
        )

    def parts(self, backend: S3Backend, upload_id: str) -> list[dict[str, Any]]:
        """The parts S3 has, in order: what a resumed upload need not send."""
        parts: list[dict[str, Any]] = []
        marker = 0
        while True:
            listed = s3_call(
                backend,
                self.key,
                "list_parts",
                Key=self.key,
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

    def complete(
        self, backend: S3Backend, upload_id: str, parts: list[dict[str, Any]]
    ) -> tuple[str, int]:
        """Assemble the parts over the placeholder, then check the file."""
        size = sum(p["Size"] for p in self.parts(backend, upload_id))
        try:
            check_rules(self.filename, size)
        except HTTPException:
            self.abort(backend, upload_id)
            raise
        backend._honoured([self.claim.path])  # the server's verdict, found once
        if not backend.conditions.replaces_safely(multipart=True) and (
            s3_claims.placeholder_etag(backend, self.key, self.claim.claim)
            != self.claim.etag
        ):
            # The server would not check the If-Match: look first.
            self.abort(backend, upload_id)
            raise _taken(self.claim.path)
        # This upload's own condition, for this request alone.
        condition = {"IfMatch": self.claim.etag} if backend.conditions.enabled else {}
        try:
            backend.client.complete_multipart_upload(
                Bucket=backend.bucket,
                Key=self.key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
                **condition,  # type: ignore[arg-type]
            )
        except ClientError as exc:
            if error_code(exc) in TAKEN:
                self.abort(backend, upload_id)
                raise _taken(self.claim.path) from exc
            raise _upload_error(exc, self.key) from exc
        except BotoCoreError as exc:
            raise _upload_error(exc, self.key) from exc
        try:
            check_content(self.filename, _head(backend, self.claim.path))
        except HTTPException:
            backend.delete(self.claim.path)
            raise
        return self.claim.path, size

    def abort(self, backend: S3Backend, upload_id: str) -> None:
        """Cancel the upload (S3 drops its parts) and give the name back."""
        s3_call(
            backend,
            self.key,
            "abort_multipart_upload",
            Key=self.key,
            UploadId=upload_id,
        )
        s3_claims.drop_placeholder(backend, self.claim)


def _head(backend: S3Backend, path: str) -> bytes:
    """The first bytes of an uploaded object, for the checks of content."""
    with backend.open(path) as stream:
        return read_head(stream)


def _taken(path: str) -> Conflict:
    return Conflict(
        f"{path!r} was taken by another writer while the file was uploaded; "
        "nothing was overwritten. Upload it again."
    )
