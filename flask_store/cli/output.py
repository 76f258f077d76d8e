"""What the commands print: JSON for scripts, lines and progress bars for people.

Data goes to stdout; messages for people and progress bars go to stderr, so
that stdout stays parseable.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from datetime import timezone
from typing import Any

import click

from .. import spelling
from ..backends.base import Leftover, StoredFile
from ..humanize import human_size as human_size  # the CLI imports it here only

#: How ``ls`` and ``orphans`` mark an entry whose path is not canonical.
NEEDS_ATTENTION = (
    "(needs attention: not a canonical path; Flask-Store leaves it alone, "
    "rename or remove it with the tool that wrote it)"
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


def count_files(count: int, kind: str = "") -> str:
    """``1 file``, ``2 files``, ``2 orphaned files`` (with ``kind="orphaned"``)."""
    return f"{count} {kind}{' ' if kind else ''}file{'' if count == 1 else 's'}"


def entry_json(entry: StoredFile) -> dict[str, Any]:
    """A listing entry as plain JSON types."""
    return {
        "path": entry.path,
        "name": entry.name,
        "type": "folder" if entry.is_folder else "file",
        "size": entry.size,
        "modified": entry.modified.isoformat() if entry.modified else None,
        "content_type": None if entry.is_folder else entry.content_type,
        "canonical": spelling.is_canonical(entry.path),
    }


def entry_line(entry: StoredFile, name: str | None = None) -> str:
    """``size  date (UTC)  name`` for one listing entry; folders end in ``/``."""
    size = "-" if entry.size is None else human_size(entry.size)
    when = "-"
    if entry.modified is not None:
        when = entry.modified.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")
    shown = entry.name if name is None else name
    line = f"{size:>10}  {when:<16}  {shown}{'/' if entry.is_folder else ''}"
    if not spelling.is_canonical(entry.path):
        line += f"  {NEEDS_ATTENTION}"
    return line


def leftover_json(leftover: Leftover) -> dict[str, Any]:
    """A file an interrupted operation left behind, as plain JSON types."""
    return {
        "path": leftover.path,
        "kind": leftover.kind,
        "size": leftover.size,
        "modified": leftover.modified.astimezone(timezone.utc).isoformat(),
        "action": leftover.action,
    }


def leftover_line(leftover: Leftover) -> str:
    """``kind  size  date (UTC)  path  (cleanup: action)`` for one leftover."""
    modified = leftover.modified.astimezone(timezone.utc)
    return (
        f"{leftover.kind}  {human_size(leftover.size)}  "
        f"{modified:%Y-%m-%d %H:%M}  {leftover.path}  (cleanup: {leftover.action})"
    )
