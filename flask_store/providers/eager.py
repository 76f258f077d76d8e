"""Variants made when an image is saved: ``STORE_EAGER_VARIANTS``.

Each is rendered from the upload itself while it is at hand (no read back
from the storage), right after the original is stored. A variant that
cannot be made never fails the save: it is logged and sent as
:data:`~flask_store.signals.variant_failed`, and its URL renders it on the
first request instead, as for any variant. A background upload
(``S3GeventProvider``) has none made at save time: a variant belongs to its
original's version, known once the upload is done (see
:mod:`flask_store.variants`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

from ..exceptions import StorageError, UploadPending
from ..signals import variant_failed
from ..variants import NotAnImage, content_version, delete_variants, ensure

if TYPE_CHECKING:
    from .base import Provider


@contextlib.contextmanager
def _original(provider: Provider, upload: IO[bytes]) -> Iterator[IO[bytes]]:
    """The saved bytes: the upload at its start if it can seek, else the stored file."""
    seekable = getattr(upload, "seekable", None)
    if seekable is not None and seekable():
        where = upload.tell()
        upload.seek(0)
        try:
            yield upload
        finally:
            upload.seek(where)
        return
    with provider.backend.open(provider.relative_path) as stored:
        yield stored


def make_eager_variants(provider: Provider, upload: IO[bytes]) -> list[str]:
    """Render and store the app's eager variants of a file just saved.

    Only for what its content says is an image; returns the variants' paths.
    """
    specs = provider.state.eager_variants
    if not specs or not provider.metadata.content_type.startswith("image/"):
        return []
    made: list[str] = []
    path = provider.relative_path
    try:
        # Variants stored under this path belong to a file that left it by
        # another tool than Flask-Store; their version is not this file's,
        # so they would never be served, but they are dead weight.
        delete_variants(provider.backend, path)
        version = content_version(provider.backend.stat(path))
    except UploadPending:
        # A background upload: the version its variants belong to is only
        # known once it is uploaded; they are made on their first request.
        return made
    except (StorageError, OSError) as exc:
        provider.app.logger.warning(
            "Could not delete the old image variants of %r: %s", path, exc
        )
        return made
    for spec in specs:
        try:
            with _original(provider, upload) as source:
                made.append(
                    ensure(provider.backend, path, spec, version=version, source=source)
                )
        except (NotAnImage, StorageError, OSError) as exc:
            provider.app.logger.warning(
                "The %s variant of %r was not made at save time: %s",
                spec.name,
                path,
                exc,
            )
            variant_failed.send(
                provider.app, provider=provider, spec=spec, exception=exc
            )
    return made
