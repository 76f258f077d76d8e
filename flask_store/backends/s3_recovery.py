"""Background uploads a crash left behind: finding and finishing them.

Each spooled upload of :class:`~.s3_gevent.S3GeventBackend` has a ticket that
says where it was going (:mod:`.background`); the object's metadata tells
whether it got there. ``flask store cleanup`` lists them with
:func:`leftovers` and finishes each with :func:`clean`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from .. import names, spelling
from . import s3_claims, s3_writes
from .background import (
    SPOOL_PREFIX,
    SPOOL_SUFFIX,
    read_ticket,
    remove_spool,
    spool_folder,
    ticket_metadata,
)
from .base import Leftover
from .s3 import S3Backend

if TYPE_CHECKING:
    from .s3_gevent import S3GeventBackend

_ACTIONS = {
    "uploaded": "remove: {path} is on S3",
    "gone": "remove: {path} was deleted",
    "pending": "re-upload to {path}",
    "taken": "re-upload under a new name: {path} holds another file",
}


def leftovers(backend: S3GeventBackend, older_than: timedelta) -> Iterator[Leftover]:
    """Spooled uploads of the backend's bucket and prefix, last written ``older_than`` ago.

    A spooled file without a ticket (its ``save()`` never returned) is listed
    only from a ``STORE_S3_SPOOL_PATH`` of the app's own, never from the
    shared temporary folder.
    """
    folder = spool_folder(backend.spool_path)
    own_folder = bool(backend.spool_path)
    cutoff = datetime.now(timezone.utc) - older_than
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except FileNotFoundError:
        return
    for entry in entries:
        if not (
            entry.name.startswith(SPOOL_PREFIX) and entry.name.endswith(SPOOL_SUFFIX)
        ):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        modified = datetime.fromtimestamp(info.st_mtime, timezone.utc)
        if not entry.is_file(follow_symlinks=False) or modified > cutoff:
            continue
        ticket = read_ticket(entry.path)
        if ticket is None:
            if own_folder:
                yield Leftover(
                    entry.path,
                    "spooled upload",
                    info.st_size,
                    modified,
                    "remove: its save() never finished",
                )
            continue
        if ticket["bucket"] != backend.bucket or not _under(
            ticket["key"], backend.prefix
        ):
            continue  # another app's
        where = backend._where(ticket["key"], ticket["token"], ticket["claim"])
        yield Leftover(
            entry.path,
            "spooled upload",
            info.st_size,
            modified,
            _ACTIONS[where].format(path=ticket["path"]),
        )


def clean(backend: S3GeventBackend, leftover: Leftover) -> str:
    """Upload a spooled file that never reached S3; remove one that did."""
    spooled = leftover.path
    if not os.path.exists(spooled):
        return "already gone"
    ticket = read_ticket(spooled)
    if ticket is None:
        remove_spool(spooled)
        return "removed"
    path = ticket["path"]
    metadata = ticket_metadata(ticket)
    where = backend._where(ticket["key"], ticket["token"], ticket["claim"])
    if where in ("uploaded", "gone"):
        remove_spool(spooled)
        return (
            f"removed ({path} {'is on S3' if where == 'uploaded' else 'was deleted'})"
        )
    if where == "pending":
        etag = s3_claims.placeholder_etag(backend, ticket["key"], ticket["claim"])
        if etag is not None:
            transfer, _ = backend.replacement(os.path.getsize(spooled))
            with (
                backend.conditions.replacing(ticket["token"], etag),
                open(spooled, "rb") as source,
            ):
                if s3_writes.upload(
                    backend,
                    source,
                    ticket["key"],
                    ticket["token"],
                    metadata=metadata,
                    transfer=transfer,
                ):
                    remove_spool(spooled)
                    return f"re-uploaded to {path}"
    # Someone else's file holds the name: keep both, under a new name.
    location, filename = spelling.split_stored_path(path)
    candidates = [
        names.join_key(location, name)
        for name in names.candidate_names(names.secure_name(filename))
    ]
    with open(spooled, "rb") as source:
        saved = S3Backend._write(backend, source, candidates, metadata)
    remove_spool(spooled)
    return f"re-uploaded as {saved} ({path} holds another file)"


def _under(key: str, prefix: str) -> bool:
    return not prefix or key.startswith(prefix + "/")
