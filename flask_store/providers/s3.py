"""Amazon S3 (and S3-compatible) storage, in the foreground or via gevent.

The storage itself is :class:`~flask_store.backends.s3.S3Backend` (one
managed, conditional upload per file: never over another object) and
:class:`~flask_store.backends.s3_gevent.S3GeventBackend` (``save()`` returns
while a greenlet uploads). Importing this module imports boto3.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, cast

from ..backends.background import wait_for_uploads
from ..backends.s3 import S3Backend
from ..backends.s3_client import MiB, default_domain
from ..backends.s3_conditional import SETTING as CONDITIONAL_WRITES
from ..backends.s3_gevent import S3GeventBackend
from ..state import store_state
from .base import Provider

if TYPE_CHECKING:
    from flask import Flask
    from mypy_boto3_s3 import S3Client

__all__ = [
    "S3GeventProvider",
    "S3Provider",
    "default_domain",
    "s3_client",
    "wait_for_uploads",
]


def s3_client(app: Flask) -> S3Client:
    """The app's boto3 S3 client: created on first use, then reused.

    Shared by the app's threads. Its PutObject and CompleteMultipartUpload
    calls are conditional writes: they never replace an existing object.
    """
    backend = store_state(app).backend.storage
    if not isinstance(backend, S3Backend):
        raise TypeError(f"{app.name!r} does not store files on S3.")
    return backend.client


class S3Provider(Provider):
    """Stores files as objects in the bucket ``STORE_S3_BUCKET``.

    The key is ``STORE_PATH/location/filename``; ``absolute_path`` is that
    key and ``absolute_url`` is ``STORE_DOMAIN`` (by default the bucket's own
    URL) joined with it.
    """

    backend_class = S3Backend
    REQUIRED_CONFIGURATION = ("STORE_S3_BUCKET", "STORE_S3_REGION")

    @staticmethod
    def app_defaults(app: Flask) -> None:
        config = app.config
        config.setdefault("STORE_PATH", "")
        config.setdefault("STORE_S3_ACCESS_KEY", None)
        config.setdefault("STORE_S3_SECRET_KEY", None)
        config.setdefault("STORE_S3_ACL", "private")
        config.setdefault("STORE_S3_ENDPOINT_URL", None)
        config.setdefault("STORE_S3_MULTIPART_THRESHOLD", 8 * MiB)
        config.setdefault("STORE_S3_MAX_ATTEMPTS", 5)
        config.setdefault(CONDITIONAL_WRITES, "auto")
        config.setdefault("STORE_S3_LOCK_PATH", None)

    @property
    def s3(self) -> S3Backend:
        """The app's S3 backend."""
        return cast(S3Backend, self.backend.storage)

    @property
    def client(self) -> S3Client:
        return self.s3.client

    @property
    def bucket(self) -> str:
        return self.s3.bucket

    def key(self, path: str) -> str:
        """The object key of a path relative to ``STORE_PATH``."""
        return self.s3.key(path)

    @property
    def absolute_url(self) -> str:
        """``STORE_DOMAIN``, or the bucket's URL, joined with ``relative_url``."""
        return self.s3.url(self.relative_url)

    def presigned_url(self, expires_in: int = 3600) -> str:
        """A URL that lets anyone GET this (private) object for ``expires_in`` s.

        S3 answers it with the type the name stands for (whatever type the
        object was written with, by Flask-Store or another tool) and, for a
        type a browser could run, as an attachment.
        """
        return self.s3.presigned_url(self.relative_path, expires_in)

    @property
    def content_type(self) -> str:
        """The Content-Type S3 serves the object with (from its name if missing)."""
        return self.backend.content_type(self.relative_path)


class S3GeventProvider(S3Provider):
    """Like :class:`S3Provider`, but ``save()`` returns before the upload ends.

    See :class:`~flask_store.backends.s3_gevent.S3GeventBackend` for how the
    name is claimed, retried and reported; :func:`wait_for_uploads` waits for
    the uploads of this process (at shutdown, in tests).
    """

    backend_class = S3GeventBackend

    def _write(self, stream: IO[bytes], candidates: Sequence[str]) -> str:
        # This provider is the one upload_failed names if the upload fails.
        return cast(S3GeventBackend, self.backend.storage).write(
            stream, candidates, handle=self
        )

    @staticmethod
    def app_defaults(app: Flask) -> None:
        S3Provider.app_defaults(app)
        app.config.setdefault("STORE_S3_SPOOL_PATH", None)
        app.config.setdefault("STORE_S3_BACKGROUND_ATTEMPTS", 3)
