"""``flask store orphans``: stored files that no ``FlaskStoreType`` column references,
and image variants whose original is gone."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask

from ..backends import variant_files
from ..backends.base import Leftover, StoredFile
from .context import current_backend, current_flask_app, load_sqla, store_command
from .durations import format_duration
from .errors import describe
from .options import grace_option, json_option, yes_option
from .output import (
    count_files,
    echo_json,
    entry_json,
    entry_line,
    human_size,
    leftover_json,
    leftover_line,
    note,
    progress,
)


@store_command("orphans")
@grace_option(
    "Only files last written this long ago (30m, 12h, 7d; 0s for all). "
    "Newer files may belong to a transaction still in progress.",
    metavar="DURATION",
)
@click.option("--delete", is_flag=True, help="Delete the orphaned files.")
@yes_option("Delete without asking first.")
@json_option
def orphans_command(
    older_than: timedelta, delete: bool, yes: bool, as_json: bool
) -> None:
    """List (or delete) stored files that no FlaskStoreType column references.

    Image variants whose original is not stored any more are listed (and
    deleted) too; the variants of a stored original never are.
    """
    sqla = load_sqla()
    app = current_flask_app()
    attention: list[StoredFile] = []
    try:
        with progress(
            sqla.find_orphans(app, older_than=older_than, non_canonical=attention),
            label="Scanning",
        ) as scan:
            orphans = list(scan)
    except RuntimeError as exc:  # no session or no file columns: nothing to compare
        raise click.ClickException(describe(exc)) from exc
    total = sum(entry.size or 0 for entry in orphans)
    backend = current_backend()
    stale = list(variant_files.leftovers(backend, older_than))
    if not as_json:
        for entry in orphans:
            click.echo(entry_line(entry, name=entry.path))
        note(
            f"{count_files(len(orphans), 'orphaned')} ({human_size(total)})"
            f" older than {format_duration(older_than)}."
        )
        if attention:
            note(
                f"{count_files(len(attention))} "
                "with a path that is not canonical, never deleted here:"
            )
            for entry in attention:
                note(entry_line(entry, name=entry.path))
        if stale:
            note(f"{count_files(len(stale))} of image variants of deleted files:")
            for item in stale:
                click.echo(leftover_line(item))
    deleted: list[str] | None = None
    deleted_variants: list[str] | None = None
    if delete and (orphans or stale):
        if not yes:
            count = count_files(len(orphans) + len(stale))
            click.confirm(f"Delete {count}?", abort=True, err=True)
        deleted = delete_if_unused(app, [entry.path for entry in orphans])
        deleted_variants = delete_variants(stale)
        if not as_json:
            for path in [*deleted, *deleted_variants]:
                click.echo(f"deleted {path}")
    if as_json:
        echo_json(
            {
                "orphans": [entry_json(entry) for entry in orphans],
                "total_size": total,
                "deleted": deleted if delete else None,
                "needs_attention": [entry_json(entry) for entry in attention],
                "orphaned_variants": [leftover_json(item) for item in stale],
                "deleted_variants": deleted_variants if delete else None,
            }
        )


def delete_variants(stale: list[Leftover]) -> list[str]:
    """Delete the variants in ``stale`` whose original is still gone."""
    backend = current_backend()
    deleted = []
    for item in stale:
        outcome = backend.clean_leftover(item)
        if outcome == "removed":
            deleted.append(item.path)
        else:
            note(f"{item.path}: {outcome}")
    return deleted


def delete_if_unused(app: Flask, paths: list[str]) -> list[str]:
    """Delete ``paths`` that still no row uses, with progress; return the deleted.

    :func:`flask_store.sqla.delete_unused` checks the references again right
    before each deletion, so a file a row took meanwhile is kept (and said so).
    """
    deleted: list[str] = []
    with progress(length=len(paths), label="Deleting") as bar:
        for path, outcome in load_sqla().delete_unused(app, paths):
            bar.update(1)
            if outcome == "used":
                note(f"kept {path}: a row uses it now")
            elif outcome == "non-canonical":
                note(f"kept {path}: not a canonical path")
            elif outcome == "deleted":
                deleted.append(path)
    return deleted
