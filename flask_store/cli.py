"""``flask store ...`` commands for the configured provider."""

from __future__ import annotations

import click
from flask.cli import AppGroup

store_cli = AppGroup("store", help="Manage the files in the Flask-Store store.")


@store_cli.command("ls")
@click.argument("location", default="")
def list_command(location: str) -> None:
    """List the folders and files in LOCATION."""
    from .extension import store_provider

    for entry in store_provider().list_folder(location, limit=10_000).entries:
        click.echo(entry.name + ("/" if entry.is_folder else ""))
