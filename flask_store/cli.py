"""``flask store ...``: list, upload, delete, check and clean up stored files.

Every command works on the app's configured provider. Output is for people by
default and JSON with ``--json``; an error ends the command with a one-line
message and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
import secrets
import shlex
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta, timezone
from typing import IO, Any, TypeVar

import click
from flask import current_app
from flask.cli import AppGroup

from . import admin, names
from .exceptions import StoreError, UploadFailed
from .extension import store_provider
from .forms import human_size
from .providers.base import Leftover, Provider, StoredFile, store_state
from .signals import upload_failed

store_cli = AppGroup(
    "store", help="List, upload, delete and check the files of the configured provider."
)

#: Entries asked of the provider per listing call.
PAGE_SIZE = 500

#: Config values ``check`` never prints, only says whether they are set.
_SECRET_KEY_PARTS = ("SECRET", "PASSWORD", "ACCESS_KEY", "TOKEN")

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


json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON for scripts."
)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def note(message: str) -> None:
    """A message for people, on stderr so that stdout stays parseable."""
    click.echo(message, err=True)


def progress(
    items: Iterable[Any] | None = None, *, length: int | None = None, label: str
) -> Any:
    """A progress bar on stderr (only its label when stderr is not a terminal)."""
    return click.progressbar(
        items,
        length=length,
        label=label,
        file=sys.stderr,
        show_pos=length is None and items is not None,
    )


# -- formatting -----------------------------------------------------------


def entry_json(entry: StoredFile) -> dict[str, Any]:
    """A listing entry as plain JSON types."""
    return {
        "path": entry.path,
        "name": entry.name,
        "type": "folder" if entry.is_folder else "file",
        "size": entry.size,
        "modified": entry.modified.isoformat() if entry.modified else None,
        "content_type": None if entry.is_folder else entry.content_type,
        "canonical": names.is_canonical(entry.path),
    }


def entry_line(entry: StoredFile, name: str | None = None) -> str:
    """``size  date (UTC)  name`` for one listing entry; folders end in ``/``."""
    size = "-" if entry.size is None else human_size(entry.size)
    when = "-"
    if entry.modified is not None:
        when = entry.modified.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")
    shown = entry.name if name is None else name
    line = f"{size:>10}  {when:<16}  {shown}{'/' if entry.is_folder else ''}"
    if not names.is_canonical(entry.path):
        line += f"  {NEEDS_ATTENTION}"
    return line


#: How ``ls`` and ``orphans`` mark an entry whose path is not canonical.
NEEDS_ATTENTION = (
    "(needs attention: not a canonical path; Flask-Store leaves it alone, "
    "rename or remove it with the tool that wrote it)"
)


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


# -- ls -------------------------------------------------------------------


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


@store_cli.command("ls")
@click.argument("path", default="")
@click.option(
    "--limit", type=click.IntRange(min=1), help="Show at most this many entries."
)
@click.option(
    "--after", metavar="NAME", help="Start after this name (to continue a listing)."
)
@json_option
@reports_errors
def list_command(
    path: str, limit: int | None, after: str | None, as_json: bool
) -> None:
    """List the folders and files in PATH (the top folder by default).

    Sizes and dates (UTC) come from the store. Large folders are listed page by
    page; with --limit, the command says how to continue.
    """
    provider = store_provider()
    location = names.clean_location(path)
    entries: list[StoredFile] = []
    next_after: str | None = None
    for item in list_entries(provider, location, after=after, limit=limit):
        if isinstance(item, str):
            next_after = item
        elif as_json:
            entries.append(item)
        else:
            entries.append(item)
            click.echo(entry_line(item))
    if not entries and location and after is None:
        single = provider(location)
        if single.exists():
            entry = StoredFile(location, size=single.size, modified=single.modified)
            entries.append(entry)
            if not as_json:
                click.echo(entry_line(entry, name=entry.path))
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


# -- put ------------------------------------------------------------------


class _CountingReader(io.RawIOBase):
    """Reads a file and moves a progress bar by the bytes read."""

    def __init__(self, raw: IO[bytes], bar: Any) -> None:
        super().__init__()
        self._raw = raw
        self._bar = bar

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        self._bar.update(count or 0)
        return int(count or 0)

    def seekable(self) -> bool:
        return self._raw.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()


@store_cli.command("put")
@click.argument(
    "files",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, readable=True),
)
@click.option("--location", "-l", default="", help="Folder to store the files in.")
@click.option("--name", help="Store the file under this name (one file only).")
@json_option
@reports_errors
def put_command(
    files: tuple[str, ...], location: str, name: str | None, as_json: bool
) -> None:
    """Store FILES and print the URL of each.

    A name that is already taken gets a short unique suffix: nothing stored is
    ever overwritten.
    """
    if name is not None and len(files) > 1:
        raise click.UsageError("--name works with one file only.")
    location = names.clean_location(location)
    provider_class = store_provider()
    sizes = {path: os.path.getsize(path) for path in files}
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
                    stream = io.BufferedReader(_CountingReader(raw, bar))
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


# -- rm -------------------------------------------------------------------


@store_cli.command("rm")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--force",
    is_flag=True,
    help="Also delete files that rows use (those rows then point at a missing file).",
)
@json_option
@reports_errors
def remove_command(paths: tuple[str, ...], force: bool, as_json: bool) -> None:
    """Delete the stored files PATHS (paths as `flask store ls` shows them).

    A file that a FlaskStoreType column uses is not deleted without --force:
    the command names the rows and deletes nothing. So is a path that is not
    canonical (``docs//a.txt``): it would delete the file of another spelling.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    provider_class = store_provider()
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
    usage = admin.file_usage(app, [p.relative_path for p in providers])
    used = {path: admin.usage_labels(rows) for path, rows in usage.items() if rows}
    if used and not force:
        raise click.ClickException(
            "Nothing deleted: rows use "
            + "; ".join(f"{path} ({', '.join(rows)})" for path, rows in used.items())
            + ". Pass --force to delete anyway."
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
    if as_json:
        echo_json(
            {
                "deleted": deleted,
                "missing": missing,
                "used_by": {p: used[p] for p in deleted if p in used},
            }
        )
    else:
        for path in deleted:
            click.echo(f"deleted {path}")
            if path in used:
                note(f"  rows now pointing at a missing file: {', '.join(used[path])}")
    if missing:
        raise click.ClickException("Not stored, so not deleted: " + ", ".join(missing))


# -- check ----------------------------------------------------------------


def config_summary(app_config: dict[str, Any]) -> dict[str, Any]:
    """The ``STORE_*`` settings, with secrets replaced by whether they are set."""
    summary: dict[str, Any] = {}
    for key in sorted(k for k in app_config if k.startswith("STORE_")):
        value = app_config[key]
        if any(part in key for part in _SECRET_KEY_PARTS):
            value = "(set)" if value else None
        elif not isinstance(value, (str, int, float, bool, type(None))):
            value = repr(value)
        summary[key] = value
    return summary


def run_checks(location: str = "") -> list[dict[str, Any]]:
    """Check the configuration, then write, read, list and delete a probe file.

    Returns one ``{"check", "ok", "detail"}`` per step. It stops at the first
    failure, but a probe that was written is always deleted again.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    state = store_state(app)
    results: list[dict[str, Any]] = []

    def record(check: str, ok: bool, detail: str) -> list[dict[str, Any]]:
        results.append({"check": check, "ok": ok, "detail": detail})
        return results

    # Any exception is a failed check to report: this command exists to say
    # what is wrong, whatever the backend raises.
    try:
        state.store.check_config(app)
    except Exception as exc:
        return record("configuration", False, describe(exc))
    record("configuration", True, f"provider {dotted_name(state.provider)}")

    content = secrets.token_bytes(64)
    failed: dict[str, str] = {}
    try:
        with background_uploads(failed):
            probe = state.provider(
                io.BytesIO(content),
                location,
                filename=f"flask-store-check-{secrets.token_hex(6)}.bin",
            ).save()
        if failed:
            raise UploadFailed(next(iter(failed.values())))
    except Exception as exc:
        return record("write", False, describe(exc))
    record("write", True, f"stored {probe.relative_path}")

    check = "read"
    try:
        if probe.read() != content:
            raise StoreError("the file read back differs from the file written.")
        record(check, True, f"read back {len(content)} bytes")
        check = "list"
        page = state.provider.list_folder(location, contains=probe.filename)
        if probe.relative_path not in {entry.path for entry in page.entries}:
            raise StoreError(f"{probe.relative_path} is missing from the listing.")
        record(check, True, f"listed {location or 'the store root'}")
    except Exception as exc:
        record(check, False, describe(exc))

    try:
        probe.delete()
        if probe.exists():
            raise StoreError(f"{probe.relative_path} is still there after delete.")
    except Exception as exc:
        return record("delete", False, describe(exc))
    record("delete", True, f"deleted {probe.relative_path}")
    if not all(r["ok"] for r in results):
        return results
    try:
        for result in state.provider.backend_checks(app=app):
            record(result.check, result.ok, result.detail)
            if not result.ok:
                break
    except Exception as exc:
        record("backend", False, describe(exc))
    return results


#: How old a leftover must be before ``check`` reports it and ``cleanup``
#: touches it: younger ones may belong to an operation still under way.
DEFAULT_GRACE = "1h"


def leftover_json(leftover: Leftover) -> dict[str, Any]:
    return {
        "path": leftover.path,
        "kind": leftover.kind,
        "size": leftover.size,
        "modified": leftover.modified.astimezone(timezone.utc).isoformat(),
        "action": leftover.action,
    }


def leftover_line(leftover: Leftover) -> str:
    modified = leftover.modified.astimezone(timezone.utc)
    return (
        f"{leftover.kind}  {human_size(leftover.size)}  "
        f"{modified:%Y-%m-%d %H:%M}  {leftover.path}  (cleanup: {leftover.action})"
    )


def grace_option(help_text: str) -> Callable[[_F], _F]:
    return click.option(
        "--older-than",
        "older_than",
        default=DEFAULT_GRACE,
        show_default=True,
        callback=duration_option,
        help=help_text,
    )


def dotted_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


@contextmanager
def background_uploads(failed: dict[str, str]) -> Iterator[None]:
    """Wait for background uploads on exit; collect failed ones in ``failed``.

    A provider that uploads in the background (``S3GeventProvider``) returns
    from ``save()`` at once. A command must not exit before its uploads ended,
    and must report the ones that failed, which only a signal tells.
    """

    def on_failure(
        sender: Any, provider: Provider, exception: Exception, **_: Any
    ) -> None:
        failed[provider.relative_path] = describe(exception)

    with upload_failed.connected_to(on_failure):
        try:
            yield
        finally:
            # Loaded only when the app uses an S3 provider.
            s3 = sys.modules.get("flask_store.providers.s3")
            if s3 is not None:
                s3.wait_for_uploads()


@store_cli.command("check")
@click.option(
    "--location",
    "-l",
    default="",
    help="Folder to write the probe file in (default: the store root).",
)
@grace_option("Report files left behind that were last written this long ago.")
@json_option
@reports_errors
def check_command(location: str, older_than: timedelta, as_json: bool) -> None:
    """Check the configuration and that files can be written, read and deleted.

    A small probe file is stored, read back, listed and deleted, then the
    backend's own behaviour is checked (S3: whether conditional writes are
    honoured). Files that interrupted operations left behind are listed for
    `flask store cleanup`. Exits non-zero, naming what failed, when anything
    does not work.
    """
    location = names.clean_location(location)
    results = run_checks(location)
    ok = all(r["ok"] for r in results)
    leftovers = list(store_provider().leftovers(older_than=older_than)) if ok else []
    settings = config_summary(dict(current_app.config))
    if as_json:
        echo_json(
            {
                "ok": ok,
                "config": settings,
                "checks": results,
                "leftovers": [leftover_json(item) for item in leftovers],
            }
        )
    else:
        click.echo("Settings:")
        for key, value in settings.items():
            click.echo(f"  {key} = {value!r}")
        click.echo("Checks:")
        for result in results:
            mark = "ok  " if result["ok"] else "FAIL"
            click.echo(f"  {mark}  {result['check']}: {result['detail']}")
        if leftovers:
            click.echo(
                f"Left behind by interrupted operations, older than "
                f"{format_duration(older_than)} (run `flask store cleanup`):"
            )
            for item in leftovers:
                click.echo(f"  {leftover_line(item)}")
    if not ok:
        failed = next(r for r in results if not r["ok"])
        raise click.ClickException(
            f"Flask-Store check failed at {failed['check']}: {failed['detail']}"
        )
    if not as_json:
        click.echo("Flask-Store works: files can be written, read and deleted.")


# -- cleanup --------------------------------------------------------------


@store_cli.command("cleanup")
@grace_option("Only touch files last written this long ago.")
@click.option("--dry-run", is_flag=True, help="Only list what would be done.")
@click.option("--yes", "-y", is_flag=True, help="Do it without asking first.")
@json_option
@reports_errors
def cleanup_command(
    older_than: timedelta, dry_run: bool, yes: bool, as_json: bool
) -> None:
    """Deal with files that interrupted operations left behind.

    Temporary files of a save that never finished are removed; background
    uploads spooled but never uploaded are uploaded, and those that did reach
    the store are removed. Files younger than --older-than are left alone,
    since they may belong to an operation still under way.
    """
    provider = store_provider()
    leftovers = list(provider.leftovers(older_than=older_than))
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
            outcome = provider.clean_leftover(item)
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


# -- orphans --------------------------------------------------------------


@store_cli.command("orphans")
@click.option(
    "--older-than",
    default="1h",
    show_default=True,
    metavar="DURATION",
    callback=duration_option,
    help="Only files last written this long ago (30m, 12h, 7d; 0s for all). "
    "Newer files may belong to a transaction still in progress.",
)
@click.option("--delete", is_flag=True, help="Delete the orphaned files.")
@click.option("--yes", "-y", is_flag=True, help="Delete without asking first.")
@json_option
@reports_errors
def orphans_command(
    older_than: timedelta, delete: bool, yes: bool, as_json: bool
) -> None:
    """List (or delete) stored files that no FlaskStoreType column references."""
    from . import sqla

    app = current_app._get_current_object()  # type: ignore[attr-defined]
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
    if not as_json:
        for entry in orphans:
            click.echo(entry_line(entry, name=entry.path))
        note(
            f"{len(orphans)} orphaned file{'' if len(orphans) == 1 else 's'}"
            f" ({human_size(total)}) older than {format_duration(older_than)}."
        )
        if attention:
            note(
                f"{len(attention)} file{'' if len(attention) == 1 else 's'} "
                "with a path that is not canonical, never deleted here:"
            )
            for entry in attention:
                note(entry_line(entry, name=entry.path))
    deleted: list[str] | None = None
    if delete and orphans:
        if not yes:
            click.confirm(
                f"Delete {len(orphans)} file{'' if len(orphans) == 1 else 's'}?",
                abort=True,
                err=True,
            )
        deleted = delete_unused(app, [entry.path for entry in orphans])
        if not as_json:
            for path in deleted:
                click.echo(f"deleted {path}")
    if as_json:
        echo_json(
            {
                "orphans": [entry_json(entry) for entry in orphans],
                "total_size": total,
                "deleted": deleted if delete else None,
                "needs_attention": [entry_json(entry) for entry in attention],
            }
        )


def delete_unused(app: Any, paths: list[str]) -> list[str]:
    """Delete ``paths`` that still no row uses, with progress; return the deleted."""
    from .sqla import delete_unused as delete

    deleted: list[str] = []
    with progress(length=len(paths), label="Deleting") as bar:
        for path, outcome in delete(app, paths):
            bar.update(1)
            if outcome == "used":
                note(f"kept {path}: a row uses it now")
            elif outcome == "non-canonical":
                note(f"kept {path}: not a canonical path")
            elif outcome == "deleted":
                deleted.append(path)
    return deleted
