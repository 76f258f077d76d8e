"""``flask store verify``: read stored files again and check their checksums."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import click

from .. import names
from ..backends.base import CHUNK_SIZE, Backend
from ..exceptions import StoredFileNotFound
from .context import current_backend, store_command
from .options import json_option
from .output import echo_json, note, progress


@dataclass(frozen=True)
class Verdict:
    """What reading one stored file again found."""

    path: str
    #: ``"ok"``, ``"mismatch"``, ``"unchecked"`` (no checksum recorded) or
    #: ``"missing"``.
    status: str
    recorded: str | None = None
    found: str | None = None
    recorded_size: int | None = None
    size: int | None = None

    def to_json(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def verify_file(backend: Backend, path: str) -> Verdict:
    """Read ``path`` again and compare it with the metadata its save recorded."""
    try:
        recorded = backend.metadata(path)
        if recorded is None or recorded.sha256 is None:
            return Verdict(path, "unchecked" if backend.exists(path) else "missing")
        digest, size = hashlib.sha256(), 0
        with backend.open(path) as stream:
            while chunk := stream.read(CHUNK_SIZE):
                digest.update(chunk)
                size += len(chunk)
    except StoredFileNotFound:
        return Verdict(path, "missing")
    found = digest.hexdigest()
    ok = found == recorded.sha256 and size == recorded.size
    return Verdict(
        path,
        "ok" if ok else "mismatch",
        recorded=recorded.sha256,
        found=found,
        recorded_size=recorded.size,
        size=size,
    )


def paths_to_verify(backend: Backend, paths: Sequence[str]) -> Iterator[str]:
    """The stored files ``paths`` name: files, every file in folders, or all.

    A path that names neither a file nor a folder is yielded as it is, so
    that it is reported missing.
    """
    if not paths:
        yield from (stored.path for stored in backend.iter_files(""))
        return
    for given in paths:
        path = names.clean_location(given)
        if backend.exists(path):
            yield path
            continue
        inside = [stored.path for stored in backend.iter_files(path)]
        yield from inside or [path]


@store_command("verify")
@click.argument("paths", nargs=-1)
@json_option
def verify_command(paths: tuple[str, ...], as_json: bool) -> None:
    """Read stored files again and check them against their recorded SHA-256.

    PATHS are files or folders (everything in them); with none, every file in
    the store. A file whose content or size no longer matches what its save
    recorded is a mismatch, and so is a PATH that is not stored: the command
    then exits with status 1. Files saved without a checksum (by another
    tool, or before Flask-Store 1.0) are listed as unchecked.
    """
    backend = current_backend()
    targets = list(paths_to_verify(backend, paths))
    with progress(targets, label="Verifying") as bar:
        verdicts = [verify_file(backend, path) for path in bar]
    failed = [v for v in verdicts if v.status in ("mismatch", "missing")]
    if as_json:
        echo_json(
            {
                status: [v.to_json() for v in verdicts if v.status == status]
                for status in ("ok", "mismatch", "unchecked", "missing")
            }
        )
    else:
        for verdict in verdicts:
            click.echo(_line(verdict))
        counts = {
            s: sum(v.status == s for v in verdicts)
            for s in ("ok", "mismatch", "unchecked", "missing")
        }
        note(
            f"{counts['ok']} ok, {counts['mismatch']} mismatched, "
            f"{counts['unchecked']} without a checksum, {counts['missing']} missing."
        )
    if failed:
        raise click.exceptions.Exit(1)


def _line(verdict: Verdict) -> str:
    if verdict.status == "mismatch":
        return (
            f"MISMATCH {verdict.path}: recorded sha256 {verdict.recorded} "
            f"({verdict.recorded_size} bytes), now {verdict.found} "
            f"({verdict.size} bytes)"
        )
    if verdict.status == "unchecked":
        return f"unchecked {verdict.path} (no checksum recorded)"
    if verdict.status == "missing":
        return f"MISSING {verdict.path}: not stored"
    return f"ok {verdict.path}"
