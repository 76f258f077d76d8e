"""A Flask-Admin file storage over the current app's Flask-Store backend.

:class:`StoreFileStorage` implements the methods of
:class:`flask_admin.contrib.fileadmin.BaseFileStorage` that ``BaseFileAdmin``
calls, with Flask-Store's guarantees: nothing is overwritten, nothing is
reached outside the store (or the view's folder), names are made safe, files
rows use are neither deleted nor renamed, and content a browser would run is
sent as a sandboxed attachment.

Flask-Admin hands paths relative to the view's folder, joined with ``/`` (a
leading one when the folder is the root); :meth:`StoreFileStorage.stored_path`
turns them into canonical stored paths or refuses them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from flask import current_app, g
from flask_admin.contrib.fileadmin import BaseFileStorage
from werkzeug.exceptions import NotFound

from ... import admin, names, rules, spelling
from ...backends.base import PageQuery
from ...backends.folder_removal import delete_checked, prune, split_spellings
from ...exceptions import FileRejected, StoreError, UploadFailed
from ...serving import send_stored_file
from ...signals import file_saved
from ...state import current_state
from .folders import is_folder

if TYPE_CHECKING:
    from flask import Flask, Response
    from werkzeug.datastructures import FileStorage

    from ...backends.base import Backend

#: Where a listing request keeps its page: ``after`` in, ``next_after`` out.
PAGE_AFTER = "flask_store_admin_after"
NEXT_AFTER = "flask_store_admin_next_after"

#: The largest file the edit view reads, in bytes.
MAX_EDIT_SIZE = 1024 * 1024


class FileInUse(StoreError):
    """A file rows use was not deleted or renamed."""


class PathTaken(StoreError):
    """The name a file or folder was to get is taken: nothing was replaced."""


class FolderKept(StoreError):
    """A folder was emptied of its checked files, but still holds others."""


def this_app() -> Flask:
    """The current app itself, not the proxy (for signals and queries)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def in_use_message(used: dict[str, list[str]], doing: str) -> str:
    """Why a deletion or a rename was refused, naming the rows."""
    listed = "; ".join(f"{path} ({', '.join(rows)})" for path, rows in used.items())
    return f"Nothing {doing}: rows use {listed}."


class StoreFileStorage(BaseFileStorage):  # type: ignore[misc]
    """Flask-Admin's file storage API over the current app's backend.

    :param location: the folder of the store the view shows (``""``: all of it).
    :param page_size: how many entries a listing page shows.
    """

    separator = "/"

    def __init__(self, location: str = "", *, page_size: int = 200) -> None:
        super().__init__(on_windows=False)
        self.location = names.clean_location(location)
        if page_size < 1:
            raise ValueError("page_size must be at least 1.")
        self.page_size = page_size

    @property
    def backend(self) -> Backend:
        """The current app's backend, found per call: views outlive apps."""
        return current_state().backend

    # -- paths ------------------------------------------------------------

    def get_base_path(self) -> str:
        return ""

    def stored_path(self, path: str) -> str:
        """The canonical stored path a view path names (the view's folder for "").

        :raises ValueError: for ``..``, hidden parts, control characters,
            backslashes: anything that is not a path inside the view's folder.
        """
        parts = [part for part in path.split("/") if part not in ("", ".")]
        if not parts:
            return self.location
        stored = spelling.canonical_path(names.join_key(self.location, *parts))
        names.check_visible(stored, "Path")
        return stored

    def view_path(self, stored: str) -> str:
        """The view path of a stored path inside the view's folder."""
        return stored[len(self.location) + 1 :] if self.location else stored

    def _maybe_stored(self, path: str) -> str | None:
        try:
            return self.stored_path(path)
        except (TypeError, ValueError):
            return None

    # -- looking ----------------------------------------------------------

    def path_exists(self, path: str) -> bool:
        stored = self._maybe_stored(path)
        if stored is None:
            return False
        if stored == self.location:
            return True
        return self.backend.exists(stored) or is_folder(self.backend, stored)

    def is_dir(self, path: str) -> bool:
        stored = self._maybe_stored(path)
        return stored is not None and is_folder(self.backend, stored)

    def get_files(
        self, path: str, directory: str
    ) -> list[tuple[str, str, bool, int, float]]:
        """One page of the folder: ``(name, view path, is_dir, size, mtime)``.

        The page starts after ``g.flask_store_admin_after`` (set by the view
        from the ``after`` query argument); the name to start the next page
        after is left in ``g.flask_store_admin_next_after``.
        """
        folder = names.clean_location(self.stored_path(directory))
        query = PageQuery(after=g.get(PAGE_AFTER), limit=self.page_size)
        page = self.backend.list_page(folder, query)
        setattr(g, NEXT_AFTER, page.next_after)
        return [
            (
                entry.name,
                self.view_path(entry.path),
                entry.is_folder,
                entry.size or 0,
                entry.modified.timestamp() if entry.modified else 0,
            )
            for entry in page.entries
        ]

    # -- reading ----------------------------------------------------------

    def send_file(self, file_path: str) -> Response:
        stored = self.stored_path(file_path)
        backend = self.backend
        try:
            stream = backend.open(stored)
        except FileNotFoundError:
            raise NotFound() from None
        return send_stored_file(
            stream,
            name=stored.rpartition("/")[2],
            mimetype=backend.content_type(stored),
            max_age=0,
        )

    def read_file(self, path: str) -> bytes:
        stored = self.stored_path(path)
        size = self.backend.stat(stored).size or 0
        if size > MAX_EDIT_SIZE:
            raise OSError(f"{path} is too large to edit here ({size} bytes).")
        with self.backend.open(stored) as stream:
            return stream.read(MAX_EDIT_SIZE + 1)

    # -- writing ----------------------------------------------------------

    def save_file(self, path: str, file_data: FileStorage) -> None:
        """Store an upload under exactly ``path``, or refuse.

        The store's upload rules (``STORE_ALLOWED_EXTENSIONS``,
        ``STORE_MAX_SIZE``) apply. A taken name raises :class:`PathTaken`
        and the existing file is left as it was.
        """
        stored = self.stored_path(path)
        location, name = spelling.split_stored_path(stored)
        name = names.secure_name(name)
        size = admin.stream_size(file_data)
        reason = rules.refusal(name, size or 0, current_app.config)
        if reason is not None:
            raise FileRejected(reason)
        file_data.stream.seek(0)
        self._write(file_data.stream, [names.join_key(location, name)])

    def _write(self, stream: Any, candidates: Sequence[str]) -> str:
        backend = self.backend
        try:
            written = backend.write(stream, candidates)
        except UploadFailed:
            raise PathTaken(
                f'File "{self.view_path(candidates[0])}" already exists.'
            ) from None
        file_saved.send(this_app(), provider=backend.handle(written))
        return written

    def write_file(self, path: str, content: str) -> None:
        """Replace a text file's content (the edit view).

        The new content is stored under a fresh name first; only then is the
        old file deleted and the new one stored under its name, so a failure
        never loses both. Errors are :class:`OSError`, as the edit view expects.
        """
        stored = self.stored_path(path)
        location, name = spelling.split_stored_path(stored)
        data = content.encode("utf-8")
        backend = self.backend
        try:
            draft = backend.write(
                io.BytesIO(data), names.Candidates(location, name)[1:]
            )
            backend.delete(stored)
            try:
                backend.write(io.BytesIO(data), [stored])
            except UploadFailed:
                raise OSError(
                    f"{path} was taken meanwhile; the new content is in "
                    f"{self.view_path(draft)}."
                ) from None
            backend.delete(draft)
        except StoreError as exc:
            raise OSError(str(exc)) from exc

    def make_dir(self, path: str, directory: str) -> None:
        parent = self.stored_path(path)
        name = names.clean_location(directory)
        if not name or "/" in name:
            raise ValueError(f"{directory!r} is not a folder name.")
        folder = names.join_key(parent, name)
        if self.backend.exists(folder) or is_folder(self.backend, folder):
            raise PathTaken(f'"{self.view_path(folder)}" already exists.')
        self.backend.create_folder(folder)

    # -- deleting and renaming ----------------------------------------------

    def check_unused(self, paths: Sequence[str], doing: str) -> None:
        """Raise :class:`FileInUse`, naming the rows, when rows use ``paths``."""
        usage = admin.file_usage(this_app(), list(paths))
        used = {
            self.view_path(path): admin.usage_labels(rows)
            for path, rows in usage.items()
            if rows
        }
        if used:
            raise FileInUse(in_use_message(used, doing))

    def delete_file(self, file_path: str) -> None:
        stored = self.stored_path(file_path)
        self.check_unused([stored], "deleted")
        self.backend.handle(stored).delete()

    def delete_tree(self, directory: str) -> None:
        """Delete a folder's files once no row uses them, then its empty folders.

        Exactly the files checked are deleted: one saved into the folder
        meanwhile, or an entry not spelt canonically, keeps the folder
        (:class:`FolderKept` names them).
        """
        folder = self._folder(directory)
        files, _ = split_spellings(f.path for f in self.backend.iter_files(folder))
        self.check_unused(files, "deleted")
        left = delete_checked(self.backend, folder, files).left
        if not left.removed:
            raise FolderKept(left.explain())

    def rename_path(self, src: str, dst: str) -> None:
        """Rename a file or a folder; refused when a row uses a file it moves.

        The new name is made safe; when it is taken, nothing changes.
        """
        source = self.stored_path(src)
        parent, _, new_name = self.stored_path(dst).rpartition("/")
        target = names.join_key(parent, names.secure_name(new_name))
        if source == target:
            return
        backend = self.backend
        if is_folder(backend, source):
            self._rename_folder(self._folder(src), target)
            return
        self.check_unused([source], "renamed")
        with backend.open(source) as stream:
            self._write(stream, [target])
        backend.handle(source).delete()

    def _rename_folder(self, source: str, target: str) -> None:
        backend = self.backend
        files, _ = split_spellings(f.path for f in backend.iter_files(source))
        self.check_unused(files, "renamed")
        if backend.exists(target) or is_folder(backend, target):
            raise PathTaken(f'"{self.view_path(target)}" already exists.')
        backend.create_folder(target)
        for path in files:
            inner = path[len(source) + 1 :].rpartition("/")[0]
            backend.move(path, names.join_key(target, inner))
        # Files put in the old folder meanwhile stay there, with it.
        left = prune(backend, source)
        if not left.removed:
            raise FolderKept(left.explain())

    def _folder(self, path: str) -> str:
        """A folder inside the view's folder, never the view's folder itself."""
        folder = names.clean_location(self.stored_path(path))
        if folder == self.location:
            raise ValueError(
                "The file admin's own folder cannot be deleted or renamed."
            )
        return folder
