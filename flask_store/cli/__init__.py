"""``flask store ...``: list, upload, delete, check and clean up stored files.

Every command works on the app's configured provider. Output is for people by
default and JSON with ``--json``; an error ends the command with a one-line
message (a JSON object with ``--json``) and a non-zero exit status, never a
traceback.

One module per job: :mod:`~flask_store.cli.files` (``ls``, ``put``, ``rm``),
:mod:`~flask_store.cli.check`, :mod:`~flask_store.cli.cleanup` and
:mod:`~flask_store.cli.orphans` hold the commands; :mod:`~flask_store.cli.output`
what they print, :mod:`~flask_store.cli.errors` how they fail,
:mod:`~flask_store.cli.options` the options they share,
:mod:`~flask_store.cli.durations` the ``--older-than`` values,
:mod:`~flask_store.cli.uploads` progress and background uploads, and
:mod:`~flask_store.cli.context` the one place they read the app's state.
"""

from __future__ import annotations

from flask.cli import AppGroup

# The names of the former single module flask_store.cli keep working from here.
from .check import check_command, config_summary, dotted_name, run_checks
from .cleanup import cleanup_command
from .durations import duration_option, format_duration, parse_duration
from .errors import describe, expected_errors, reports_errors
from .files import PAGE_SIZE, list_command, list_entries, put_command, remove_command
from .moving import move_command
from .options import DEFAULT_GRACE, grace_option, json_option, yes_option
from .orphans import delete_if_unused, orphans_command
from .output import (
    NEEDS_ATTENTION,
    echo_json,
    entry_json,
    entry_line,
    leftover_json,
    leftover_line,
    note,
    progress,
)
from .uploads import background_uploads
from .verify import verify_command

__all__ = [
    "DEFAULT_GRACE",
    "NEEDS_ATTENTION",
    "PAGE_SIZE",
    "background_uploads",
    "check_command",
    "cleanup_command",
    "config_summary",
    "delete_if_unused",
    "describe",
    "dotted_name",
    "duration_option",
    "echo_json",
    "entry_json",
    "entry_line",
    "expected_errors",
    "format_duration",
    "grace_option",
    "json_option",
    "leftover_json",
    "leftover_line",
    "list_command",
    "list_entries",
    "move_command",
    "note",
    "orphans_command",
    "parse_duration",
    "progress",
    "put_command",
    "remove_command",
    "reports_errors",
    "run_checks",
    "store_cli",
    "yes_option",
]

store_cli = AppGroup(
    "store", help="List, upload, delete and check the files of the configured provider."
)
for _command in (
    list_command,
    put_command,
    remove_command,
    move_command,
    check_command,
    orphans_command,
    cleanup_command,
    verify_command,
):
    store_cli.add_command(_command)
