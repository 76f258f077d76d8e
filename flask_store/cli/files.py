"""``flask store ls``, ``put`` and ``rm``: list, store and delete files."""

from __future__ import annotations

import io
import os
import shlex
from collections.abc import Iterator
from typing import Any

import click

from .. import names
from ..backends.base import StoredFile
from ..backends.folder_removal import prune, split_spellings
from ..metadata import peek
from ..providers.base import Provider
from ..rules import refusal
from .context import (
    current_backend,
    current_flask_app,
    current_provider,
    store_command,
)
from .options import force_option, json_option
from .output import echo_json, entry_json, entry_line, note, progress
from .uploads import CountingReader, background_uploads
from .usage import rows_in_the_way

#: Entries asked of the provider per listing call.
PAGE_SIZE = 500


def list_entries(
    provider: type[Provider],
    location: str,
    *,
    after: str | None = None,
    limit: int | None = None,
) -> Iterator[StoredFile | str]:
    """The entries of ``location``, page by page, as the provider lists them.

    When ``limit`` stops the listing early, the last item yielded is the name
    to pass as ``after`` to continue (a ``str``).
    """
    shown = 0
    while True:
        want = PAGE_SIZE if limit is None else min(PAGE_SIZE, limit - shown)
        page = provider.list_folder(location, after=after, limit=want)
        yield from page.entries
        shown += len(page.entries)
        after = page.next_after
        if after is None:
            return
        if limit is not None and shown >= limit:
            yield after
            return


@store_command("ls")
@click.argument("path", default="")
@click.option(
    "--limit", type=click.IntRange(min=1), help="Show at most this many entries."
)
@click.option(
    "--after", metavar="NAME", help="Start after this name (to continue a listing)."
)
@json_option
def list_command(
    path: str, limit: int | None, after: str | None, as_json: bool
) -> None:
    """List the folders and files in PATH (the top folder by default).

    Sizes and dates (UTC) come from the store. Large folders are listed page by
    page; with --limit, the command says how to continue.
    """
    provider = current_provider()
    location = names.clean_location(path)
    entries: list[StoredFile] = []
    next_after: str | None = None
    for item in list_entries(provider, location, after=after, limit=limit):
        if isinstance(item, str):
            next_after = item
            continue
        entries.append(item)
        if not as_json:
            click.echo(entry_line(item))
    if not entries and location and after is None:
        single = provider(location)
        if single.exists():
            entry = StoredFile(location, size=single.size, modified=single.modified)
            entries.append(entry)
            if not as_json:
                click.echo(entry_line(entry, name=entry.path))
        elif current_backend().list_folder(location, limit=1).missing:
            # A mistyped folder is an error, as in the admin (a 404).
            raise click.ClickException(
                f"Nothing is stored at {location}: no such folder or file."
            )
    if as_json:
        echo_json(
            {
                "location": location,
                "entries": [entry_json(e) for e in entries],
                "next_after": next_after,
            }
        )
        return
    if not entries:
        note(f"Nothing stored in {location or 'the store'}.")
    if next_after is not None:
        command = ["flask", "store", "ls"] + ([path] if path else [])
        note(
            "More entries follow: "
            + shlex.join([*command, "--after", next_after, "--limit", str(limit)])
        )


@store_command("put")
@click.argument(
    "files",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, readable=True),
)
@click.option("--location", "-l", default="", help="Folder to store the files in.")
@click.option("--name", help="Store the file under this name (one file only).")
@force_option(
    "Also store files the upload rules refuse (STORE_ALLOWED_EXTENSIONS, "
    "STORE_ALLOWED_TYPES, STORE_MAX_SIZE, STORE_CHECK_CONTENT_MATCHES_NAME)."
)
@json_option
def put_command(
    files: tuple[str, ...],
    location: str,
    name: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Store FILES and print the URL of each.

    A name that is already taken gets a short unique suffix: nothing stored is
    ever overwritten. Files the app's upload rules refuse, as the forms apply
    them (STORE_ALLOWED_EXTENSIONS, STORE_MAX_SIZE, and by the file's content
    STORE_ALLOWED_TYPES and STORE_CHECK_CONTENT_MATCHES_NAME), are not stored,
    and then nothing is, unless --force.
    """
    if name is not None and len(files) > 1:
        raise click.UsageError("--name works with one file only.")
    location = names.clean_location(location)
    provider_class = current_provider()
    sizes = {path: os.path.getsize(path) for path in files}
    config = current_flask_app().config
    refused = [
        reason
        for path in files
        if (
            reason := refusal(
                name or os.path.basename(path), sizes[path], config, first_bytes(path)
            )
        )
    ]
    if refused and not force:
        raise click.ClickException(
            "Nothing stored: " + " ".join(refused) + " Pass --force to store anyway."
        )
    stored: list[dict[str, Any]] = []
    failed: dict[str, str] = {}
    try:
        with (
            background_uploads(failed),
            progress(length=sum(sizes.values()), label="Uploading") as bar,
        ):
            for path in files:
                wanted = name or os.path.basename(path)
                with open(path, "rb") as raw:
                    stream = io.BufferedReader(CountingReader(raw, bar))
                    provider = provider_class(stream, location, filename=wanted)
                    provider.save()
                stored.append(
                    {
                        "source": path,
                        "path": provider.relative_path,
                        "url": provider.absolute_url,
                        "size": sizes[path],
                        "renamed": provider.filename != names.secure_name(wanted),
                    }
                )
    finally:
        # Whatever happens to the next file, report the ones already stored.
        stored = [item for item in stored if item["path"] not in failed]
        if as_json:
            echo_json({"files": stored})
        else:
            for item in stored:
                if item["renamed"]:
                    note(f"{item['source']}: name taken, stored as {item['path']}")
                click.echo(item["url"])
    if failed:
        raise click.ClickException(
            "Upload failed: "
            + "; ".join(f"{path}: {error}" for path, error in failed.items())
        )


def first_bytes(path: str) -> bytes:
    """The first bytes of the file ``path``, that the content rules look at."""
    with open(path, "rb") as file:
        return peek(file)


@store_command("rm")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--recursive",
    "-r",
    is_flag=True,
    help="PATHS may be folders: delete them with everything in them.",
)
@force_option(
    "Also delete files that rows use (those rows then point at a missing file)."
)
@json_option
def remove_command(
    paths: tuple[str, ...], recursive: bool, force: bool, as_json: bool
) -> None:
    """Delete the stored files PATHS (paths as `flask store ls` shows them).

    A file that a FlaskStoreType column uses is not deleted without --force:
    the command names the rows and deletes nothing. So is a path that is not
    canonical (``docs//a.txt``): it would delete the file of another spelling.
    With --recursive, a folder is deleted with every file in it, under the
    same rules: exactly the files checked are deleted, then the folders left
    empty. A file saved into the folder meanwhile is kept, as is an entry
    another tool wrote under a spelling that is not canonical: the folder
    stays, and the command names them and fails.
    """
    provider_class = current_provider()
    # Build every provider first: one invalid path means nothing is deleted.
    providers = [provider_class(path) for path in paths]
    respelt = [
        (path, p.relative_path)
        for path, p in zip(paths, providers, strict=True)
        if path != p.relative_path
    ]
    if respelt:
        # Deleting "docs//a.txt" would delete "docs/a.txt", maybe another file.
        raise click.ClickException(
            "Nothing deleted: not canonical paths, each names another spelling: "
            + "; ".join(f"{given!r} is {canonical!r}" for given, canonical in respelt)
            + ". Give the canonical paths (as `flask store ls` shows them)."
        )
    folders = [p.relative_path for p in providers if is_folder(p)]
    if folders and not recursive:
        raise click.ClickException(
            "Nothing deleted: " + ", ".join(folders) + " is a folder; pass "
            "--recursive to delete it with everything in it."
        )
    backend = current_backend()
    listed = {
        folder: split_spellings(stored.path for stored in backend.iter_files(folder))
        for folder in folders
    }
    # An entry not spelt canonically is never deleted: its provider would
    # delete the file of the canonical spelling.
    providers = [p for p in providers if p.relative_path not in folders] + [
        provider_class(path) for files, _ in listed.values() for path in files
    ]
    used = rows_in_the_way(
        [p.relative_path for p in providers],
        force=force,
        doing="deleted",
        verb="delete",
    )
    deleted: list[str] = []
    missing: list[str] = []
    with progress(providers, label="Deleting") as bar:
        for provider in bar:
            try:
                provider.delete()
            except FileNotFoundError:
                missing.append(provider.relative_path)
            else:
                deleted.append(provider.relative_path)
    # What is left, the checked files gone: only empty folders are removed.
    left = [prune(backend, folder) for folder in folders]
    kept = [leftovers for leftovers in left if not leftovers.removed]
    if as_json:
        report: dict[str, Any] = {
            "deleted": deleted,
            "missing": missing,
            "used_by": {p: used[p] for p in deleted if p in used},
        }
        if recursive:
            report["folders"] = [f.folder for f in left if f.removed]
            report["kept"] = {f.folder: f.kept for f in kept}
        echo_json(report)
    else:
        for path in deleted:
            click.echo(f"deleted {path}")
            if path in used:
                note(f"  rows now pointing at a missing file: {', '.join(used[path])}")
        for leftovers in left:
            if leftovers.removed:
                click.echo(f"deleted folder {leftovers.folder}")
    problems = [f.explain() for f in kept]
    if missing:
        problems.append("Not stored, so not deleted: " + ", ".join(missing))
    if problems:
        raise click.ClickException(" ".join(problems))


def is_folder(provider: Provider) -> bool:
    """Whether the path of ``provider`` names a folder rather than a file."""
    if provider.exists():
        return False
    location = provider.relative_path
    parent = location.rpartition("/")[0]
    page = provider.backend.list_folder(parent, contains=provider.filename)
    return any(e.is_folder and e.path == location for e in page.entries)
