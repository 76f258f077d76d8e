"""The records of a backend's maintenance: ``flask store check`` and ``cleanup``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Leftover:
    """A file an interrupted operation left behind: a temp file, a spooled upload.

    ``flask store check`` reports them and ``flask store cleanup`` hands each
    to :meth:`Backend.clean_leftover`.
    """

    #: Where it is (for files on disk, the absolute path).
    path: str
    #: What it is, for people: ``"temporary file"``, ``"spooled upload"``.
    kind: str
    size: int
    modified: datetime
    #: What ``cleanup`` will do with it, for people: ``"remove"``, ``"re-upload"``.
    action: str


@dataclass(frozen=True)
class CheckResult:
    """One step of ``flask store check``."""

    check: str
    ok: bool
    detail: str
