"""Durations on the command line: ``--older-than 30m``, ``12h``, ``7d``, ``1d12h``."""

from __future__ import annotations

import re
from datetime import timedelta

import click

_DURATION_PART = re.compile(r"(\d+)\s*([smhdw])", re.ASCII)
_DURATION_UNITS = {
    "s": "seconds",
    "m": "minutes",
    "h": "hours",
    "d": "days",
    "w": "weeks",
}


def parse_duration(text: str) -> timedelta:
    """``30m``, ``12h``, ``7d``, ``2w`` or a sum such as ``1d12h`` as a timedelta."""
    compact = text.strip().lower()
    if not compact or _DURATION_PART.sub("", compact).strip():
        raise ValueError(
            f"{text!r} is not a duration: use a number and a unit, "
            "s, m, h, d or w (30m, 12h, 7d, 1d12h)."
        )
    total = timedelta()
    try:
        for amount, unit in _DURATION_PART.findall(compact):
            total += timedelta(**{_DURATION_UNITS[unit]: int(amount)})
    except (OverflowError, ValueError):  # past timedelta's range, or int's
        raise ValueError(
            f"{text[:40]!r} is too long a duration: at most {timedelta.max.days} days."
        ) from None
    return total


def format_duration(duration: timedelta) -> str:
    """A timedelta the way :func:`parse_duration` reads it: ``1d12h``, ``0s``."""
    seconds = int(duration.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts) or "0s"


def duration_option(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> timedelta | None:
    """Click callback turning a ``--older-than`` value into a timedelta."""
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None
