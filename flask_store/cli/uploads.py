"""Saving from a command: progress by bytes read, waiting for background uploads."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from ..providers.base import Provider
from ..signals import upload_failed
from .errors import describe


class CountingReader(io.RawIOBase):
    """Reads a file and moves a progress bar by the bytes read."""

    def __init__(self, raw: IO[bytes], bar: Any) -> None:
        super().__init__()
        self._raw = raw
        self._bar = bar

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        self._bar.update(count or 0)
        return int(count or 0)

    def seekable(self) -> bool:
        return self._raw.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()


@contextmanager
def background_uploads(failed: dict[str, str]) -> Iterator[None]:
    """Wait for background uploads on exit; collect failed ones in ``failed``.

    A provider that uploads in the background (``S3GeventProvider``) returns
    from ``save()`` at once. A command must not exit before its uploads ended,
    and must report the ones that failed, which only a signal tells.
    """

    def on_failure(
        sender: Any, provider: Provider, exception: Exception, **_: Any
    ) -> None:
        failed[provider.relative_path] = describe(exception)

    with upload_failed.connected_to(on_failure):
        try:
            yield
        finally:
            # Loaded only when the app uses an S3 provider.
            s3 = sys.modules.get("flask_store.providers.s3")
            if s3 is not None:
                s3.wait_for_uploads()
