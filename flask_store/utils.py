"""Helpers documented by Flask-Store 0.0.2 and 0.0.4, kept for old code.

.. deprecated:: 1.0
    Nothing in Flask-Store uses them any more; each function warns and names
    what to use instead.
"""

from __future__ import annotations

import os
from typing import Any

from .deprecation import warn_deprecated

__all__ = ["is_directory", "is_path", "path_to_uri"]


def _is_path(value: Any) -> bool:
    return isinstance(value, (str, bytes, os.PathLike))


def is_path(value: Any) -> bool:
    """Whether ``value`` is a path: a ``str``, ``bytes`` or ``os.PathLike``.

    .. deprecated:: 1.0
        Use ``isinstance(value, (str, bytes, os.PathLike))``.
    """
    warn_deprecated(
        "flask_store.utils.is_path() is deprecated: use "
        "isinstance(value, (str, bytes, os.PathLike))."
    )
    return _is_path(value)


def is_directory(value: Any) -> bool:
    """Whether ``value`` is a path (see :func:`is_path`) of an existing directory.

    .. deprecated:: 1.0
        Use ``os.path.isdir(path)`` on a value known to be a path.
    """
    warn_deprecated(
        "flask_store.utils.is_directory() is deprecated: use os.path.isdir(path)."
    )
    return _is_path(value) and os.path.isdir(value)


def path_to_uri(path: str) -> str:
    """``path`` with its backslashes turned into forward slashes.

    .. deprecated:: 1.0
        A provider's ``relative_url`` and ``absolute_url`` are URLs already
        (percent-encoded); for the bare conversion use
        ``path.replace("\\\\", "/")``.
    """
    warn_deprecated(
        "flask_store.utils.path_to_uri() is deprecated: a provider's relative_url "
        "and absolute_url are URLs already; to turn backslashes into slashes use "
        "path.replace('\\\\', '/')."
    )
    return path.replace("\\", "/")
