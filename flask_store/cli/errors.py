"""How a command fails: a one-line message and a non-zero exit, no traceback.

With ``--json``, the message is JSON too: ``{"error": "..."}`` on stderr, so
that a script reads one JSON document from stdout (what was done, when the
command reports it) and one from stderr (why it failed).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from typing import IO, Any, TypeVar

import click
from werkzeug.exceptions import HTTPException

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
    """A one-line description of an error for the terminal.

    An error that is an HTTP error too (a :class:`FolderConflict` is a 409)
    is described without its status line, which means nothing in a shell.
    """
    text = exc.description if isinstance(exc, HTTPException) else None
    message = " ".join(str(text or exc).split())
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


class JSONError(click.ClickException):
    """A failure shown as ``{"error": message}`` on stderr, for ``--json``."""

    @classmethod
    def from_exception(cls, exc: click.ClickException) -> JSONError:
        """The same failure (message and exit status), as JSON."""
        if exc.exit_code == JSONUsageError.exit_code:
            return JSONUsageError(exc.format_message())
        return cls(exc.format_message())

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(json.dumps({"error": self.message}, ensure_ascii=False), err=True)


class JSONUsageError(JSONError):
    """A mistyped command line, for ``--json``: exit status 2, as click's."""

    exit_code = click.UsageError.exit_code


def asks_for_json(args: Sequence[str]) -> bool:
    """Whether a command line has ``--json`` among its options."""
    args = list(args)
    options = args[: args.index("--")] if "--" in args else args
    return "--json" in options


class JSONErrorsCommand(click.Command):
    """A command whose errors are JSON when it is given ``--json``.

    Usage errors (a mistyped option or value) happen before the command has
    its parameters, so the command line itself is checked for ``--json``.
    """

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        as_json = asks_for_json(args)
        try:
            return super().make_context(info_name, args, parent, **extra)
        except JSONError:
            raise
        except click.ClickException as exc:
            if as_json:
                raise JSONError.from_exception(exc) from exc
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except JSONError:
            raise
        except click.ClickException as exc:
            if ctx.params.get("as_json"):
                raise JSONError.from_exception(exc) from exc
            raise
        except click.Abort as exc:  # a question answered no, or no one to answer
            if ctx.params.get("as_json"):
                raise JSONError("Aborted: nothing was changed.") from exc
            raise
