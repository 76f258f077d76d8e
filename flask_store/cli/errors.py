"""How a command fails: a one-line message and a non-zero exit, no traceback."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..exceptions import StoreError

_F = TypeVar("_F", bound=Callable[..., Any])


def expected_errors() -> tuple[type[BaseException], ...]:
    """The errors a command reports as a message: bad input, storage failures."""
    errors: list[type[BaseException]] = [
        StoreError,
        OSError,
        ValueError,
        TypeError,
        NotImplementedError,
    ]
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # the s3 extra is not installed
        pass
    else:
        errors += [BotoCoreError, ClientError]
    return tuple(errors)


def describe(exc: BaseException) -> str:
    """A one-line description of an error for the terminal."""
    message = " ".join(str(exc).split())
    return message or type(exc).__name__


def reports_errors(command: _F) -> _F:
    """Turn input and storage errors raised by ``command`` into click errors."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except expected_errors() as exc:
            raise click.ClickException(describe(exc)) from exc

    return wrapper  # type: ignore[return-value]
