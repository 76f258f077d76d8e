"""``flask store check``: the configuration, a probe file, the backend's behaviour."""

from __future__ import annotations

import io
import secrets
from datetime import timedelta
from typing import Any

import click

from .. import names
from ..exceptions import StoreError, UploadFailed
from .context import (
    check_configuration,
    current_backend,
    current_flask_app,
    current_provider,
    store_command,
)
from .durations import format_duration
from .errors import describe
from .options import grace_option, json_option
from .output import echo_json, leftover_json, leftover_line
from .uploads import background_uploads

#: Config values ``check`` never prints, only says whether they are set.
_SECRET_KEY_PARTS = ("SECRET", "PASSWORD", "ACCESS_KEY", "TOKEN")


def config_summary(app_config: dict[str, Any]) -> dict[str, Any]:
    """The ``STORE_*`` settings, with secrets replaced by whether they are set."""
    summary: dict[str, Any] = {}
    for key in sorted(k for k in app_config if k.startswith("STORE_")):
        value = app_config[key]
        if any(part in key for part in _SECRET_KEY_PARTS):
            value = "(set)" if value else None
        else:
            value = json_value(value)
        summary[key] = value
    return summary


def json_value(value: Any) -> Any:
    """A setting as JSON shows it: sets as sorted lists, callables by name."""
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    if isinstance(value, (set, frozenset, list, tuple)):
        return sorted(json_value(item) for item in value)
    if callable(value):
        return (
            getattr(value, "__module__", "?")
            + "."
            + getattr(value, "__qualname__", type(value).__name__)
        )
    return str(value)


def dotted_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def run_checks(location: str = "") -> list[dict[str, Any]]:
    """Check the configuration, then write, read, list and delete a probe file.

    Returns one ``{"check", "ok", "detail"}`` per step. It stops at the first
    failure, but a probe that was written is always deleted again.
    """
    provider = current_provider()
    results: list[dict[str, Any]] = []

    def record(check: str, ok: bool, detail: str) -> list[dict[str, Any]]:
        results.append({"check": check, "ok": ok, "detail": detail})
        return results

    # Any exception is a failed check to report: this command exists to say
    # what is wrong, whatever the backend raises.
    try:
        check_configuration()
    except Exception as exc:
        return record("configuration", False, describe(exc))
    record("configuration", True, f"provider {dotted_name(provider)}")

    content = secrets.token_bytes(64)
    failed: dict[str, str] = {}
    try:
        with background_uploads(failed):
            probe = provider(
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
        page = current_backend().list_folder(location, contains=probe.filename)
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
        for result in current_backend().checks():
            record(result.check, result.ok, result.detail)
            if not result.ok:
                break
    except Exception as exc:
        record("backend", False, describe(exc))
    return results


@store_command("check")
@click.option(
    "--location",
    "-l",
    default="",
    help="Folder to write the probe file in (default: the store root).",
)
@grace_option("Report files left behind that were last written this long ago.")
@json_option
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
    leftovers = list(current_backend().leftovers(older_than=older_than)) if ok else []
    settings = config_summary(dict(current_flask_app().config))
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
