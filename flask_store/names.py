"""Pure functions for file names, locations and URLs (the one spelling of a
stored path is :mod:`.spelling`'s).

Nothing here touches Flask, the network or the disk, so every provider shares
the same rules and tests can check them directly.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Sequence
from typing import overload
from urllib.parse import quote

from .deprecation import warn_deprecated

#: The longest file name, in UTF-8 bytes, that common filesystems accept.
MAX_NAME_BYTES = 255

#: The longest stored path, in UTF-8 bytes: S3's limit for a key, and well
#: inside Linux's 4096-byte ``PATH_MAX`` with room for ``STORE_PATH``.
MAX_PATH_BYTES = 1024

#: The longest location, in UTF-8 bytes: any file name fits inside it.
MAX_LOCATION_BYTES = MAX_PATH_BYTES - MAX_NAME_BYTES - 1

#: An extension longer than this is treated as part of the name.
_MAX_EXTENSION_BYTES = 32

#: Punctuation kept in names: safe in URLs and on Linux, macOS and Windows.
_KEPT_PUNCTUATION = frozenset("-_.()~+,")

_WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{dev}{n}" for dev in ("COM", "LPT") for n in "0123456789¹²³"]
)

_RUNS = re.compile(r"_{2,}|\.{2,}")

#: Exactly Unicode category Cc, as one regex: stored paths are checked for every
#: row a FlaskStoreType column loads, so this check must be cheap.
_CONTROL_CHARS = re.compile("[\x00-\x1f\x7f-\x9f]")

#: A stored path that needs no checking: parts of safe ASCII, none hidden
#: (:func:`is_hidden_name`). Database rows hold such paths, and loading many
#: rows stays fast.
_PLAIN_PATH = re.compile(
    r"(?:[\w\-~+,()][\w.\-~+,()]*/)*[\w\-~+,()][\w.\-~+,()]*", re.ASCII
)


def _keep(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "LNM" or char in _KEPT_PUNCTUATION


#: A name of ASCII letters, digits, spaces and kept punctuation only: most
#: uploads. :func:`_clean` keeps all of it as it is but the spaces.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9 \-_.()~+,]*")


def _clean(name: str) -> str:
    """Keep letters, digits, marks and safe punctuation; spaces become ``_``.

    Runs of ``_`` or ``.`` shrink to one, so no name contains ``..``.
    """
    if _PLAIN_NAME.fullmatch(name):
        return _RUNS.sub(lambda run: run.group()[0], name.replace(" ", "_"))
    chars = []
    for char in name:
        if char.isspace():
            chars.append("_")
        elif _keep(char):
            chars.append(char)
    return _RUNS.sub(lambda run: run.group()[0], "".join(chars))


def split_extension(name: str) -> tuple[str, str]:
    """Split ``name`` into stem and extension (with its dot).

    An extension too long to be one does not count.
    """
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext.encode()) > _MAX_EXTENSION_BYTES:
        return name, ""
    return stem, "." + ext


def _truncate(text: str, max_bytes: int) -> str:
    """Cut ``text`` to at most ``max_bytes`` UTF-8 bytes on a character boundary."""
    encoded = text.encode()
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode(errors="ignore")


def _fit(stem: str, ext: str, max_bytes: int = MAX_NAME_BYTES) -> str:
    stem = _truncate(stem, max_bytes - len(ext.encode())).rstrip(". ")
    return stem + ext


def generated_name(extension: str = "") -> str:
    """A fresh random name, used when nothing usable is left of a name."""
    return f"file-{secrets.token_hex(6)}{extension}"


def secure_name(filename: str) -> str:
    """Return a version of ``filename`` safe to store, serve and put in a URL.

    Directory parts are dropped, control characters and characters unsafe in
    URLs or on common filesystems are removed, Unicode letters are kept in NFC,
    Windows reserved names are avoided and the result fits in 255 bytes with
    its extension. A name with nothing usable left gets a generated one.
    """
    name = unicodedata.normalize("NFC", filename)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem, ext = split_extension(_clean(name).rstrip("._ "))
    stem = stem.strip("._ ")
    ext = ext.rstrip("._ ")
    ext = ext.lower() if ext.isascii() else ext
    if len(ext) < 2:
        ext = ""
    if not stem:
        return generated_name(ext)
    if stem.split(".", 1)[0].upper() in _WINDOWS_RESERVED:
        stem = "_" + stem
    return _fit(stem, ext)


def with_suffix(name: str, token: str | None = None) -> str:
    """Return ``name`` with a short unique token before its extension."""
    token = token or secrets.token_hex(4)
    stem, ext = split_extension(name)
    return _fit(stem, f"_{token}{ext}")


def candidate_names(name: str, attempts: int = 16) -> list[str]:
    """``name`` followed by suffixed alternatives to try when it is taken."""
    return [name] + [with_suffix(name) for _ in range(attempts - 1)]


class Candidates(Sequence[str]):
    """The stored paths to try for a new file: ``location/name``, then the
    same with a short unique suffix, ``attempts`` in all.

    Each is made when first asked for, so a save whose first name is free
    makes no random suffixes at all.
    """

    def __init__(self, location: str, name: str, attempts: int = 16) -> None:
        self._location = location
        self._name = name
        self._attempts = attempts
        self._made = [join_key(location, name)]

    def __len__(self) -> int:
        return self._attempts

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._attempts))]
        if index < 0:
            index += self._attempts
        if not 0 <= index < self._attempts:
            raise IndexError("candidate index out of range")
        while len(self._made) <= index:
            self._made.append(join_key(self._location, with_suffix(self._name)))
        return self._made[index]

    def __repr__(self) -> str:
        return f"<Candidates {self._made[0]!r} and {self._attempts - 1} more>"


def check_part(part: str, what: str, value: str) -> None:
    if part == "..":
        raise ValueError(f"{what} {value!r} may not contain '..'.")
    if _CONTROL_CHARS.search(part):
        raise ValueError(f"{what} {value!r} may not contain control characters.")
    size = len(part.encode(errors="surrogatepass"))
    if size > MAX_NAME_BYTES:
        shown = part if len(part) <= 40 else part[:40] + "…"
        raise ValueError(
            f"{what}: the name {shown!r} is {size} bytes long (UTF-8); a file or "
            f"folder name may have at most {MAX_NAME_BYTES}."
        )


def check_length(path: str, what: str, limit: int = MAX_PATH_BYTES) -> None:
    size = len(path.encode(errors="surrogatepass"))
    if size > limit:
        raise ValueError(
            f"{what} is {size} bytes long (UTF-8); at most {limit} are allowed."
        )


def clean_location(location: str | None, *, legacy_slash: bool = False) -> str:
    """Validate a relative folder and return it normalised (``a/b``, or ``""``).

    ``..``, backslashes, NUL, control characters, drive letters, hidden parts
    (starting with a dot) and parts over 255 bytes (UTF-8) raise
    :class:`ValueError`: a location comes from code or from a client, and
    either way it must stay under ``STORE_PATH``, where listings show it.

    A leading slash is refused too, unless ``legacy_slash`` is true: the
    locations that code gives (``Provider(..., location=...)``,
    ``FlaskStoreType(location=...)``) may start with one, as the 0.0.4 docs
    wrote them (``location='/some/where'``); it is dropped with a
    :class:`DeprecationWarning` and the rest is checked as a relative
    location, so ``'/../x'`` is still refused. What clients send (forms, the
    admin, the command line) never gets that leeway.

    .. deprecated:: 1.0
        A leading slash on a location given in code; write it relative to
        ``STORE_PATH``.
    """
    if location is None:
        return ""
    if not isinstance(location, str):
        raise TypeError(f"location must be a str, not {type(location).__name__}.")
    if (
        is_plain_path(location)  # ASCII: as many bytes as characters
        and len(location) <= MAX_LOCATION_BYTES
        and all(len(part) <= MAX_NAME_BYTES for part in location.split("/"))
    ):
        return location  # what the checks below would give
    what = "Location"
    if "\\" in location:
        raise ValueError(f"{what} {location!r} may not contain backslashes.")
    leading_slash = location.startswith("/")
    relative = location.lstrip("/")
    if (leading_slash and not legacy_slash) or re.match(r"^[A-Za-z]:", relative):
        raise ValueError(f"{what} {location!r} must be relative, not absolute.")
    parts = [
        unicodedata.normalize("NFC", p)
        for p in relative.split("/")
        if p not in ("", ".")
    ]
    for part in parts:
        check_part(part, what, location)
    check_visible("/".join(parts), what)
    cleaned = "/".join(parts)
    check_length(cleaned, "The location", MAX_LOCATION_BYTES)
    if leading_slash:
        warn_deprecated(
            f"{what} {location!r}: a leading slash is deprecated and dropped. "
            "Locations are relative to STORE_PATH; write "
            f"{repr(cleaned) if cleaned else 'None (STORE_PATH itself)'}."
        )
    return cleaned


def is_hidden_name(name: str) -> bool:
    """Whether one file or folder name is hidden: it starts with a dot.

    The one hidden-path rule. Hidden names belong to the store itself
    (temporary and spooled files) and to tools: listings, serving, the admin
    and the forms never show, serve or accept them, so nothing is stored there.
    """
    return name.startswith(".")


def is_hidden(path: str) -> bool:
    """Whether a part of ``path`` is hidden (``.cache/a``, ``a/.b``).

    See :func:`is_hidden_name`.
    """
    return any(is_hidden_name(part) for part in path.split("/") if part)


#: The hidden folder, under ``STORE_PATH``, that image variants are kept in.
VARIANTS_FOLDER = ".flask-store-variants"


def variants_location(path: str) -> str:
    """The hidden folder of the variants of the stored file (or folder) ``path``.

    The variants of every file under a folder are under the folder's own, so
    deleting a folder's variants is deleting one hidden folder.
    """
    return join_key(VARIANTS_FOLDER, path)


def variants_original(location: str) -> str | None:
    """The stored path whose variants the hidden folder ``location`` holds."""
    head, _, rest = location.partition("/")
    return rest if head == VARIANTS_FOLDER and rest else None


def check_visible(location: str, what: str = "Location") -> None:
    """Raise :class:`ValueError` when a part of ``location`` is hidden."""
    if is_hidden(location):
        raise ValueError(
            f"{what} {location!r} may not have a part starting with a dot: hidden "
            "folders are not listed or served, so nothing is stored in them."
        )


def is_plain_path(path: str) -> bool:
    """Whether ``path`` is a stored path that needs no cleaning or checks.

    True for parts of ASCII letters, digits and ``_-~+,().``, none empty and
    none starting with a dot: what ``secure_name`` and ``clean_location``
    produce for ordinary names. Such a path splits at its last ``/``.
    """
    return _PLAIN_PATH.fullmatch(path) is not None


def join_key(*parts: str) -> str:
    """Join path parts with ``/``, dropping empty parts and duplicate slashes."""
    joined = "/".join(part for part in parts if part)
    if not (joined.startswith("/") or joined.endswith("/") or "//" in joined):
        return joined  # no empty piece to drop
    pieces: list[str] = []
    for part in parts:
        pieces.extend(p for p in part.split("/") if p)
    return "/".join(pieces)


def url_path(*parts: str) -> str:
    """A percent-encoded URL path starting with ``/`` from unencoded parts."""
    return "/" + quote(join_key(*parts), safe="/")


def join_url(domain: str, path: str) -> str:
    """Put a domain (scheme, host and maybe a path) before a URL path."""
    return domain.rstrip("/") + "/" + path.lstrip("/")
