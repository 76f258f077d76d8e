"""S3 in the background: ``save()`` returns while a greenlet uploads.

The upload waits in a spooled file with a ticket (:mod:`.background`), so
``flask store cleanup`` can finish it after a crash.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from datetime import timedelta
from functools import partial
from typing import IO, TYPE_CHECKING, Any

from ..exceptions import StorageError, StoredFileNotFound, UploadFailed
from ..metadata import FileMetadata, Measured
from ..settings import count, optional_text
from ..signals import upload_failed
from . import s3_claims, s3_recovery, s3_staging, s3_writes, variant_files
from .background import (
    load_gevent,
    remove_spool,
    spool_copy,
    uploads,
    write_ticket,
)
from .base import Leftover
from .s3 import S3Backend
from .s3_claims import Claim
from .s3_client import (
    NOT_FOUND,
    PENDING,
    UPLOAD_TOKEN,
    BotoCoreError,
    ClientError,
    error_code,
    transfer_config,
    translate,
)
from .s3_locks import reservations

if TYPE_CHECKING:
    from boto3.s3.transfer import TransferConfig
    from flask import Flask

log = logging.getLogger("flask_store.providers.s3")


class S3GeventBackend(S3Backend):
    """Like :class:`S3Backend`, but ``save()`` returns before the upload ends.

    ``save()`` copies the stream to a file in ``STORE_S3_SPOOL_PATH`` (the
    system temporary folder by default) and claims the first free candidate
    name on S3 with a conditional write of a small placeholder (marked as
    pending in its metadata), then returns with that final name while a
    greenlet uploads the file over the placeholder with ``If-Match`` on its
    ETag. The claim is made by S3 itself, so no two saves, in any number of
    processes, get the same name. A Flask-Store reader refuses a placeholder
    (:class:`~flask_store.exceptions.UploadPending`); it is private whatever
    ``STORE_S3_ACL`` says.

    On a server that ignores conditional writes, names are checked before the
    placeholder is written and the placeholder is read back. Where the server
    would not check the ``If-Match`` of the upload (:meth:`replacement`), the
    placeholder is checked again just before it, so an upload whose name
    another process took is not written over it: it fails as below.

    A failed upload is retried ``STORE_S3_BACKGROUND_ATTEMPTS`` times, then
    logged with the key and the spooled file's path and sent as
    :data:`~flask_store.signals.upload_failed` (``provider``, ``exception``,
    ``spooled_path``); the spooled file is kept, and ``flask store cleanup``
    finishes it later. It is removed once uploaded. A file deleted before its
    upload finished stays deleted.

    Nothing is monkey-patched here: an app enables gevent by calling
    ``gevent.monkey.patch_all()`` first thing in its entry point. Without it
    the uploads run in a background thread's gevent hub.
    """

    settings = (
        *S3Backend.settings,
        optional_text("STORE_S3_SPOOL_PATH"),
        count("STORE_S3_BACKGROUND_ATTEMPTS", minimum=1),
    )

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        #: Where uploads wait (``STORE_S3_SPOOL_PATH``); ``None``: the temp folder.
        self.spool_path: str | None = app.config.get("STORE_S3_SPOOL_PATH") or None
        self.background_attempts = int(app.config["STORE_S3_BACKGROUND_ATTEMPTS"])
        self.fsync = bool(app.config.get("STORE_FSYNC", True))

    def write(
        self, stream: IO[bytes], candidates: Sequence[str], *, handle: Any = None
    ) -> str:
        """Spool ``stream``, claim a name and upload in the background.

        ``handle`` is the provider saving it, sent with ``upload_failed``
        should the upload fail; by default a new one for the path.
        """
        load_gevent()  # fail before spooling when gevent is missing
        honoured = self._honoured(candidates)
        spooled = self._spool(stream)
        # Measured as it was spooled: the upload carries it as a save's would.
        metadata = stream.metadata() if isinstance(stream, Measured) else None
        try:
            claim = s3_claims.claim_first(self, candidates, honoured)
            try:
                self._write_ticket(spooled, claim, metadata)
                upload = partial(self._upload_spooled, spooled, claim, handle, metadata)
                uploads.start(upload)
            except BaseException:
                reservations.release(self.bucket, claim.key)
                s3_claims.drop_placeholder(self, claim)
                raise
        except BaseException:
            remove_spool(spooled)
            raise
        return claim.path

    def _spool(self, stream: IO[bytes]) -> str:
        return spool_copy(stream, self.spool_path, fsync=self.fsync)

    def _write_ticket(
        self, spooled: str, claim: Claim, metadata: FileMetadata | None
    ) -> None:
        ticket: dict[str, Any] = {
            "bucket": self.bucket,
            "key": claim.key,
            "path": claim.path,
            "token": claim.token,
            "claim": claim.claim,
        }
        if metadata is not None:
            ticket["metadata"] = metadata.to_dict()
        write_ticket(spooled, ticket, fsync=self.fsync)

    def _where(self, key: str, token: str, claim: str) -> str:
        """What holds ``key`` now: "uploaded", "pending", "gone" or "taken"."""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            error = translate(exc, key, "read")
            if isinstance(error, StoredFileNotFound):
                return "gone"
            raise error from exc
        metadata = head.get("Metadata", {})
        if metadata.get(UPLOAD_TOKEN) == token:
            return "uploaded"
        if metadata.get(PENDING) == claim:
            return "pending"
        return "taken"

    # -- the background upload --------------------------------------------

    def _upload_spooled(
        self,
        spooled: str,
        claim: Claim,
        handle: Any,
        metadata: FileMetadata | None = None,
    ) -> None:
        """Upload the spooled file, retrying; runs in a greenlet, never raises."""
        try:
            error = self._upload_with_retries(spooled, claim, metadata)
        except Exception as exc:  # a bug or a lost spool file: still report it
            error = exc
        finally:
            reservations.release(self.bucket, claim.key)
        if error is _DELETED:
            log.warning(
                "%r was deleted before its background upload finished; "
                "the upload is dropped.",
                claim.key,
            )
        elif error is not None:
            if handle is None:
                handle = self.handle(claim.path)
            self._give_up(claim.key, handle, spooled, error)
            return
        try:
            remove_spool(spooled)
        except OSError as exc:  # uploaded all the same
            log.warning("Could not remove the spooled upload %s: %s", spooled, exc)

    def _upload_with_retries(
        self,
        spooled: str,
        claim: Claim,
        metadata: FileMetadata | None = None,
    ) -> Exception | None:
        """None once uploaded, else the error that ended the attempts."""
        gevent = load_gevent()
        error: Exception | None = None
        transfer, checked = self.replacement(os.path.getsize(spooled))
        for attempt in range(self.background_attempts):
            if attempt:
                gevent.sleep(min(2 ** (attempt - 1), 30))
            try:
                if not checked:
                    # The server would not check the ETag: look first.
                    where = self._where(claim.key, claim.token, claim.claim)
                    if where == "uploaded":
                        return None
                    if where == "gone":
                        return _DELETED
                    if where == "taken":
                        break
                with (
                    self.conditions.replacing(claim.token, claim.etag),
                    open(spooled, "rb") as source,
                ):
                    if s3_writes.upload(
                        self,
                        source,
                        claim.key,
                        claim.token,
                        metadata=metadata,
                        transfer=transfer,
                    ):
                        return None
            except UploadFailed as exc:
                if _is_missing(exc):
                    return _DELETED
                error = exc
                continue
            except StorageError as exc:
                error = exc
                continue
            break
        else:
            return error
        return UploadFailed(
            f"{claim.key!r} was taken by another writer before the background "
            "upload reached S3; nothing was overwritten."
        )

    def replacement(self, size: int) -> tuple[TransferConfig, bool]:
        """How to upload ``size`` bytes over a placeholder; whether S3 checks its ETag.

        A server may honour ``If-Match`` on a PUT and ignore it on completing a
        multipart upload (moto does): then a file of up to 5 GiB goes in one
        PUT, which the server checks, instead of in parts. Where S3 would not
        check it, the caller looks at the placeholder first.
        """
        conditions = self.conditions
        if size < self.transfer.multipart_threshold:
            return self.transfer, conditions.replaces_safely(multipart=False)
        if conditions.replaces_safely(multipart=True):
            return self.transfer, True
        if size <= MAX_PUT and conditions.replaces_safely(multipart=False):
            return transfer_config(MAX_PUT), True
        return self.transfer, False

    def _give_up(self, key: str, handle: Any, spooled: str, exc: Exception) -> None:
        log.error(
            "Background upload of %r to bucket %r failed; the file is kept at %s",
            key,
            self.bucket,
            spooled,
            exc_info=exc,
        )
        upload_failed.send(
            self.app, provider=handle, exception=exc, spooled_path=spooled
        )

    # -- leftovers: spooled uploads a crash left (:mod:`.s3_recovery`) ---

    def leftovers(self, *, older_than: timedelta) -> Iterator[Leftover]:
        yield from s3_recovery.leftovers(self, older_than)
        yield from super().leftovers(older_than=older_than)

    def clean_leftover(self, leftover: Leftover) -> str:
        if leftover.kind in (*s3_staging.KINDS, variant_files.KIND):
            return super().clean_leftover(leftover)
        return s3_recovery.clean(self, leftover)


#: The largest object S3 takes in one PUT (5 GiB).
MAX_PUT = 5 * 1024**3

#: What an upload ends with when its placeholder was deleted meanwhile.
_DELETED = UploadFailed("deleted before the background upload finished")


def _is_missing(exc: UploadFailed) -> bool:
    """Whether an upload failed because its key no longer exists (If-Match)."""
    cause = exc.__cause__
    return isinstance(cause, ClientError) and error_code(cause) in NOT_FOUND
