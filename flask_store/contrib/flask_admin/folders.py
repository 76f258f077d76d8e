"""Whether a stored path is a folder, in a bounded number of operations.

Flask-Admin asks "is this a folder?" and "does this exist?" for every view it
renders. Answering by listing the parent folder costs one request per 1000
keys on S3; here each backend answers with one request or one ``open``.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from ... import fsops, names
from ...backends.base import Backend, PageQuery
from ...backends.local import LocalBackend, path_parts

if TYPE_CHECKING:
    from ...backends.s3 import S3Backend

#: The S3 backend's module: imported (with boto3) only by apps that use S3,
#: so an S3 backend exists only once it is in ``sys.modules``.
_S3_MODULE = "flask_store.backends.s3"


def is_folder(backend: Backend, path: str) -> bool:
    """Whether the canonical stored ``path`` is a folder (``""`` is the root).

    A folder is there when it holds something or was created empty
    (:meth:`~flask_store.backends.base.Backend.create_folder`).
    """
    if not path:
        return True
    storage = backend.storage
    s3 = sys.modules.get(_S3_MODULE)
    if s3 is not None and isinstance(storage, s3.S3Backend):
        return _s3_folder(storage, path)
    if isinstance(storage, LocalBackend):
        return _local_folder(storage, path)
    return _listed_folder(backend, path)


def _s3_folder(storage: S3Backend, path: str) -> bool:
    """One ``ListObjectsV2`` of at most one key: the marker or a first entry."""
    s3 = sys.modules[_S3_MODULE]
    prefix = storage.key(path) + "/"
    try:
        response = storage.client.list_objects_v2(
            Bucket=storage.bucket, Prefix=prefix, MaxKeys=1
        )
    except (s3.ClientError, s3.BotoCoreError) as exc:
        raise s3.translate(exc, prefix, "list") from exc
    return bool(response.get("KeyCount", 0))


def _local_folder(storage: LocalBackend, path: str) -> bool:
    """Open it as a folder from the store's descriptor, never via a symlink."""
    try:
        fd = fsops.open_folder(storage.dir.fd(), path_parts(path))
    except (OSError, ValueError, fsops.Refused):
        return False
    os.close(fd)
    return True


def _listed_folder(backend: Backend, path: str) -> bool:
    """Any other backend: look for the name in its parent, page by page."""
    parent, _, name = path.rpartition("/")
    query = PageQuery(limit=100, contains=name)
    while True:
        page = backend.list_page(names.clean_location(parent), query)
        if any(entry.is_folder and entry.name == name for entry in page.entries):
            return True
        if page.next_after is None:
            return False
        query = PageQuery(after=page.next_after, limit=100, contains=name)
