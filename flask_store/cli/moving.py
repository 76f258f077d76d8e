"""``flask store mv``: move stored files into another folder."""

from __future__ import annotations

import click

from .. import names
from .context import current_backend, current_provider, store_command
from .options import force_option, json_option
from .output import echo_json, note
from .usage import rows_in_the_way


@store_command("mv")
@click.argument("paths", nargs=-1, required=True)
@click.argument("folder")
@force_option(
    "Also move files that rows use (those rows then point at a missing file)."
)
@json_option
def move_command(
    paths: tuple[str, ...], folder: str, force: bool, as_json: bool
) -> None:
    """Move the stored files PATHS into FOLDER (made when missing).

    A file keeps its name, or gets a short unique suffix when FOLDER has a
    file of that name: nothing is overwritten. A file that a FlaskStoreType
    column uses is not moved without --force.
    """
    folder = names.clean_location(folder)
    # Check every path first: one invalid path means nothing is moved.
    sources = [current_provider()(path).relative_path for path in paths]
    used = rows_in_the_way(sources, force=force, doing="moved", verb="move")
    backend = current_backend()
    moved: list[dict[str, str]] = []
    for path in sources:
        moved.append({"from": path, "to": backend.move(path, folder)})
    if as_json:
        echo_json({"moved": moved, "used_by": used})
        return
    for item in moved:
        click.echo(f"moved {item['from']} to {item['to']}")
        if item["from"] in used:
            note(
                f"  rows now pointing at a missing file: {', '.join(used[item['from']])}"
            )
