"""Configuration of the example app: development defaults and the environment.

Flask's ``app.config.from_prefixed_env()`` reads ``FLASK_*`` variables and
parses their values as JSON. ``STORE_*`` variables are read here instead, as
plain strings converted per key, so that a bucket named ``2026`` or a path
named ``true`` stays a string.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

#: Short names accepted in ``STORE_PROVIDER`` besides a dotted class path.
PROVIDER_ALIASES = {
    "local": "flask_store.providers.local.LocalProvider",
    "s3": "flask_store.providers.s3.S3Provider",
    "s3-gevent": "flask_store.providers.s3.S3GeventProvider",
    "memory": "flask_store.providers.memory.MemoryProvider",
}

#: The development SECRET_KEY. Anyone who knows it can forge sessions, so set
#: FLASK_SECRET_KEY to a long random value anywhere but your own machine.
DEV_SECRET_KEY = "example-app-development-key-not-secret"  # noqa: S105 - documented dev default

#: The development login, printed when the app starts with it.
DEV_USERNAME = "admin"
DEV_PASSWORD = "flask-store"  # noqa: S105 - documented dev default

_BOOLEANS = {"1": True, "true": True, "yes": True, "on": True}
_BOOLEANS.update({"0": False, "false": False, "no": False, "off": False, "": False})
_BOOL_KEYS = frozenset({"STORE_FSYNC", "STORE_DELETE_ORPHANS", "STORE_DIRECT_UPLOADS"})
_INT_KEYS = frozenset({"STORE_MAX_SIZE", "STORE_TUS_MIN_SIZE"})
_SET_KEYS = frozenset({"STORE_ALLOWED_EXTENSIONS"})
#: Set by the app itself (the login decides), never from the environment.
_IGNORED_KEYS = frozenset({"STORE_ADMIN_ACCESS"})


def defaults(instance_path: str) -> dict[str, Any]:
    """The example app's configuration before the environment is read."""
    database = os.path.join(instance_path, "example.sqlite")
    return {
        "SECRET_KEY": DEV_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
        # Requests larger than this are refused before any file is stored.
        "MAX_CONTENT_LENGTH": 64_000_000,  # 64 MB
        "STORE_MAX_SIZE": 16_000_000,  # 16 MB, as the upload form says
        "STORE_ALLOWED_EXTENSIONS": {
            "pdf",
            "txt",
            "md",
            "csv",
            "odt",
            "docx",
            "xlsx",
            "png",
            "jpg",
            "jpeg",
            "gif",
            "webp",
        },
        "STORE_DELETE_ORPHANS": True,
        # The file admin links back to the documents.
        "STORE_ADMIN_BACK_URL": "documents.index",
        "EXAMPLE_USERNAME": DEV_USERNAME,
        "EXAMPLE_PASSWORD": DEV_PASSWORD,
    }


def _convert(key: str, value: str) -> Any:
    if key in _BOOL_KEYS:
        try:
            return _BOOLEANS[value.strip().lower()]
        except KeyError:
            raise ValueError(f"{key}={value!r}: use true or false.") from None
    if key in _INT_KEYS:
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"{key}={value!r}: use a number of bytes.") from None
    if key in _SET_KEYS:
        return {part.strip().lower().lstrip(".") for part in value.split(",")} - {""}
    if key == "STORE_PROVIDER":
        return PROVIDER_ALIASES.get(value.strip().lower(), value.strip())
    return value


def from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Configuration from ``STORE_*`` and ``EXAMPLE_*`` environment variables.

    ``STORE_FSYNC``, ``STORE_DELETE_ORPHANS`` and ``STORE_DIRECT_UPLOADS``
    take true/false, ``STORE_MAX_SIZE`` and ``STORE_TUS_MIN_SIZE`` a number
    of bytes, ``STORE_ALLOWED_EXTENSIONS`` a comma
    separated list, ``STORE_PROVIDER`` a dotted path or one of ``local``,
    ``s3``, ``s3-gevent``, ``memory``; every other value is a string.
    """
    config: dict[str, Any] = {}
    for key, value in environ.items():
        if key.startswith("STORE_") and key not in _IGNORED_KEYS:
            config[key] = _convert(key, value)
        elif key in ("EXAMPLE_USERNAME", "EXAMPLE_PASSWORD"):
            config[key] = value
    return config
