"""``flask store mv``: move stored files and folders, or rename one."""

from __future__ import annotations

from typing import Any

import click
from werkzeug.exceptions import HTTPException

from .. import names, spelling
from ..admin import changes
from .context import current_backend, current_flask_app, store_command
from .options import force_option, json_option
from .output import echo_json, note
from .usage import rows_in_the_way


@store_command("mv")
@click.argument("paths", nargs=-1, required=True)
@click.argument("folder")
@click.option(
    "--name",
    "new_name",
    metavar="NAME",
    help="With one PATH: its new name in FOLDER (a rename when FOLDER is "
    "where it is). Refused when that name is taken.",
)
@force_option(
    "Also move files that rows use (those rows then point at a missing file)."
)
@json_option
def move_command(
    paths: tuple[str, ...],
    folder: str,
    new_name: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Move the stored files and folders PATHS into FOLDER (made when missing).

    A file keeps its name, or gets a short unique suffix when FOLDER has a
    file of that name: nothing is overwritten. A folder moves with everything
    in it and keeps its name; one of that name in FOLDER refuses the move
    (folders are not merged). What is left in a moved folder (a file saved
    into it meanwhile, an entry another tool wrote under a spelling that is
    not canonical) is not moved and keeps the folder: the command names it
    and fails. With --name, the one PATH gets that name
    instead, so `flask store mv --name b.txt docs/a.txt docs` renames a file
    in place. A file that a FlaskStoreType column uses is not moved, by itself
    or with its folder, without --force.
    """
    if new_name is not None and len(paths) != 1:
        raise click.UsageError("--name renames one PATH: give exactly one.")
    folder = names.clean_location(folder)
    backend = current_backend()
    app = current_flask_app()
    # Check every path first: one invalid path means nothing is moved.
    plans: list[changes.Move | str] = []
    for raw in paths:
        source = spelling.canonical_path(raw)
        is_file = backend.exists(source)  # asked once: a HEAD on S3
        if new_name is None and is_file:
            plans.append(source)  # a file: a taken name gets a unique suffix
            continue
        name = new_name if new_name is not None else source.rpartition("/")[2]
        try:
            if new_name is not None:
                name = changes.new_name(name, folder=not is_file)
            plans.append(
                changes.plan_move(app, backend, source, folder, name, check_rows=False)
            )
        except HTTPException as exc:
            raise click.ClickException(str(exc.description)) from exc
    files = [
        path
        for plan in plans
        for path in ([plan] if isinstance(plan, str) else [f for f, _ in plan.files])
    ]
    used = rows_in_the_way(files, force=force, doing="moved", verb="move")
    moved: list[dict[str, str]] = []
    folders: list[dict[str, Any]] = []
    kept: dict[str, list[str]] = {}
    problems: list[str] = []
    for plan in plans:
        if isinstance(plan, str):
            moved.append({"from": plan, "to": backend.move(plan, folder)})
            continue
        try:
            targets = changes.do_move(backend, plan)
        except HTTPException as exc:
            raise click.ClickException(str(exc.description)) from exc
        moved += [
            {"from": source, "to": target}
            for (source, _), target in zip(plan.files, targets, strict=True)
        ]
        if plan.is_folder:
            folders.append({"from": plan.source, "to": plan.target})
        if plan.left is not None and not plan.left.removed:
            kept[plan.source] = plan.left.kept
            problems.append(plan.left.explain())
    if as_json:
        echo_json({"moved": moved, "folders": folders, "used_by": used, "kept": kept})
    else:
        for item in folders:
            click.echo(f"moved folder {item['from']} to {item['to']}")
        for item in moved:
            click.echo(f"moved {item['from']} to {item['to']}")
            rows = used.get(item["from"])
            if rows:
                note(f"  rows now pointing at a missing file: {', '.join(rows)}")
    if problems:
        raise click.ClickException(" ".join(problems))
