"""The stored image variants of a file or folder, gone with it.

Variants live in the hidden folder :data:`~flask_store.names.VARIANTS_FOLDER`,
under the path of their original (:func:`flask_store.names.variants_location`),
so the variants of a file, or of every file in a folder, are one hidden
folder. :meth:`Backend.delete`, :meth:`~Backend.move` and
:meth:`~Backend.delete_folder` call :func:`forget` with what they removed, so
no caller (the admin, the command line, the Flask-Admin view, code) leaves
variants behind, nor lets a new file saved at the same path find them.

The variants of originals gone by other means (another tool, a crash
between the two deletions) are found by :func:`orphaned`: ``flask store
orphans`` lists and deletes them, and they are among every backend's
:meth:`~Backend.leftovers` for ``flask store cleanup``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from .. import names
from ..exceptions import StorageError
from .listing import PageQuery, StoredFile
from .maintenance import Leftover

if TYPE_CHECKING:
    from .base import Backend


def walk(backend: Backend, location: str) -> Iterator[StoredFile]:
    """Every file under the hidden folder ``location``, at any depth.

    Listed with ``list_page``, which lists a hidden folder it is given
    (``iter_files`` and ``list_folder`` leave hidden paths out). A backend
    whose ``list_page`` refuses hidden folders (the default one, built on an
    ``iter_files`` that cleans its location) lists none here.
    """
    pending = [location]
    while pending:
        folder = pending.pop()
        query = PageQuery(limit=1000)
        while True:
            try:
                page = backend.list_page(folder, query)
            except ValueError:  # a hidden folder this backend cannot list
                return
            for entry in page.entries:
                if entry.is_folder:
                    pending.append(entry.path)
                else:
                    yield entry
            if page.next_after is None:
                break
            query = PageQuery(after=page.next_after, limit=1000)


def delete_all(backend: Backend, location: str) -> list[str]:
    """Delete every file under the hidden folder ``location``; return their paths."""
    deleted = []
    for entry in list(walk(backend, location)):
        try:
            backend.delete_file(entry.path)
        except FileNotFoundError:  # deleted meanwhile
            continue
        deleted.append(entry.path)
    backend.prune_folders(location)
    return deleted


def forget(backend: Backend, path: str) -> None:
    """Delete the variants of the file or folder ``path``, which is gone.

    A failure is logged, not raised: what was asked for is done, and the
    variants left behind are found by ``flask store cleanup``. Hidden paths
    (variants themselves, staged uploads) have no variants.
    """
    if not path or names.is_hidden(path):
        return
    location = names.variants_location(path)
    try:
        delete_all(backend, location)
    except (StorageError, OSError, ValueError) as exc:
        backend.app.logger.warning(
            "Could not delete the image variants of %r: %s", path, exc
        )


def orphaned(backend: Backend) -> Iterator[StoredFile]:
    """The stored variants whose original is not stored any more.

    The variants of a stored original are never among them, whatever their
    version: they are the original's own.
    """
    originals: dict[str, bool] = {}
    for entry in walk(backend, names.VARIANTS_FOLDER):
        original = names.variants_original(entry.path.rpartition("/")[0])
        if original is None:
            continue  # not in an original's folder: not a variant
        if original not in originals:
            originals[original] = backend.exists(original)
        if not originals[original]:
            yield entry


#: The ``kind`` of a :class:`Leftover` that is a variant of a gone original;
#: its ``path`` is the variant's stored path.
KIND = "image variant of a deleted file"


def leftovers(backend: Backend, older_than: timedelta) -> Iterator[Leftover]:
    """The :func:`orphaned` variants last written ``older_than`` ago."""
    cutoff = datetime.now(timezone.utc) - older_than
    for entry in orphaned(backend):
        if entry.modified is not None and entry.modified > cutoff:
            continue
        yield Leftover(
            path=entry.path,
            kind=KIND,
            size=entry.size or 0,
            modified=entry.modified or cutoff,
            action="remove",
        )


def clean(backend: Backend, leftover: Leftover) -> str:
    """Delete an orphaned variant, unless its original is stored again."""
    original = names.variants_original(leftover.path.rpartition("/")[0])
    if original is None:
        raise ValueError(f"{leftover.path} is not an image variant.")
    if backend.exists(original):
        return "kept (its original is stored again)"
    try:
        backend.delete_file(leftover.path)
    except FileNotFoundError:
        return "already gone"
    return "removed"
