"""Renaming, moving and deleting files and folders from the admin, apart
from HTTP: what each change would touch, what refuses it, and doing it.

Nothing is overwritten: a taken target refuses the change. A file that rows
use is never moved (the rows would point at a missing file), and never
deleted without a confirmation that named those rows. Everything here can be
called, and tested, without a request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from werkzeug.exceptions import BadRequest, Conflict, NotFound

from .. import names
from ..backends.folder_removal import Leftovers, prune, split_spellings
from ..exceptions import FolderConflict, UploadFailed
from . import messages
from .models import file_usage, usage_labels

if TYPE_CHECKING:
    from flask import Flask

    from ..backends.base import Backend


class Refused(Conflict):
    """A change refused because of what is stored or which rows use it (409)."""


def new_name(raw: str | None, *, folder: bool = False) -> str:
    """A new name for a file or folder: one path segment, or BadRequest.

    A file's name is made safe as an upload's is
    (:func:`flask_store.names.secure_name`); a folder's is checked as a new
    folder's is.
    """
    name = (raw or "").strip()
    if not name:
        raise BadRequest(messages.NAME_REQUIRED)
    if "/" in name or "\\" in name:
        raise BadRequest(messages.NAME_WITH_SLASH)
    if names.is_hidden_name(name):
        raise BadRequest(messages.HIDDEN_NAME)
    try:
        safe = names.clean_location(name) if folder else names.secure_name(name)
    except (TypeError, ValueError) as exc:
        raise BadRequest(str(exc)) from None
    if not safe or names.is_hidden_name(safe):
        raise BadRequest(messages.unsafe_name(name))
    return safe


def target_folder(raw: str | None) -> str:
    """The folder a change moves things into, cleaned, or BadRequest."""
    try:
        folder = names.clean_location(raw or "")
    except (TypeError, ValueError) as exc:
        raise BadRequest(str(exc)) from None
    if folder and names.is_hidden(folder):
        raise BadRequest(messages.HIDDEN_NAME)
    return folder


def folder_path(raw: str | None) -> str:
    """A folder a request names (not the root), cleaned; BadRequest when bad."""
    folder = target_folder(raw)
    if not folder:
        raise BadRequest(messages.ROOT_IS_NO_FOLDER)
    return folder


def exists(backend: Backend, path: str) -> bool:
    """Whether ``path`` is taken, by a file or by a folder."""
    if backend.exists(path):
        return True
    return not backend.list_folder(path, limit=1).missing


def files_under(backend: Backend, folder: str) -> list[str]:
    """Every stored file under ``folder``, at any depth."""
    return [stored.path for stored in backend.iter_files(folder)]


def used_by(app: Flask, paths: Sequence[str]) -> dict[str, list[str]]:
    """The rows using each of ``paths`` that any row uses (path to labels).

    Every spelling counts: a row holding another spelling of a path, or a
    path not in its canonical spelling, is found (``rows_using``).
    """
    usage = file_usage(app, list(paths))
    return {path: usage_labels(rows) for path, rows in usage.items() if rows}


def refuse_used(app: Flask, paths: Sequence[str], doing: str) -> None:
    """Refuse to move ``paths`` when rows use any of them, naming the rows."""
    used = used_by(app, paths)
    if used:
        raise Refused(messages.used_files(used, doing))


@dataclass
class Move:
    """One file or folder to move or rename: ``source`` to ``target``."""

    source: str
    target: str
    is_folder: bool = False
    #: For a folder, its files: ``[(from, to), ...]``.
    files: list[tuple[str, str]] = field(default_factory=list)
    #: For a folder, the folders inside it, empty ones too, as they will be named.
    folders: list[str] = field(default_factory=list)
    #: For a folder, the entries in it not spelt canonically: never moved.
    not_canonical: list[str] = field(default_factory=list)
    #: For a folder, once moved: what was left in it, which kept it.
    left: Leftovers | None = None


def plan_move(
    app: Flask,
    backend: Backend,
    source: str,
    folder: str,
    name: str,
    *,
    check_rows: bool = True,
) -> Move:
    """Check that ``source`` can go to ``folder/name``; what it would move.

    ``check_rows=False`` leaves the rows using the files to the caller
    (``flask store mv --force`` names them, then moves anyway).

    :raises NotFound: when ``source`` is neither a file nor a folder.
    :raises Refused: when the target is taken, is inside the source, or a
        row uses one of the files.
    """
    target = names.join_key(folder, name)
    if target == source:
        raise BadRequest(messages.same_place(source))
    if backend.exists(source):
        move = Move(source, target, files=[(source, target)])
    elif not backend.list_folder(source, limit=1).missing and source:
        if target.startswith(source + "/"):
            raise BadRequest(messages.into_itself(source))
        move = Move(source, target, is_folder=True)
        files, move.not_canonical = split_spellings(files_under(backend, source))
        move.files = [(path, target + path[len(source) :]) for path in files]
        move.folders = [
            target + path[len(source) :] for path in backend.iter_folders(source)
        ]
    else:
        raise NotFound(messages.not_stored(source))
    if exists(backend, target):
        raise Refused(messages.taken(target))
    if check_rows:
        refuse_used(app, [path for path, _ in move.files], "moved")
    return move


def do_move(backend: Backend, move: Move) -> list[str]:
    """Move every file of ``move``; the new paths. Never over another file.

    A target taken meanwhile stops the move there (:class:`Refused`): the
    files moved so far stay moved, the others where they were. A moved
    folder is then only pruned: what is left in it (files saved since the
    plan, entries not spelt canonically) stays, with it, in ``move.left``.
    """
    moved = []
    for source, target in move.files:
        location, _, name = target.rpartition("/")
        try:
            moved.append(backend.move(source, location, name=name))
        except UploadFailed:
            raise Refused(messages.taken(target)) from None
        except FolderConflict as conflict:  # the target folder is refused
            raise Refused(conflict.description) from None
    if move.is_folder:
        backend.create_folder(move.target)
        for folder in move.folders:
            backend.create_folder(folder)
        move.left = prune(backend, move.source)
    return moved


@dataclass
class FolderDeletion:
    """What deleting a folder would delete, and the rows using those files."""

    folder: str
    #: The files to delete, each canonical.
    files: list[str]
    used: dict[str, list[str]]
    #: Entries not spelt canonically: never deleted, they keep the folder.
    not_canonical: list[str] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        """Every row using one of the files, each named once."""
        return sorted({label for labels in self.used.values() for label in labels})


def plan_folder_deletion(app: Flask, backend: Backend, folder: str) -> FolderDeletion:
    """What deleting ``folder`` would delete; NotFound when there is none."""
    if backend.list_folder(folder, limit=1).missing:
        raise NotFound(messages.no_folder(folder))
    files, not_canonical = split_spellings(files_under(backend, folder))
    return FolderDeletion(folder, files, used_by(app, files), not_canonical)


def confirmed(
    plan_labels: Sequence[str], count: int, named: set[str], said: str
) -> bool:
    """Whether a confirmation still covers what would be deleted now.

    ``named`` is the rows and ``said`` the file count the confirmation page
    showed: a file or a row that came since asks again.
    """
    return said == str(count) and named.issuperset(plan_labels)
