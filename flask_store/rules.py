"""What an upload must satisfy, and how the forms say so.

``STORE_ALLOWED_EXTENSIONS``, ``STORE_ALLOWED_TYPES``, ``STORE_MAX_SIZE`` and
``STORE_CHECK_CONTENT_MATCHES_NAME`` read from an app's config, the hint the
upload macro shows, and the messages of refused uploads. Pure functions of
the config and a file's first bytes: the upload macro and the assets
blueprint use them without importing WTForms or Flask-WTF.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .content import content_type as type_by_content
from .content import contradicts, guess_type, normal_type, sniff_type
from .humanize import human_size
from .metadata import DecompressionBomb, image_size

#: Shown for a missing or expired CSRF token, by the upload macro and the admin.
CSRF_MESSAGE = (
    "The form's security token (CSRF) is missing or has expired. "
    "Reload the page and try again."
)


def _names(config: Any, key: str, like: str) -> Iterable[str] | None:
    """The set of names the setting ``key`` holds; a string is a mistake."""
    allowed: Iterable[str] | None = config.get(key)
    if isinstance(allowed, str):
        raise TypeError(f"{key} must be a set of {like}, not a string.")
    return allowed


def allowed_extensions(config: Any) -> list[str] | None:
    """``STORE_ALLOWED_EXTENSIONS`` as sorted lowercase names without dots."""
    allowed = _names(
        config, "STORE_ALLOWED_EXTENSIONS", 'extensions like {"png", "jpg"}'
    )
    return None if allowed is None else sorted({e.lower().lstrip(".") for e in allowed})


def allowed_types(config: Any) -> list[str] | None:
    """``STORE_ALLOWED_TYPES`` as sorted lowercase MIME patterns (``image/*``)."""
    allowed = _names(
        config, "STORE_ALLOWED_TYPES", 'MIME types like {"image/*", "application/pdf"}'
    )
    return None if allowed is None else sorted({t.strip().lower() for t in allowed})


def type_allowed(mimetype: str, patterns: Sequence[str]) -> bool:
    """Whether ``mimetype`` matches one of ``patterns`` (``image/*``, ``*/*``)."""
    family, _, _ = normal_type(mimetype).partition("/")
    return any(
        p in ("*", "*/*")
        or normal_type(p) == normal_type(mimetype)
        or (p.endswith("/*") and p[:-2] == family)
        for p in patterns
    )


def checks_content_matches_name(config: Any) -> bool:
    """``STORE_CHECK_CONTENT_MATCHES_NAME``; by default on when types or
    extensions are restricted."""
    value = config.get("STORE_CHECK_CONTENT_MATCHES_NAME")
    if value is None:
        return (
            config.get("STORE_ALLOWED_EXTENSIONS") is not None
            or config.get("STORE_ALLOWED_TYPES") is not None
        )
    return bool(value)


def listed_extensions(allowed: Sequence[str]) -> str:
    """Allowed extensions for people: ``.jpg, .png`` (``none`` when empty)."""
    return ", ".join("." + ext for ext in allowed) or "none"


def not_allowed_message(name: str, allowed: Sequence[str]) -> str:
    """Why an upload named ``name`` was refused for its extension."""
    return f"{name} is not an allowed type (allowed: {listed_extensions(allowed)})."


def too_large_message(name: str, max_size: int) -> str:
    """Why an upload named ``name`` was refused for its size."""
    return f"{name} is larger than {human_size(max_size)}, the largest file allowed."


def type_not_allowed_message(name: str, mimetype: str, allowed: Sequence[str]) -> str:
    """Why an upload named ``name`` was refused for the type of its content."""
    listed = ", ".join(allowed) or "none"
    return (
        f"{name} is not an allowed type: its content is {mimetype} (allowed: {listed})."
    )


def mismatch_message(name: str, claimed: str, detected: str | None) -> str:
    """Why an upload was refused for content its name contradicts."""
    found = detected or "not recognised"
    return (
        f"{name} is not what its name says: the name says {claimed}, the "
        f"content is {found}. Rename the file to match its content."
    )


def content_refusal(name: str, head: bytes, config: Any) -> str | None:
    """Why the upload rules refuse a file named ``name`` starting with ``head``.

    ``STORE_ALLOWED_TYPES`` by content, a name that contradicts the content
    and an image over Pillow's decompression-bomb limit (both with
    ``STORE_CHECK_CONTENT_MATCHES_NAME``); ``None`` when the file passes.
    """
    patterns = allowed_types(config)
    check = checks_content_matches_name(config)
    if patterns is None and not check:
        return None
    detected = sniff_type(head, name)
    claimed = normal_type(guess_type(name))
    if check and contradicts(claimed, detected):
        return mismatch_message(name, claimed, detected)
    kind = type_by_content(head, name)
    if patterns is not None and not type_allowed(kind, patterns):
        return type_not_allowed_message(name, kind, patterns)
    if check and kind.startswith("image/"):
        try:
            image_size(head)
        except DecompressionBomb as exc:
            return f"{name} is too large an image to open safely: {exc}"
    return None


def refusal(name: str, size: int, config: Any, head: bytes | None = None) -> str | None:
    """Why the upload rules refuse a file named ``name`` of ``size`` bytes.

    ``STORE_ALLOWED_EXTENSIONS`` and ``STORE_MAX_SIZE``, as the forms and the
    admin apply them, and, given the file's first bytes (``head``), the
    checks of its content (:func:`content_refusal`); ``None`` when the file
    passes.
    """
    allowed = allowed_extensions(config)
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if allowed is not None and extension not in allowed:
        return not_allowed_message(name, allowed)
    max_size = config.get("STORE_MAX_SIZE")
    if max_size is not None and size > max_size:
        return too_large_message(name, max_size)
    if head is not None:
        return content_refusal(name, head, config)
    return None


def upload_rules(config: Any) -> dict[str, Any]:
    """What the upload form tells the browser: ``accept``, limits, a hint.

    :param config: the app's config.
    """
    allowed = allowed_extensions(config)
    types = allowed_types(config)
    max_size = config.get("STORE_MAX_SIZE")
    hints = []
    if allowed is not None:
        hints.append("Allowed: " + listed_extensions(allowed))
    if types is not None:
        hints.append("Types: " + (", ".join(types) or "none"))
    if max_size is not None:
        hints.append(f"up to {human_size(max_size)} each")
    accept = None if types is None else ",".join(types)
    if allowed is not None:  # narrower than types: the browser offers those
        accept = ",".join("." + e for e in allowed)
    return {
        "accept": accept,
        "allowed": allowed,
        "types": types,
        "max_size": max_size,
        "hint": " · ".join(hints),
    }
