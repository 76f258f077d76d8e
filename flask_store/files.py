"""``StoreFile``, the 0.0.2 handle on a saved file, kept for old code.

.. deprecated:: 1.0
    A provider instance is the handle now: ``absolute_path``,
    ``absolute_url``, ``relative_path`` and ``relative_url`` are properties
    of the provider that ``save()`` returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .deprecation import warn_deprecated
from .state import store_provider

if TYPE_CHECKING:
    from .providers.base import Provider

__all__ = ["StoreFile"]


class StoreFile:
    """A stored file, with the 0.0.2 methods; each reads today's provider.

    ``store.Provider().save(upload)`` with a 0.0.2 store class returns one.

    :param filename: the file's name in ``destination``.
    :param destination: the folder it is stored in, relative to ``STORE_PATH``.

    .. deprecated:: 1.0
        Use ``store.Provider("destination/filename")`` (or the provider
        ``save()`` returns) and its properties of the same names.
    """

    #: Today's provider instance for the file; the methods read it.
    provider: Provider

    def __init__(self, filename: str, destination: str | None = None) -> None:
        warn_deprecated(
            "flask_store.files.StoreFile is deprecated: use "
            "store.Provider('destination/filename') and its absolute_path, "
            "absolute_url, relative_path and relative_url properties."
        )
        self.provider = store_provider()(filename, location=destination)

    @classmethod
    def of(cls, provider: Provider) -> StoreFile:
        """Wrap a provider instance for a stored file (no warning)."""
        store_file = cls.__new__(cls)
        store_file.provider = provider
        return store_file

    def __repr__(self) -> str:
        return f"<StoreFile {self.relative_path()!r}>"

    @property
    def filename(self) -> str:
        """The stored file's name, without its folder."""
        return self.provider.filename

    @property
    def destination(self) -> str | None:
        """The folder the file is in, relative to ``STORE_PATH``."""
        return self.provider.location or None

    def absolute_path(self) -> str:
        """``provider.absolute_path``: the path on disk, or the object key."""
        return self.provider.absolute_path

    def relative_path(self) -> str:
        """``provider.relative_path``: the path relative to ``STORE_PATH``."""
        return self.provider.relative_path

    def absolute_url(self) -> str:
        """``provider.absolute_url``: the URL with ``STORE_DOMAIN`` or the host."""
        return self.provider.absolute_url

    def relative_url(self) -> str:
        """``provider.relative_url``: the URL path, starting with ``/``."""
        return self.provider.relative_url
