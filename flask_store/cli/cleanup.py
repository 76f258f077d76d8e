"""``flask store cleanup``: deal with files that interrupted operations left behind."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import click

from .context import current_backend, store_command
from .errors import describe
from .options import grace_option, json_option, yes_option
from .output import echo_json, leftover_json, leftover_line, note


@store_command("cleanup")
@grace_option("Only touch files last written this long ago.")
@click.option("--dry-run", is_flag=True, help="Only list what would be done.")
@yes_option("Do it without asking first.")
@json_option
def cleanup_command(
    older_than: timedelta, dry_run: bool, yes: bool, as_json: bool
) -> None:
    """Deal with files that interrupted operations left behind.

    Temporary files of a save that never finished are removed; background
    uploads spooled but never uploaded are uploaded, and those that did reach
    the store are removed. Files younger than --older-than are left alone,
    since they may belong to an operation still under way.
    """
    backend = current_backend()
    leftovers = list(backend.leftovers(older_than=older_than))
    if not as_json:
        for item in leftovers:
            click.echo(leftover_line(item))
    if not leftovers:
        if as_json:
            echo_json({"leftovers": [], "done": []})
        else:
            note("Nothing was left behind.")
        return
    if dry_run:
        if as_json:
            echo_json({"leftovers": [leftover_json(i) for i in leftovers], "done": []})
        return
    if not (yes or as_json):
        click.confirm(f"Clean up {len(leftovers)} file(s)?", abort=True, err=True)
    done: list[dict[str, Any]] = []
    failed: list[str] = []
    for item in leftovers:
        try:
            outcome = backend.clean_leftover(item)
        except Exception as exc:
            failed.append(f"{item.path}: {describe(exc)}")
            continue
        done.append({**leftover_json(item), "outcome": outcome})
        if not as_json:
            click.echo(f"{outcome}: {item.path}")
    if as_json:
        echo_json({"leftovers": [leftover_json(i) for i in leftovers], "done": done})
    if failed:
        raise click.ClickException("Could not clean up: " + "; ".join(failed))
