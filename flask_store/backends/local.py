"""Local disk storage, the default backend.

Files are published by :mod:`~flask_store.backends.publish`: complete under
their final name or absent, never over another file. Every path under
``STORE_PATH`` is walked from an open descriptor of it, one folder at a time
and never through a symlink (:mod:`flask_store.fsops`), so a symlink planted
or swapped in at any moment is refused, never followed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import IO, TYPE_CHECKING

from .. import fsops, names
from ..exceptions import FolderConflict, StoredFileNotFound
from ..metadata import FileMetadata
from ..settings import flag, text
from ..state import StoreState
from . import local_metadata, variant_files
from .base import Backend, FolderPage, Leftover, PageQuery, StoredFile, targets
from .local_listing import entry as _entry
from .local_listing import page as _page
from .local_listing import sorted_page
from .publish import TEMP_PREFIX, NoHardLinks, publish_first, storage_error, write_in
from .spooled import SPOOL_FOLDER, SpooledUpload

if TYPE_CHECKING:
    from flask import Flask


def path_parts(relative: str) -> list[str]:
    """The components of a stored path or location (``""`` has none)."""
    return relative.split("/") if relative else []


def _not_found(exc: BaseException) -> bool:
    """Whether a failed lookup means "not stored" (missing, a symlink, too long)."""
    if isinstance(exc, fsops.Refused):
        return True
    return isinstance(exc, OSError) and (
        isinstance(exc, (FileNotFoundError, NotADirectoryError))
        or exc.errno == errno.ENAMETOOLONG
    )


class LocalBackend(Backend):
    """Files in the folder ``STORE_PATH`` on the local disk.

    The folder's real path is resolved once and its descriptor opened once
    (once per process after a fork), in :attr:`dir`.
    """

    settings = (text("STORE_PATH"), flag("STORE_FSYNC"))
    direct_uploads = "tus"
    records_on_write = True

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        #: ``STORE_PATH`` as configured (absolute).
        self.path = str(app.config["STORE_PATH"])
        #: Whether a save returns only once the file is on disk (``STORE_FSYNC``).
        self.fsync = bool(app.config.get("STORE_FSYNC", True))
        #: The real, absolute path of ``STORE_PATH``: for showing and building
        #: paths only; files are reached through :attr:`dir`.
        self.root = os.path.realpath(self.path)
        #: The store folder's descriptor, every walk starts from.
        self.dir = fsops.StoreDir(self.path)

    def absolute_path(self, path: str) -> str:
        return os.path.join(self.path, *path_parts(path))

    def join(self, *parts: str) -> str:
        return os.path.join(*parts) if parts else ""

    def spool_folder(self) -> int:
        """A new descriptor of the store's spool folder, made when missing.

        The folder is private to the app's user and reached from the store's
        descriptor, never through a symlink. The caller closes it.
        """
        folders = fsops.Folders(self.dir.fd(create=True), [SPOOL_FOLDER], mode=0o700)
        try:
            return os.dup(folders.fd)
        finally:
            folders.close()

    def spool(self) -> SpooledUpload:
        """A new, empty spooled upload in the store's spool folder.

        The spool folder (made when missing, private to the app's user) and
        the file are created from the store's descriptor, never through a
        symlink.
        """
        dir_fd = self.spool_folder()
        try:
            name = f"{TEMP_PREFIX}{secrets.token_hex(8)}.upload"
            fd = os.open(name, fsops.CREATE_FLAGS | os.O_RDWR, 0o600, dir_fd=dir_fd)
        except BaseException:
            os.close(dir_fd)
            raise
        path = os.path.join(self.root, SPOOL_FOLDER, name)
        return SpooledUpload(path, fd, dir_fd=dir_fd, name=name)

    def write(self, stream: IO[bytes], candidates: Sequence[str]) -> str:
        location = candidates[0].rpartition("/")[0]
        try:
            return write_in(
                self.dir, path_parts(location), stream, candidates, fsync=self.fsync
            )
        except fsops.Refused:
            raise FolderConflict(
                f"{location!r} is not a folder inside STORE_PATH."
            ) from None
        except OSError as exc:
            error = storage_error(exc, candidates[0])
            if error is None:
                raise
            raise error from exc

    def _lookup_error(self, path: str, exc: BaseException) -> StoredFileNotFound:
        if isinstance(exc, fsops.Refused):
            return StoredFileNotFound(f"{path!r} is not a stored file ({exc.reason}).")
        return StoredFileNotFound(f"{path!r} is not stored.")

    def exists(self, path: str) -> bool:
        try:
            fsops.stat_file(self.dir.fd(), path_parts(path))
        except (OSError, fsops.Refused) as exc:
            if _not_found(exc):
                return False
            raise
        return True

    def open(self, path: str) -> IO[bytes]:
        try:
            fd, _ = fsops.open_file(self.dir.fd(), path_parts(path))
        except (OSError, fsops.Refused) as exc:
            if _not_found(exc):
                raise self._lookup_error(path, exc) from None
            raise
        return os.fdopen(fd, "rb")

    def delete_file(self, path: str) -> None:
        try:
            fsops.unlink_file(self.dir.fd(), path_parts(path))
        except (OSError, fsops.Refused) as exc:
            if _not_found(exc):
                raise self._lookup_error(path, exc) from None
            raise

    def record(self, path: str, metadata: FileMetadata) -> None:
        """A save set it before publishing; a copy's may follow its new name."""
        local_metadata.update(self.dir, path_parts(path), metadata, fsync=self.fsync)

    def metadata(self, path: str) -> FileMetadata | None:
        return local_metadata.read(self.dir, path_parts(path))

    def stat(self, path: str) -> StoredFile:
        try:
            st = fsops.stat_file(self.dir.fd(), path_parts(path))
        except (OSError, fsops.Refused) as exc:
            if _not_found(exc):
                raise self._lookup_error(path, exc) from None
            raise
        return _entry(path, st)

    # -- listing ----------------------------------------------------------

    def list_page(self, location: str, query: PageQuery) -> FolderPage:
        root = self.dir
        try:
            folder = fsops.open_folder(root.fd(), path_parts(location))
        except (OSError, fsops.Refused) as exc:
            if _not_found(exc):
                # The root exists even before the first file creates it.
                return FolderPage(sort=query.sort, missing=bool(location))
            raise
        try:
            if query.sort.removeprefix("-") == "name":
                return _page(folder, location, query)
            return sorted_page(folder, location, query)
        finally:
            os.close(folder)

    def create_folder(self, location: str) -> str:
        location = names.clean_location(location)
        root = self.dir
        try:
            fsops.Folders(root.fd(create=True), path_parts(location)).close()
        except fsops.Refused:
            raise FolderConflict(
                f"{location!r} is not a folder inside STORE_PATH."
            ) from None
        except OSError as exc:
            error = storage_error(exc, location)
            if error is None:
                raise
            raise error from exc
        return location

    def iter_files(self, location: str = "") -> Iterator[StoredFile]:
        location = names.clean_location(location)
        root = self.dir
        try:
            walk = fsops.walk(root.fd(), path_parts(location))
            for relative, _fd, entries in walk:
                # Hidden folders (the spool) are neither listed nor walked.
                entries[:] = [e for e in entries if not names.is_hidden_name(e.name)]
                for entry in entries:
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except FileNotFoundError:  # deleted while listing
                        continue
                    if stat.S_ISREG(st.st_mode):
                        yield _entry(names.join_key(relative, entry.name), st)
        except (OSError, fsops.Refused) as exc:
            if not _not_found(exc):
                raise

    def move_file(self, path: str, location: str, *, name: str | None = None) -> str:
        """Move ``path`` into the folder ``location`` with a hard link, no copy.

        The link takes the first free name (never over a file), then the old
        name is removed, if it still is the same file. Where the filesystem
        has no hard links, the file is copied and the original deleted.
        """
        candidates = targets(path, location, name)
        location = names.clean_location(location)
        *folder, own_name = path_parts(path)
        try:
            source = fsops.open_folder(self.dir.fd(), folder)
        except (OSError, fsops.Refused) as exc:
            if _not_found(exc):
                raise self._lookup_error(path, exc) from None
            raise
        try:
            before = fsops.stat_file(source, [own_name])
            try:
                target = fsops.Folders(self.dir.fd(create=True), path_parts(location))
            except fsops.Refused:  # the target is refused, not the source
                raise FolderConflict(
                    f"{location!r} is not a folder inside STORE_PATH (a symlink or "
                    f"a file has its name): {path!r} was not moved."
                ) from None
            moved = None
            try:
                moved = publish_first(
                    source,
                    own_name,
                    target.fd,
                    candidates,
                    fsync=self.fsync,
                    may_move=False,
                )
            except NoHardLinks:
                return super().move_file(path, location, name=name)
            finally:
                target.close(remove=moved is None)
            # Remove the old name only if it is still the file that was linked.
            with contextlib.suppress(FileNotFoundError):
                now = os.stat(own_name, dir_fd=source, follow_symlinks=False)
                if (now.st_dev, now.st_ino) == (before.st_dev, before.st_ino):
                    os.unlink(own_name, dir_fd=source)
                    if self.fsync:
                        os.fsync(source)
            if moved.rpartition("/")[2] != own_name:
                local_metadata.follow_name(
                    self.dir, path_parts(moved), fsync=self.fsync
                )
            return moved
        except (OSError, fsops.Refused) as exc:
            if _not_found(exc):
                raise self._lookup_error(path, exc) from None
            raise
        finally:
            os.close(source)

    def prune_folders(self, location: str) -> None:
        """Remove the empty folders under ``location``, and it if it is empty."""
        try:
            folders = [
                relative
                for relative, _fd, _entries in fsops.walk(
                    self.dir.fd(), path_parts(location)
                )
            ]
        except (OSError, fsops.Refused) as exc:
            if _not_found(exc):
                return
            raise
        for relative in sorted(folders, key=len, reverse=True):  # deepest first
            *parent, name = path_parts(relative)
            try:
                parent_fd = fsops.open_folder(self.dir.fd(), parent)
            except (OSError, fsops.Refused):
                continue
            try:
                os.rmdir(name, dir_fd=parent_fd)  # never follows a symlink
            except OSError:
                pass  # not empty (hidden files, a new file), or gone
            finally:
                os.close(parent_fd)

    # -- maintenance ------------------------------------------------------

    def leftovers(self, *, older_than: timedelta) -> Iterator[Leftover]:
        """Temporary files of interrupted saves anywhere in the store, and
        spooled uploads no request removed, last written ``older_than`` ago."""
        try:
            root_fd = self.dir.fd()
        except FileNotFoundError:
            return
        base = self.root
        cutoff = datetime.now(timezone.utc) - older_than
        for relative, _fd, entries in fsops.walk(root_fd):
            for entry in entries:
                kind = _leftover_kind(relative, entry.name)
                if kind is None:
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:  # finished meanwhile
                    continue
                modified = datetime.fromtimestamp(st.st_mtime, tz=timezone.utc)
                if not stat.S_ISREG(st.st_mode) or modified > cutoff:
                    continue
                yield Leftover(
                    path=os.path.join(base, *path_parts(relative), entry.name),
                    kind=kind,
                    size=st.st_size,
                    modified=modified,
                    action="remove",
                )
        yield from super().leftovers(older_than=older_than)

    def clean_leftover(self, leftover: Leftover) -> str:
        """Remove a leftover, unless it was written again since it was found."""
        if leftover.kind == variant_files.KIND:
            return super().clean_leftover(leftover)
        relative = os.path.relpath(leftover.path, self.root)
        parts = relative.split(os.sep)
        if (
            os.path.isabs(relative)
            or ".." in parts
            or _leftover_kind("/".join(parts[:-1]), parts[-1]) is None
        ):
            raise ValueError(f"{leftover.path} is not a leftover in STORE_PATH.")
        try:
            root_fd = self.dir.fd()
            st = fsops.stat_file(root_fd, parts)
            # ``modified`` holds microseconds; the file's time may hold nanoseconds.
            if st.st_mtime > leftover.modified.timestamp() + 1e-3:
                return "kept (written since)"
            fsops.unlink_file(root_fd, parts)
        except (OSError, fsops.Refused) as exc:
            if _not_found(exc):
                return "already gone"
            raise
        return "removed"


def _leftover_kind(folder: str, name: str) -> str | None:
    """What an entry left behind in ``folder`` is, or ``None`` for a stored file."""
    if folder == SPOOL_FOLDER:
        return "spooled upload"
    if name.startswith(TEMP_PREFIX) and name.endswith(".part"):
        return "temporary file"
    return None


def local_backend(app: Flask) -> LocalBackend:
    """``app``'s local backend; one made from its config if it has none."""
    state = app.extensions.get("store")
    if isinstance(state, StoreState) and isinstance(
        state.backend.storage, LocalBackend
    ):
        return state.backend.storage
    return LocalBackend(app)


def store_root(app: Flask) -> str:
    """The real, absolute path of the app's ``STORE_PATH``."""
    return local_backend(app).root


def store_dir(app: Flask) -> fsops.StoreDir:
    """The app's ``STORE_PATH`` as a :class:`~flask_store.fsops.StoreDir`."""
    return local_backend(app).dir
