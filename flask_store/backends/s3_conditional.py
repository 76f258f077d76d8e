"""Conditional writes on S3: what the server does with them, and what to do.

Every object Flask-Store creates is written with ``If-None-Match: *`` (a taken
key answers ``412``), and an upload that replaces its own placeholder (a
background upload, a browser's multipart upload) does so with ``If-Match`` on
the placeholder's ETag. Some S3-compatible servers accept these headers and
ignore them, all or some: the write overwrites. Which ones the bucket's server
honours is found out once per app and process by a real probe
(:mod:`.s3_probe`), and ``STORE_S3_CONDITIONAL_WRITES`` says what to do about
it. On a server that ignores ``If-None-Match``, saves check names with a HEAD
and reserve them (:mod:`.s3_locks`); where ``If-Match`` is ignored, an upload
checks its placeholder just before replacing it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..exceptions import NotConfiguredError, StorageError
from .base import CheckResult
from .s3_headers import UPLOAD_TOKEN
from .s3_probe import REJECTED, TAKEN, Verdict, probe
from .s3_probe import error_code as error_code
from .s3_sdk import BotoCoreError, ClientError

if TYPE_CHECKING:
    from flask.config import Config
    from mypy_boto3_s3 import S3Client

__all__ = ["TAKEN", "Verdict", "WriteConditions", "check", "error_code", "honoured"]

log = logging.getLogger("flask_store.providers.s3")

SETTING = "STORE_S3_CONDITIONAL_WRITES"

#: Where a CreateMultipartUpload's request context keeps the upload token.
_CONTEXT_KEY = "flask_store_replacing"


def setting(config: Config) -> bool | str:
    """``STORE_S3_CONDITIONAL_WRITES`` validated: ``"auto"``, True or False."""
    value = config.get(SETTING, "auto")
    if value is True or value is False or value == "auto":
        return value  # type: ignore[no-any-return]
    raise NotConfiguredError(f'{SETTING} must be "auto", True or False, not {value!r}.')


class WriteConditions:
    """Adds the condition to every object write of one client.

    ``If-None-Match: *`` on every PutObject and CompleteMultipartUpload, but
    for the requests of an upload registered with :meth:`replacing` (by its
    upload token): its own PutObject (the token is in its metadata) and the
    completion of its own multipart upload (by the UploadId its
    CreateMultipartUpload got) carry ``If-Match`` on its placeholder's ETag.
    Any other write to that key, from any thread, keeps ``If-None-Match``.
    The managed transfer takes neither condition as an argument, and runs
    multipart requests in its own threads, so they are added here.
    """

    def __init__(self, wanted: bool | str) -> None:
        #: ``STORE_S3_CONDITIONAL_WRITES``: ``"auto"``, True or False.
        self.wanted = wanted
        self.enabled = wanted is not False
        #: What the server honours, once a probe has found out.
        self.verdict: Verdict | None = None
        self.warned = False
        self._lock = threading.Lock()
        #: Upload token -> the ETag of the placeholder it replaces.
        self._expected: dict[str, str] = {}
        #: UploadId -> the upload token of the multipart upload.
        self._uploads: dict[str, str] = {}

    def install(self, client: S3Client) -> None:
        events = client.meta.events
        for operation in ("PutObject", "CompleteMultipartUpload"):
            events.register(
                f"before-parameter-build.s3.{operation}", self._add_condition
            )
        events.register(
            "before-parameter-build.s3.CreateMultipartUpload", self._note_upload
        )
        events.register("after-call.s3.CreateMultipartUpload", self._record_upload)

    @contextmanager
    def replacing(self, token: str, etag: str) -> Iterator[None]:
        """Within the block, the upload ``token`` replaces only the ETag ``etag``."""
        with self._lock:
            self._expected[token] = etag
        try:
            yield
        finally:
            with self._lock:
                self._expected.pop(token, None)
                for upload_id in [u for u, t in self._uploads.items() if t == token]:
                    del self._uploads[upload_id]

    def replaces_safely(self, *, multipart: bool) -> bool:
        """Whether the server refuses a replacement whose ``If-Match`` is wrong."""
        verdict = self.verdict
        if not self.enabled or verdict is None:
            return False
        return verdict.complete_if_match if multipart else verdict.put_if_match

    def _add_condition(self, params: dict[str, Any], **_: Any) -> None:
        if not self.enabled or "IfMatch" in params or "IfNoneMatch" in params:
            return
        with self._lock:
            if "UploadId" in params:  # completing a multipart upload
                token = self._uploads.get(params["UploadId"])
            else:
                token = _token(params)
            etag = self._expected.get(token) if token is not None else None
        if etag is not None:
            params["IfMatch"] = etag
        else:
            params["IfNoneMatch"] = "*"

    def _note_upload(
        self, params: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        token = _token(params)
        with self._lock:
            if token is not None and token in self._expected:
                context[_CONTEXT_KEY] = token

    def _record_upload(
        self, parsed: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        token = context.get(_CONTEXT_KEY)
        upload_id = parsed.get("UploadId")
        if token is None or not upload_id:
            return
        with self._lock:
            if token in self._expected:  # still replacing
                self._uploads[upload_id] = token


def _token(params: dict[str, Any]) -> str | None:
    token = (params.get("Metadata") or {}).get(UPLOAD_TOKEN)
    return token if isinstance(token, str) else None


def _probe(client: S3Client, bucket: str, prefix: str) -> Verdict:
    """:func:`.s3_probe.probe`; a server that cannot be asked is a StorageError."""
    try:
        return probe(client, bucket, prefix)
    except (ClientError, BotoCoreError) as exc:
        hint = ""
        if isinstance(exc, ClientError) and error_code(exc) in REJECTED:
            hint = (
                f"; for a server that refuses the If-None-Match header, set "
                f"{SETTING} = False"
            )
        raise StorageError(
            f"S3 could not be asked whether it honours conditional writes "
            f"(writing a probe object under {prefix!r}): {exc}{hint}"
        ) from exc


def honoured(
    conditions: WriteConditions, client: S3Client, bucket: str, prefix: str
) -> bool:
    """Whether saves may rely on ``If-None-Match`` in ``bucket``.

    ``False`` when ``STORE_S3_CONDITIONAL_WRITES`` is False; else the probe's
    verdict, found once and kept in ``conditions`` (which also says whether
    replacements may rely on ``If-Match``: :meth:`WriteConditions.replaces_safely`).
    Raises :class:`~flask_store.exceptions.StorageError` when the setting is
    True and the server ignores ``If-None-Match``. A probe that fails is not
    kept: that save takes the careful path and the next one asks again.
    """
    wanted = conditions.wanted
    if wanted is False:
        return False
    verdict = conditions.verdict
    if verdict is None:
        try:
            verdict = _probe(client, bucket, prefix)
        except StorageError as exc:
            if wanted is True:
                raise
            log.warning("%s; checking names before writing meanwhile.", exc)
            return False
        conditions.verdict = verdict
    ignored = " and ".join(verdict.ignored())
    if verdict.creates:
        if ignored and _first_warning(conditions):
            log.warning(
                "The S3 server of bucket %r ignores %s: uploads that replace "
                "their placeholder check it just before replacing it (background "
                "uploads up to 5 GiB use one PUT where If-Match is honoured on "
                "it). A file deleted and saved again by another process in "
                "between could be replaced.",
                bucket,
                ignored,
            )
        return True
    if wanted is True:
        raise StorageError(
            f"The S3 server of bucket {bucket!r} ignores conditional writes "
            f"({ignored}), so a save could overwrite a file; {SETTING} is "
            'True, so nothing is saved. Set it to "auto" to check names '
            "before writing instead, or use a server that honours them."
        )
    if _first_warning(conditions):
        log.warning(
            "The S3 server of bucket %r ignores conditional writes (%s): "
            "Flask-Store checks each name before writing and keeps the saves "
            "of this machine apart, but saves from several machines can race "
            "for one name on that server.",
            bucket,
            ignored,
        )
    return False


def _first_warning(conditions: WriteConditions) -> bool:
    with conditions._lock:
        warned, conditions.warned = conditions.warned, True
    return not warned


def check(
    conditions: WriteConditions, client: S3Client, bucket: str, prefix: str
) -> CheckResult:
    """``flask store check``'s step: a real probe, and what the setting makes of it."""
    wanted = conditions.wanted
    try:
        verdict = _probe(client, bucket, prefix)
    except StorageError as exc:
        # With False, saves send no condition: a server that rejects the
        # header outright is what that setting is for.
        return CheckResult(
            "conditional writes",
            wanted is False,
            f"{exc}"
            + (
                f"; {SETTING} is False, so saves send no "
                "condition and check names before writing"
                if wanted is False
                else ""
            ),
        )
    conditions.verdict = verdict
    setting = f"{SETTING} = {wanted!r}"
    ignored = " and ".join(verdict.ignored())
    if verdict.creates:
        detail = (
            "the server honours them: a second write of the probe with "
            "If-None-Match: * was refused (412), as a PUT and as a multipart "
            "upload, so a taken name is never overwritten"
        )
        if ignored:
            detail += (
                f"; it IGNORES {ignored}, so uploads that replace their "
                "placeholder check it just before replacing it"
            )
        else:
            detail += (
                "; If-Match on a wrong ETag was refused too, so an upload "
                "replaces only its own placeholder"
            )
        if wanted is False:
            detail += f"; {setting}, so saves check names before writing instead"
        return CheckResult("conditional writes", True, detail)
    detail = (
        f"the server IGNORES them ({ignored}): a write of the probe with "
        "the condition overwrote it"
    )
    if wanted is True:
        return CheckResult(
            "conditional writes",
            False,
            f"{detail}; {setting}, so saves are refused",
        )
    return CheckResult(
        "conditional writes",
        True,
        f"{detail}; {setting}: saves check each name before writing and keep "
        "the saves of this machine's processes apart, but saves from several "
        "machines can race for one name on this server",
    )
