"""What an upload must satisfy, and how the forms say so.

``STORE_ALLOWED_EXTENSIONS`` and ``STORE_MAX_SIZE`` read from an app's config,
the hint the upload macro shows, and the messages of refused uploads. Pure
functions of the config: the upload macro and the assets blueprint use them
without importing WTForms or Flask-WTF.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .humanize import human_size

#: Shown for a missing or expired CSRF token, by the upload macro and the admin.
CSRF_MESSAGE = (
    "The form's security token (CSRF) is missing or has expired. "
    "Reload the page and try again."
)


def allowed_extensions(config: Any) -> list[str] | None:
    """``STORE_ALLOWED_EXTENSIONS`` as sorted lowercase names without dots."""
    allowed: Iterable[str] | None = config.get("STORE_ALLOWED_EXTENSIONS")
    if allowed is None:
        return None
    if isinstance(allowed, str):
        raise TypeError(
            "STORE_ALLOWED_EXTENSIONS must be a set of extensions like "
            '{"png", "jpg"}, not a string.'
        )
    return sorted({ext.lower().lstrip(".") for ext in allowed})


def listed_extensions(allowed: Sequence[str]) -> str:
    """Allowed extensions for people: ``.jpg, .png`` (``none`` when empty)."""
    return ", ".join("." + ext for ext in allowed) or "none"


def not_allowed_message(name: str, allowed: Sequence[str]) -> str:
    """Why an upload named ``name`` was refused for its extension."""
    return f"{name} is not an allowed type (allowed: {listed_extensions(allowed)})."


def too_large_message(name: str, max_size: int) -> str:
    """Why an upload named ``name`` was refused for its size."""
    return f"{name} is larger than {human_size(max_size)}, the largest file allowed."


def refusal(name: str, size: int, config: Any) -> str | None:
    """Why the upload rules refuse a file named ``name`` of ``size`` bytes.

    ``STORE_ALLOWED_EXTENSIONS`` and ``STORE_MAX_SIZE``, as the forms and the
    admin apply them; ``None`` when the file passes.
    """
    allowed = allowed_extensions(config)
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if allowed is not None and extension not in allowed:
        return not_allowed_message(name, allowed)
    max_size = config.get("STORE_MAX_SIZE")
    if max_size is not None and size > max_size:
        return too_large_message(name, max_size)
    return None


def upload_rules(config: Any) -> dict[str, Any]:
    """What the upload form tells the browser: ``accept``, limits, a hint.

    :param config: the app's config.
    """
    allowed = allowed_extensions(config)
    max_size = config.get("STORE_MAX_SIZE")
    hints = []
    if allowed is not None:
        hints.append("Allowed: " + listed_extensions(allowed))
    if max_size is not None:
        hints.append(f"up to {human_size(max_size)} each")
    return {
        "accept": None if allowed is None else ",".join("." + e for e in allowed),
        "allowed": allowed,
        "max_size": max_size,
        "hint": " · ".join(hints),
    }
