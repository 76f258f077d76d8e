"""The ``STORE_*`` settings: which exist, what each takes, checked once.

``init_app`` checks every setting the core and the configured backend read
(:func:`check_values`, :func:`warn_unknown`): a value of the wrong type fails there, naming the
key, and a ``STORE_`` key nothing reads is warned about, since it is most
likely a typo.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .deprecation import warn_app
from .exceptions import NotConfiguredError


@dataclass(frozen=True)
class Setting:
    """One ``STORE_*`` key: its name, what it takes (for people) and the check."""

    key: str
    #: What the value must be, for the error message: ``"a string"``.
    takes: str
    accepts: Callable[[Any], bool]


def _is_text(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def text(key: str) -> Setting:
    """A setting that takes a string (or a path)."""
    return Setting(key, "a string", _is_text)


def optional_text(key: str) -> Setting:
    """A setting that takes a string, or ``None``."""
    return Setting(key, "a string or None", lambda v: v is None or _is_text(v))


def flag(key: str) -> Setting:
    """A setting that takes ``True`` or ``False``."""
    return Setting(key, "True or False", lambda v: isinstance(v, bool))


def count(key: str, *, minimum: int = 0) -> Setting:
    """A setting that takes a whole number of at least ``minimum``."""
    return Setting(
        key,
        f"a whole number of at least {minimum}",
        lambda v: _is_int(v) and v >= minimum,
    )


def optional_count(key: str) -> Setting:
    """A setting that takes a whole number of at least 0, or ``None``."""
    return Setting(
        key,
        "a whole number of at least 0, or None",
        lambda v: v is None or (_is_int(v) and v >= 0),
    )


def _is_names(value: Any) -> bool:
    return value is None or (
        isinstance(value, Collection)
        and not isinstance(value, (str, bytes, Mapping))
        and all(isinstance(item, str) for item in value)
    )


#: The options one entry of ``STORE_EAGER_VARIANTS`` may give.
VARIANT_OPTIONS = frozenset({"width", "height", "format", "fit"})


def _is_variant_list(value: Any) -> bool:
    # Only the shape: the values are checked as variant options in init_app.
    return value is None or (
        isinstance(value, (list, tuple))
        and all(
            isinstance(item, Mapping) and set(item) <= VARIANT_OPTIONS for item in value
        )
    )


#: The settings of the core, read whatever the backend.
CORE_SETTINGS: tuple[Setting, ...] = (
    text("STORE_PROVIDER"),
    optional_text("STORE_PATH"),
    flag("STORE_FSYNC"),
    optional_text("STORE_DOMAIN"),
    optional_text("STORE_URL_PREFIX"),
    Setting(
        "STORE_ALLOWED_EXTENSIONS",
        "a set of extensions like {'png'}, or None",
        _is_names,
    ),
    Setting(
        "STORE_ALLOWED_TYPES",
        "a set of MIME types like {'image/*'}, or None",
        _is_names,
    ),
    Setting(
        "STORE_CHECK_CONTENT_MATCHES_NAME",
        "True, False or None",
        lambda v: v is None or isinstance(v, bool),
    ),
    optional_count("STORE_MAX_SIZE"),
    Setting(
        "STORE_ADMIN_ACCESS",
        "True, False, None or a callable returning True",
        lambda v: v is None or isinstance(v, bool) or callable(v),
    ),
    flag("STORE_ADMIN_CSRF"),
    optional_count("STORE_ADMIN_SORT_LIMIT"),
    optional_text("STORE_ADMIN_BACK_URL"),
    flag("STORE_DELETE_ORPHANS"),
    Setting(
        "STORE_UPLOADS_ACCESS",
        "True, False, None or a callable returning True",
        lambda v: v is None or isinstance(v, bool) or callable(v),
    ),
    count("STORE_UPLOAD_EXPIRES", minimum=1),
    flag("STORE_DIRECT_UPLOADS"),
    count("STORE_UPLOAD_TOKEN_MAX_AGE", minimum=1),
    optional_text("STORE_UPLOADS_URL_PREFIX"),
    count("STORE_TUS_MIN_SIZE"),
    Setting(
        "STORE_EAGER_VARIANTS",
        "a list of variant options like [{'width': 320}], or None",
        _is_variant_list,
    ),
)


#: Every key a built-in provider reads: not a typo in any app, even where the
#: configured provider does not read it (a spool path set for S3 without gevent).
BUILT_IN_KEYS = frozenset(
    {
        "STORE_PROVIDER",
        "STORE_PATH",
        "STORE_DOMAIN",
        "STORE_URL_PREFIX",
        "STORE_FSYNC",
        "STORE_ALLOWED_EXTENSIONS",
        "STORE_ALLOWED_TYPES",
        "STORE_CHECK_CONTENT_MATCHES_NAME",
        "STORE_MAX_SIZE",
        "STORE_ADMIN_ACCESS",
        "STORE_ADMIN_CSRF",
        "STORE_ADMIN_SORT_LIMIT",
        "STORE_ADMIN_BACK_URL",
        "STORE_DELETE_ORPHANS",
        "STORE_UPLOADS_ACCESS",
        "STORE_UPLOAD_EXPIRES",
        "STORE_UPLOAD_TOKEN_MAX_AGE",
        "STORE_DIRECT_UPLOADS",
        "STORE_UPLOADS_URL_PREFIX",
        "STORE_TUS_MIN_SIZE",
        "STORE_EAGER_VARIANTS",
        "STORE_S3_BUCKET",
        "STORE_S3_REGION",
        "STORE_S3_ACCESS_KEY",
        "STORE_S3_SECRET_KEY",
        "STORE_S3_ACL",
        "STORE_S3_ENDPOINT_URL",
        "STORE_S3_MULTIPART_THRESHOLD",
        "STORE_S3_MAX_ATTEMPTS",
        "STORE_S3_CONDITIONAL_WRITES",
        "STORE_S3_LOCK_PATH",
        "STORE_S3_SPOOL_PATH",
        "STORE_S3_BACKGROUND_ATTEMPTS",
    }
)


def check_values(config: Mapping[str, Any], settings: Iterable[Setting]) -> None:
    """Refuse a value of the wrong type among ``settings``.

    :raises NotConfiguredError: naming the first key whose value is wrong.
    """
    for setting in settings:
        if setting.key in config and not setting.accepts(config[setting.key]):
            raise NotConfiguredError(
                f"{setting.key} must be {setting.takes}, not {config[setting.key]!r}."
            )


def warn_unknown(config: Mapping[str, Any], known: Iterable[str]) -> None:
    """Warn of each ``STORE_`` key that neither ``known`` nor a built-in names."""
    names = set(known) | BUILT_IN_KEYS
    for key in config:
        if key.startswith("STORE_") and key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f" Did you mean {close[0]}?" if close else ""
            warn_app(f"{key} is not a Flask-Store setting and is ignored.{hint}")
