"""Numbers written for people, as the forms, the admin and the CLI show them.

Pure functions: no Flask, no WTForms, no I/O.
"""

from __future__ import annotations


def human_size(size: int | float) -> str:
    """A byte count for people: ``512 bytes``, ``1.5 KB``, ``2 MB``."""
    if size < 1024:
        return f"{int(size)} byte{'' if size == 1 else 's'}"
    for unit in ("KB", "MB", "GB", "TB"):
        size /= 1024
        if size < 1024 or unit == "TB":
            break
    return f"{size:.1f}".removesuffix(".0") + f" {unit}"
