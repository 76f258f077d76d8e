"""Deprecation warnings that point at the code of the app, not at Flask-Store."""

from __future__ import annotations

import os
import sys
import warnings

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_deprecated(message: str) -> None:
    """Emit a :class:`DeprecationWarning` attributed to the first caller
    outside the ``flask_store`` package.

    Python's default filters then show it once per line of the app's code,
    however deep inside Flask-Store it was raised. (Python 3.12's
    ``skip_file_prefixes`` does the same; this also runs on 3.10 and 3.11.)
    """
    warn_app(message, DeprecationWarning)


def warn_app(message: str, category: type[Warning] = UserWarning) -> None:
    """Emit a warning attributed to the first caller outside ``flask_store``."""
    frame = sys._getframe(1)
    # stacklevel 2 is the frame that called this function.
    level = 2
    while frame.f_back is not None and frame.f_code.co_filename.startswith(
        _PACKAGE_DIR
    ):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
