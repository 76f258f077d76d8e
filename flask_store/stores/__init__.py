"""The 0.0.2 store classes, on top of today's providers, kept for old code.

0.0.2 configured ``STORE_PROVIDER = "flask_store.stores.local.LocalStore"``
and saved with ``store.Provider().save(upload)``, which returned a
:class:`~flask_store.files.StoreFile`. Each class here is today's provider
(``LocalStore`` is a :class:`~flask_store.providers.local.LocalProvider`) that
also takes that call, so the rest of Flask-Store (serving, ``FlaskStoreType``,
the admin and the CLI) works with it unchanged.

.. deprecated:: 1.0
    Set ``STORE_PROVIDER`` to the provider each class names, and save with
    ``store.Provider(upload).save()``.

Importing this package does not import the S3 classes (nor boto3).
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

from ..deprecation import warn_deprecated
from ..providers.base import Provider

if TYPE_CHECKING:
    from flask import Flask
    from werkzeug.datastructures import FileStorage

__all__ = ["BaseStore"]


def _dotted(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class BaseStore(Provider):
    """A 0.0.2 store: ``BaseStore(destination=None)``, then ``save(upload)``.

    Built with no file, an instance stands for the folder ``destination``
    (relative to ``STORE_PATH``) and ``save(upload)`` stores an upload there,
    returning a :class:`~flask_store.files.StoreFile`. Built with a file or a
    stored path, it is the provider it derives from, exactly.

    .. deprecated:: 1.0
        Use the provider class itself: ``store.Provider(upload,
        location=destination).save()`` returns the provider, whose
        ``absolute_url`` (and the other paths) are properties.
    """

    def __init__(
        self,
        fp: FileStorage | IO[bytes] | str | None = None,
        location: str | None = None,
        *,
        filename: str | None = None,
        app: Flask | None = None,
        destination: str | None = None,
    ) -> None:
        if fp is not None and destination is not None:
            raise TypeError("Give location= with a file, not destination=.")
        if fp is None and (location is not None or filename is not None):
            raise TypeError(
                "location= and filename= go with a file; a store with no file "
                "takes destination=."
            )
        super().__init__(
            fp, location if fp is not None else destination, app=app, filename=filename
        )

    @property
    def destination(self) -> str | None:
        """The folder this store saves in, relative to ``STORE_PATH``."""
        return self.location or None

    @property
    def store_path(self) -> str:
        """Where this store saves: ``STORE_PATH`` joined with the destination."""
        root = str(self.config.get("STORE_PATH") or "")
        return self.join(*[part for part in (root, self.location) if part])

    @classmethod
    def app_defaults(cls, app: Flask) -> None:
        """Warn that the class is a 0.0.2 name, then set its provider's defaults."""
        provider = cls._current_provider()
        if provider is Provider:
            instead = "subclass flask_store.providers.Provider instead"
        else:
            instead = f"set STORE_PROVIDER = {_dotted(provider)!r}"
        warn_deprecated(
            f"STORE_PROVIDER {_dotted(cls)!r} is a 0.0.2 store class and is "
            f"deprecated: {instead}."
        )
        provider.app_defaults(app)

    @classmethod
    def _current_provider(cls) -> type[Provider]:
        """The provider class this store class stands for."""
        return next(
            base
            for base in cls.__mro__
            if issubclass(base, Provider) and not issubclass(base, BaseStore)
        )
