"""Background uploads of this process: their gevent hub, a counter to wait
on, and the spool folder where their files wait, each with a ticket.

Used by :class:`~flask_store.backends.s3_gevent.S3GeventBackend`; nothing here
touches S3, so any backend can upload in the background the same way.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import tempfile
import threading
from collections.abc import Callable
from contextlib import suppress
from typing import IO, Any

from ..metadata import FileMetadata
from .base import CHUNK_SIZE


def load_gevent() -> Any:
    try:
        import gevent
    except ImportError as exc:
        raise ImportError(
            "Background uploads (S3GeventProvider) need gevent: "
            "pip install 'Flask-Store[gevent]'."
        ) from exc
    return gevent


def _monkey_patched() -> bool:
    """Whether the app ran ``gevent.monkey.patch_all()`` (sockets and threads)."""
    from gevent import monkey

    return bool(
        monkey.is_module_patched("socket") and monkey.is_module_patched("threading")
    )


def _serve_uploads(ready: queue.SimpleQueue[Any]) -> None:
    """Run a gevent hub in this thread for upload greenlets, forever."""
    gevent = load_gevent()
    ready.put(gevent.get_hub().loop)
    while True:  # the timer keeps the loop alive between uploads
        gevent.sleep(3600)


class _Uploads:
    """The background uploads of this process: a counter to wait on.

    With ``monkey.patch_all()`` the greenlets run in the caller's hub and
    cooperate with everything else. Without it they run in the hub of one
    daemon thread, so they still make progress while the app's threads block.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._condition: threading.Condition | None = None
        self._loop: Any = None

    @property
    def condition(self) -> threading.Condition:
        # Made on first use, after the app had its chance to monkey-patch.
        with self._lock:
            if self._condition is None:
                self._condition = threading.Condition()
            return self._condition

    def start(self, job: Callable[[], None]) -> None:
        gevent = load_gevent()
        with self.condition:
            self._running += 1
        try:
            if _monkey_patched():
                gevent.spawn(self._run, job)
            else:
                self._background_loop().run_callback_threadsafe(
                    gevent.spawn, self._run, job
                )
        except BaseException:
            self._finished()
            raise

    def _background_loop(self) -> Any:
        with self._lock:
            if self._loop is None:
                ready: queue.SimpleQueue[Any] = queue.SimpleQueue()
                threading.Thread(
                    target=_serve_uploads,
                    args=(ready,),
                    name="flask-store-uploads",
                    daemon=True,
                ).start()
                self._loop = ready.get()
            return self._loop

    def _run(self, job: Callable[[], None]) -> None:
        try:
            job()
        finally:
            self._finished()

    def _finished(self) -> None:
        with self.condition:
            self._running -= 1
            self.condition.notify_all()

    def wait(self, timeout: float | None) -> bool:
        with self.condition:
            return self.condition.wait_for(lambda: self._running == 0, timeout)


uploads = _Uploads()


def wait_for_uploads(timeout: float | None = None) -> bool:
    """Wait until every background upload of this process has finished.

    Call it at shutdown (and in tests) so no upload is cut off. Finished means
    uploaded, or given up on (logged, ``upload_failed`` sent, spooled copy
    kept). Returns False if ``timeout`` seconds passed first.
    """
    return uploads.wait(timeout)


#: Spooled uploads are ``flask-store-*.upload`` files in the spool folder;
#: each has a ticket, the same name plus ``.json``, saying what it is for
#: (bucket, key, tokens), so ``flask store cleanup`` can finish it after a crash.
SPOOL_PREFIX = "flask-store-"
SPOOL_SUFFIX = ".upload"
TICKET_SUFFIX = ".json"


def spool_folder(path: str | None) -> str:
    """Where background uploads are spooled: ``path``, or the temporary folder."""
    return path or tempfile.gettempdir()


def spool_copy(stream: IO[bytes], folder: str | None, *, fsync: bool) -> str:
    """Copy ``stream`` to a new spooled upload in ``folder``; return its path.

    With ``fsync`` it is on disk before this returns: until uploaded, this
    copy is the only one. Nothing is left behind when copying fails.
    """
    if folder:
        os.makedirs(folder, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        dir=folder, prefix=SPOOL_PREFIX, suffix=SPOOL_SUFFIX, delete=False
    ) as spool:
        try:
            shutil.copyfileobj(stream, spool, CHUNK_SIZE)
            if fsync:
                spool.flush()
                os.fsync(spool.fileno())
        except BaseException:
            spool.close()
            os.unlink(spool.name)
            raise
    return spool.name


def write_ticket(spooled: str, ticket: dict[str, Any], *, fsync: bool) -> None:
    """Write the ticket saying what the spooled upload ``spooled`` is for."""
    with open(spooled + TICKET_SUFFIX, "x", encoding="utf-8") as file:
        json.dump(ticket, file)
        if fsync:
            file.flush()
            os.fsync(file.fileno())


def remove_spool(spooled: str) -> None:
    for path in (spooled, spooled + TICKET_SUFFIX):
        with suppress(FileNotFoundError):
            os.unlink(path)


def read_ticket(spooled: str) -> dict[str, Any] | None:
    try:
        with open(spooled + TICKET_SUFFIX, encoding="utf-8") as file:
            ticket = json.load(file)
    except (OSError, ValueError):
        return None
    fields = ("bucket", "key", "path", "token", "claim")
    if not isinstance(ticket, dict) or not all(
        isinstance(ticket.get(f), str) for f in fields
    ):
        return None
    return ticket


def ticket_metadata(ticket: dict[str, Any]) -> FileMetadata | None:
    """What the save measured, as its ticket keeps it (``None`` if nothing)."""
    return FileMetadata.from_dict(ticket.get("metadata"))
