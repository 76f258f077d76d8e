"""Stored paths: the one spelling of a path every part of Flask-Store uses,
and the spellings other tools may have written for it.

Pure functions: no Flask, no I/O.
"""

from __future__ import annotations

import unicodedata

from . import names


def split_stored_path(path: str) -> tuple[str, str]:
    """Validate the relative path of a stored file; return (location, filename).

    Both come back in the canonical spelling (see :func:`canonical_path`).
    """
    if not isinstance(path, str):
        raise TypeError(f"A stored path must be a str, not {type(path).__name__}.")
    if names.is_plain_path(path):
        if len(path) > names.MAX_NAME_BYTES:
            names.check_length(path, "The stored path")
            for part in path.split("/"):
                names.check_part(part, "Stored path", path)
        location, _, filename = path.rpartition("/")
        return location, filename
    location, _, filename = path.rstrip("/").rpartition("/")
    try:
        location = names.clean_location(location) if location else ""
    except ValueError as exc:
        # Name the path that was given, not the folder part that failed.
        message = str(exc).replace(f"Location {location!r}", f"Stored path {path!r}")
        raise ValueError(message) from None
    filename = unicodedata.normalize("NFC", filename)
    if not filename or filename in (".", ".."):
        raise ValueError(f"{path!r} is not the path of a stored file.")
    names.check_part(filename, "Stored path", path)
    if "\\" in filename:
        raise ValueError(f"Stored path {path!r} may not contain backslashes.")
    names.check_length(names.join_key(location, filename), "The stored path")
    return location, filename


def canonical_path(path: str) -> str:
    """The one spelling of a stored path that every part of Flask-Store uses.

    Unicode NFC, ``/`` between parts, no empty or ``.`` parts, no leading or
    trailing slash: ``docs//./report.txt`` is ``docs/report.txt``, and a name
    with a decomposed accent is spelt with the composed one.
    Two spellings name the same stored file exactly when their canonical
    paths are equal. Raises :class:`ValueError` (or :class:`TypeError`) for
    something that is not a stored path at all: ``..``, control characters,
    backslashes, parts over 255 bytes.
    """
    if not isinstance(path, str):
        raise TypeError(f"A stored path must be a str, not {type(path).__name__}.")
    if names.is_plain_path(path) and len(path) <= names.MAX_NAME_BYTES:
        return path
    # Empty and "." parts, a leading slash among them, name nothing.
    kept = "/".join(part for part in path.split("/") if part not in ("", "."))
    return names.join_key(*split_stored_path(kept))


def is_canonical(path: str) -> bool:
    """Whether ``path`` is a stored path in its canonical spelling.

    A listing entry that is not (a key with an empty or ``.`` part, a name in
    NFD, an invalid name another tool wrote) needs attention: Flask-Store
    addresses files by their canonical path, so it cannot safely read or
    delete such an entry under its own spelling.
    """
    try:
        return canonical_path(path) == path
    except (TypeError, ValueError):
        return False


def is_one_spelling(path: str) -> bool:
    """Whether ``path`` is spelt as Flask-Store spells a path, hidden ones too.

    Unicode NFC, no empty, ``.`` or ``..`` part and no leading or trailing
    slash (``""`` is the root): the key or file such a path names is its own,
    where ``a//b.txt`` would name ``a/b.txt``.
    """
    if not path:
        return True
    parts = path.split("/")
    return (
        "" not in parts
        and "." not in parts
        and ".." not in parts
        and unicodedata.is_normalized("NFC", path)
    )


def spellings(path: str) -> set[str]:
    """Spellings of a canonical ``path`` another tool may have stored in a row.

    The path itself and its NFD form: the normalisation forms a database can
    hold for the same name. Reference checks look for all of them (and map
    what they find back with :func:`canonical_path`).
    """
    return {path, unicodedata.normalize("NFD", path)}
