"""Claiming a name on S3 before its bytes are there.

A *claim* is a small placeholder object written with the write condition
under the first free candidate name, marked pending in its metadata: S3
itself decides which writer gets a name, so no two writers in any number of
processes get the same one, and a Flask-Store reader refuses the
placeholder (:class:`~flask_store.exceptions.UploadPending`). The bytes
come later, written over the placeholder with ``If-Match`` on its ETag:
by a background upload (:mod:`.s3_gevent`) or by the browser itself
(:mod:`flask_store.direct.s3`).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..content import guess_type
from ..exceptions import UploadFailed
from .base import first_free
from .s3_client import PENDING, BotoCoreError, ClientError, error_code, retried
from .s3_conditional import TAKEN
from .s3_locks import reservations

if TYPE_CHECKING:
    from .s3 import S3Backend

log = logging.getLogger("flask_store.providers.s3")


@dataclass(frozen=True)
class Claim:
    """A key claimed on S3 by a placeholder, for one upload."""

    path: str  # relative to STORE_PATH, as save() reports it
    key: str
    token: str  # the upload's token, in the final object's metadata
    claim: str  # the placeholder's token, in its metadata
    etag: str  # the placeholder's ETag, which the upload must replace


def claim_first(
    backend: S3Backend,
    candidates: Sequence[str],
    honoured: bool,
    *,
    hold: bool = True,
    marks: dict[str, str] | None = None,
) -> Claim:
    """Claim the first free name among ``candidates``.

    Where the server ignores conditional writes, this host's processes take
    turns on each name; with ``hold`` this process keeps the name reserved
    (until :func:`~.s3_conditional.Reservations.release`) while its upload
    runs, else the placeholder alone holds it. ``marks`` go in the
    placeholder's metadata, to tell later what claimed it.
    """
    token = secrets.token_hex(16)
    claims: list[Claim] = []

    def take(candidate: str) -> bool:
        key = backend.key(candidate)
        locks = None if honoured else backend.lock_path
        if not reservations.reserve(backend.bucket, key, locks=locks):
            return False  # another save is on it
        try:
            claim = claim_key(backend, candidate, key, token, honoured, marks)
        except BaseException:
            reservations.release(backend.bucket, key)
            raise
        if claim is None:
            reservations.release(backend.bucket, key)
            return False
        # The placeholder holds the name now; with ``hold`` this process
        # keeps it too, until the upload ends.
        if hold:
            reservations.unlock_host(backend.bucket, key)
        else:
            reservations.release(backend.bucket, key)
        claims.append(claim)
        return True

    first_free(candidates, take)
    return claims[0]


def claim_key(
    backend: S3Backend,
    path: str,
    key: str,
    token: str,
    honoured: bool,
    marks: dict[str, str] | None = None,
) -> Claim | None:
    """Write the placeholder that claims ``key``; None when it is taken."""
    if not honoured and backend._taken(path):
        return None
    claim = secrets.token_hex(16)
    client, bucket = backend.client, backend.bucket
    try:
        response = client.put_object(
            Bucket=bucket,
            Key=key,
            # A body of its own, so its ETag is this placeholder's alone.
            Body=claim.encode(),
            ContentType=guess_type(key),
            Metadata={**(marks or {}), PENDING: claim},
        )
        etag: str | None = response["ETag"]
    except ClientError as exc:
        taken = error_code(exc) in TAKEN
        if taken and not retried(exc):
            return None
        # A retried write may have landed before its reply was lost.
        etag = placeholder_etag(backend, key, claim)
        if etag is None:
            if taken:
                return None
            raise UploadFailed(f"Claiming {key!r} on S3 failed: {exc}") from exc
    except BotoCoreError as exc:
        etag = placeholder_etag(backend, key, claim)
        if etag is None:
            raise UploadFailed(f"Claiming {key!r} on S3 failed: {exc}") from exc
    if etag is None or (not honoured and placeholder_etag(backend, key, claim) != etag):
        return None  # another process's placeholder replaced ours
    return Claim(path, key, token, claim, etag)


def placeholder_etag(backend: S3Backend, key: str, claim: str) -> str | None:
    """The ETag of ``key`` if it is the placeholder of ``claim``."""
    try:
        head = backend.client.head_object(Bucket=backend.bucket, Key=key)
    except (ClientError, BotoCoreError):
        return None
    if head.get("Metadata", {}).get(PENDING) != claim:
        return None
    return str(head["ETag"])


def drop_placeholder(backend: S3Backend, claim: Claim) -> None:
    """Remove a placeholder whose upload never came (best effort)."""
    if placeholder_etag(backend, claim.key, claim.claim) is None:
        return
    try:
        backend.client.delete_object(Bucket=backend.bucket, Key=claim.key)
    except (ClientError, BotoCoreError) as exc:
        log.warning("Could not remove the placeholder %r: %s", claim.key, exc)
