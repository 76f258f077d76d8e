"""The options several commands share: ``--json``, ``--older-than``, ``--yes``,
``--force``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from .durations import duration_option

_F = TypeVar("_F", bound=Callable[..., Any])

#: How old a leftover must be before ``check`` reports it and ``cleanup``
#: touches it (and an orphan before ``orphans`` lists it): younger ones may
#: belong to an operation still under way.
DEFAULT_GRACE = "1h"

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON for scripts."
)


def grace_option(help_text: str, *, metavar: str | None = None) -> Callable[[_F], _F]:
    """``--older-than DURATION`` (default :data:`DEFAULT_GRACE`) as a timedelta."""
    return click.option(
        "--older-than",
        "older_than",
        default=DEFAULT_GRACE,
        show_default=True,
        metavar=metavar,
        callback=duration_option,
        help=help_text,
    )


def yes_option(help_text: str) -> Callable[[_F], _F]:
    """``--yes``/``-y``: go ahead without asking first."""
    return click.option("--yes", "-y", is_flag=True, help=help_text)


def force_option(help_text: str) -> Callable[[_F], _F]:
    """``--force``: go ahead past what the command refuses by default."""
    return click.option("--force", is_flag=True, help=help_text)
