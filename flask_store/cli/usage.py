"""Which rows use the files a command is about to move or delete."""

from __future__ import annotations

from collections.abc import Sequence

import click

from .. import admin
from .context import current_flask_app


def rows_in_the_way(
    paths: Sequence[str], *, force: bool, doing: str, verb: str
) -> dict[str, list[str]]:
    """The rows using each of ``paths`` (path to row labels).

    Without ``force``, any row using one of them stops the command before it
    changes anything, naming the rows: ``doing`` says what would happen
    (``"deleted"``), ``verb`` what ``--force`` would do (``"delete"``).
    """
    usage = admin.file_usage(current_flask_app(), list(paths))
    used = {path: admin.usage_labels(rows) for path, rows in usage.items() if rows}
    if used and not force:
        raise click.ClickException(
            f"Nothing {doing}: rows use "
            + "; ".join(f"{path} ({', '.join(rows)})" for path, rows in used.items())
            + f". Pass --force to {verb} anyway."
        )
    return used
