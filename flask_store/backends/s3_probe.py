"""Asking the S3 server which conditional writes it honours, by trying them.

Flask-Store relies on four conditions: ``If-None-Match: *`` on a PUT and on
completing a multipart upload (a new object never replaces one), and
``If-Match`` with the placeholder's ETag on a PUT and on completing a
multipart upload (a background or direct upload replaces only its own
placeholder). Servers differ: some ignore all of them, moto honours all but
``If-Match`` on completion. :func:`probe` tries each on an object of its own
and says which the server refused as it should.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import names
from .s3_sdk import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger("flask_store.providers.s3")

#: Name of the probe object, under ``STORE_PATH``; a random suffix follows.
PROBE_PREFIX = ".flask-store-probe-"

#: 412: the name is taken; 409: another conditional write to it is in flight.
TAKEN = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict"})

#: What a server answers that does not take the header at all.
REJECTED = frozenset({"NotImplemented", "501", "InvalidArgument", "InvalidRequest"})

#: An ETag no object has: ``If-Match`` on it must be refused.
_WRONG_ETAG = '"' + "0" * 32 + '"'


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@dataclass(frozen=True)
class Verdict:
    """Which of the conditions Flask-Store relies on the server honours."""

    #: ``If-None-Match: *`` on PutObject.
    put_if_none_match: bool
    #: ``If-None-Match: *`` on CompleteMultipartUpload.
    complete_if_none_match: bool
    #: ``If-Match`` on PutObject.
    put_if_match: bool
    #: ``If-Match`` on CompleteMultipartUpload.
    complete_if_match: bool

    @property
    def creates(self) -> bool:
        """Whether a new object, of one part or many, never replaces another."""
        return self.put_if_none_match and self.complete_if_none_match

    def ignored(self) -> list[str]:
        """The conditions the server ignores, in words."""
        return [
            text
            for honoured, text in (
                (self.put_if_none_match, "If-None-Match on a PUT"),
                (
                    self.complete_if_none_match,
                    "If-None-Match on completing a multipart upload",
                ),
                (self.put_if_match, "If-Match on a PUT"),
                (self.complete_if_match, "If-Match on completing a multipart upload"),
            )
            if not honoured
        ]


def probe(client: S3Client, bucket: str, prefix: str) -> Verdict:
    """Try each condition on a probe object under ``prefix``, then delete it.

    Writes it with ``If-None-Match: *``, then again with ``If-None-Match: *``
    and with ``If-Match`` on a wrong ETag, as a PUT and as a one-part
    multipart upload: a server that honours a condition refuses (412) the
    write that carries it. A condition the server rejects outright counts
    as ignored, except ``If-None-Match`` on the first PUT, which every save
    sends: that raises the :class:`ClientError` (or a :class:`BotoCoreError`
    when the server cannot be reached).
    """
    key = names.join_key(prefix, PROBE_PREFIX + secrets.token_hex(8))
    try:
        try:
            client.put_object(Bucket=bucket, Key=key, Body=b"1", IfNoneMatch="*")
        except ClientError as exc:
            # A retried first write whose reply was lost: the key is random,
            # so the object in the way is the probe's own.
            if error_code(exc) not in TAKEN:
                raise
        put = _put(client, bucket, key)
        return Verdict(
            put_if_none_match=_refused(put, {"IfNoneMatch": "*"}, rejected=False),
            complete_if_none_match=_completion_refused(
                client, bucket, key, IfNoneMatch="*"
            ),
            put_if_match=_refused(put, {"IfMatch": _WRONG_ETAG}),
            complete_if_match=_completion_refused(
                client, bucket, key, IfMatch=_WRONG_ETAG
            ),
        )
    finally:
        try:
            client.delete_object(Bucket=bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            log.warning("Could not delete the probe object %r: %s", key, exc)


def _put(client: S3Client, bucket: str, key: str) -> Callable[..., Any]:
    def put(**condition: str) -> Any:
        return client.put_object(Bucket=bucket, Key=key, Body=b"2", **condition)  # type: ignore[arg-type]

    return put


def _refused(
    write: Callable[..., Any], condition: dict[str, str], *, rejected: bool = True
) -> bool:
    """Whether ``write(**condition)`` over the probe is refused as taken.

    With ``rejected``, a server that rejects the header answers "not
    honoured" instead of raising.
    """
    try:
        write(**condition)
    except ClientError as exc:
        code = error_code(exc)
        if code in TAKEN:
            return True
        if rejected and code in REJECTED:
            return False
        raise
    return False


def _completion_refused(
    client: S3Client, bucket: str, key: str, **condition: str
) -> bool:
    """Whether completing a one-part upload over the probe with ``condition`` is refused."""
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    completed = False
    try:
        part = client.upload_part(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"3"
        )

        def complete(**condition: str) -> Any:
            return client.complete_multipart_upload(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
                **condition,  # type: ignore[arg-type]
            )

        refused = _refused(complete, condition)
        completed = not refused
        return refused
    finally:
        if not completed:
            # A server may drop an upload whose completion it refused.
            with contextlib.suppress(ClientError, BotoCoreError):
                client.abort_multipart_upload(
                    Bucket=bucket, Key=key, UploadId=upload_id
                )
