"""Exceptions raised by Flask-Store.

Everything a storage backend can go wrong with derives from :class:`StoreError`,
so an app can catch one class. Errors meant for HTTP clients also derive from a
Werkzeug exception, so ``app.errorhandler`` can customise them.
"""

from __future__ import annotations

from werkzeug.exceptions import (
    BadRequest,
    Conflict,
    HTTPException,
    RequestEntityTooLarge,
)


class StoreError(Exception):
    """Base class of every Flask-Store error."""


class NotConfiguredError(StoreError):
    """Required configuration is missing; the message names every missing key."""


class StorageError(StoreError):
    """The storage backend failed to do what was asked."""


class StoredFileNotFound(StorageError, FileNotFoundError):
    """The stored file does not exist (an S3 404, a missing local file)."""


class FolderConflict(StorageError, Conflict):
    """A folder was asked for where a file (or a link out of the store) has its name.

    An HTTP 409, so a client that chose the folder gets a clear answer.
    """

    code = 409


class UploadFailed(StorageError):
    """An upload did not complete; nothing was stored under the final name."""


class UploadPending(StoredFileNotFound):
    """The file's name is taken but its background upload has not finished.

    Reading it now would give a placeholder, not the file; try again later
    (or call :func:`~flask_store.providers.s3.wait_for_uploads` in-process).
    """


class FileRejected(StoreError, BadRequest):
    """An uploaded file was refused (type or name not allowed)."""

    code = 400


class FileTooLarge(StoreError, RequestEntityTooLarge):
    """An uploaded file is larger than ``STORE_MAX_SIZE`` allows."""

    code = 413


class InsufficientStorage(StorageError, HTTPException):
    """The backend has no room left (disk full, quota exceeded); nothing was stored.

    An HTTP 507, so the admin and apps can tell the user plainly.
    """

    code = 507
    description = "The store has no room left for this file; nothing was stored."


class NameTooLong(FileRejected, ValueError):
    """A file or folder name is longer than the filesystem allows (in bytes).

    A :class:`ValueError` and an HTTP 400; nothing was stored.
    """


class BadUploadToken(StoreError, BadRequest):
    """A direct upload's token is forged, expired, for another app or store,
    or names a file that is not there as signed. An HTTP 400."""
