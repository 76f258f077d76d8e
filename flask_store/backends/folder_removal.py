"""Removing a folder once its files were checked: what was not checked stays.

Deleting or moving a folder goes file by file, each file checked first (the
rows using it, its spelling). What is left of the folder afterwards is only
pruned: its empty folders (and S3 folder markers) go, while a file saved
into it since the check, or an entry another tool wrote under a spelling
that is not canonical (``a//b.txt``, a name in NFD), is kept, with its
folders, and reported. Nothing here deletes a file it was not given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .. import spelling
from . import variant_files

if TYPE_CHECKING:
    from .base import Backend


def split_spellings(paths: Iterable[str]) -> tuple[list[str], list[str]]:
    """``paths`` as ``(canonical, not_canonical)``, each in the order given.

    Flask-Store acts on a file under its canonical path only: acting on an
    entry listed under another spelling would act on that path's file,
    perhaps one that rows use, and leave the entry itself where it was.
    """
    canonical: list[str] = []
    other: list[str] = []
    for path in paths:
        (canonical if spelling.is_canonical(path) else other).append(path)
    return canonical, other


@dataclass
class Leftovers:
    """What a folder still holds after its checked files were deleted or moved."""

    folder: str
    #: Files saved into it after the check: kept, never deleted unchecked.
    new: list[str] = field(default_factory=list)
    #: Entries listed under a spelling that is not canonical: never acted on.
    not_canonical: list[str] = field(default_factory=list)

    @property
    def removed(self) -> bool:
        """Whether the folder is gone (it held nothing else)."""
        return not (self.new or self.not_canonical)

    @property
    def kept(self) -> list[str]:
        """Every entry that kept the folder, for reports."""
        return self.new + self.not_canonical

    def explain(self) -> str:
        """Why the folder was not removed, naming the entries left, for people."""
        reasons = []
        if self.new:
            reasons.append(
                "files saved into it after the check, which were kept: "
                + ", ".join(self.new)
            )
        if self.not_canonical:
            reasons.append(
                "entries another tool wrote under a spelling that is not "
                "canonical, which Flask-Store does not act on (they need "
                "attention; `flask store ls` shows them): "
                + ", ".join(self.not_canonical)
            )
        return (
            f"Folder {self.folder} was not removed: it holds {'; and '.join(reasons)}."
        )


def prune(backend: Backend, folder: str) -> Leftovers:
    """Remove what is left of ``folder`` once its checked files are gone.

    Only empty folders go (:meth:`~Backend.prune_folders`), and the folder's
    image variants when nothing is left in it; every file still listed is
    kept and reported.
    """
    new, not_canonical = split_spellings(s.path for s in backend.iter_files(folder))
    backend.prune_folders(folder)
    left = Leftovers(folder, new, not_canonical)
    if left.removed:
        variant_files.forget(backend, folder)
    return left


@dataclass
class FolderRemoval:
    """What deleting a folder's checked files did."""

    deleted: list[str]
    #: Checked files gone before their turn (deleted by someone else).
    missing: list[str]
    left: Leftovers


def delete_checked(
    backend: Backend, folder: str, paths: Sequence[str]
) -> FolderRemoval:
    """Delete exactly ``paths`` (checked), then :func:`prune` ``folder``.

    :raises ValueError: when one of ``paths`` is not canonical (nothing is
        deleted then).
    """
    _, not_canonical = split_spellings(paths)
    if not_canonical:
        raise ValueError(
            "Not deleting paths that are not canonical: " + ", ".join(not_canonical)
        )
    deleted: list[str] = []
    missing: list[str] = []
    for path in paths:
        try:
            backend.delete(path)
        except FileNotFoundError:
            missing.append(path)
        else:
            deleted.append(path)
    return FolderRemoval(deleted, missing, prune(backend, folder))
