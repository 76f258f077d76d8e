"""What the admin says to people: every user-facing message, in one place.

Views and the admin's logic raise and flash these; templates show them. The
CSRF message is shared with the upload macro (:mod:`flask_store.rules`).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..humanize import human_size
from ..rules import CSRF_MESSAGE

__all__ = [
    "ACCESS_DENIED",
    "CONFIRM_REQUIRED",
    "CSRF_MESSAGE",
    "HIDDEN_VALUE",
    "KEYLESS_APP",
    "NOT_TEXT_VALUE",
    "already_deleted",
    "cannot_list",
    "confirm_message",
    "created_folder",
    "deleted",
    "invalid_value",
    "no_folder",
    "no_model",
    "not_a_stored_file",
    "not_canonical",
    "not_canonical_value",
    "not_stored",
    "request_too_large",
    "send_used_by",
    "sorted_by_name",
    "uploaded",
    "wrong_page",
    "wrong_page_size",
]

#: Why a request is refused by ``STORE_ADMIN_ACCESS`` (the 403 page).
ACCESS_DENIED = (
    "Access to the file admin is refused. Set STORE_ADMIN_ACCESS in the "
    "app's config to a function that returns True for the users who may "
    "manage files."
)

#: The admin registered on an app without ``SECRET_KEY``.
KEYLESS_APP = (
    "The Flask-Store admin needs the app's SECRET_KEY (its forms' CSRF "
    "tokens and its messages are kept in the signed session): set "
    "app.config['SECRET_KEY'] to a long random value before registering "
    "the blueprint."
)

#: A file column holding something other than text (the models page).
NOT_TEXT_VALUE = "not a text value"

#: A file column holding a hidden path (the models page).
HIDDEN_VALUE = "invalid: a hidden path is never served"

#: A JSON delete request that did not confirm.
CONFIRM_REQUIRED = "Send confirmed=yes to delete the file."


def request_too_large(limit: int) -> str:
    """A request over ``MAX_CONTENT_LENGTH`` (413)."""
    return (
        f"The upload is too large: this site accepts at most {human_size(limit)} "
        "per request (MAX_CONTENT_LENGTH). Nothing was stored."
    )


def uploaded(filenames: Sequence[str]) -> str:
    return f"Uploaded {', '.join(filenames)}."


def deleted(filename: str) -> str:
    return f"Deleted {filename}."


def created_folder(name: str) -> str:
    return f"Created folder {name}."


def folder_exists(name: str) -> str:
    return f"Folder {name} already exists: nothing was changed."


def confirm_message(name: str, labels: Sequence[str]) -> str:
    """The question asked before deleting ``name``, naming the rows using it."""
    message = f"Delete {name}? This cannot be undone."
    if labels:
        message += (
            f" It is used by {len(labels)} row{'' if len(labels) == 1 else 's'}: "
            + ", ".join(labels)
            + "; they will point at a missing file."
        )
    return message


def send_used_by(name: str, labels: Sequence[str]) -> str:
    """A JSON delete that did not name every row using the file (409)."""
    return (
        confirm_message(name, labels)
        + " Send used_by, a JSON list of these rows, to delete it."
    )


def not_canonical(path: str) -> str:
    """A delete of a path that is not in its canonical spelling."""
    return (
        f"{path!r} is not a canonical stored path (it needs attention): "
        "Flask-Store would delete it under another spelling, so it does not."
    )


def not_a_stored_file(path: str) -> str:
    return f"{path} is not a stored file."


def not_stored(path: str, *, deleting: bool = False) -> str:
    if deleting:
        return f"{path} is not stored (was it already deleted?)."
    return f"{path} is not stored."


def already_deleted(path: str) -> str:
    return f"{path} was already deleted."


def cannot_list(provider_name: str) -> str:
    """A provider without ``list_folder`` (501)."""
    return (
        f"{provider_name} cannot list folders: the admin needs a provider "
        "that defines list_folder."
    )


def wrong_page_size(raw: str, maximum: int) -> str:
    return f"per_page must be a whole number from 1 to {maximum}, not {raw!r}."


def wrong_page(raw: str) -> str:
    return f"page must be a whole number from 1, not {raw!r}."


def no_folder(folder: str) -> str:
    """A ``?folder=`` that does not exist (404)."""
    return f"There is no folder {folder} in the store."


def sorted_by_name(sort: str, limit: int | None) -> str:
    """A folder its backend could not sort by ``sort`` (too large for S3)."""
    return (
        f"Listed by name, not by {sort}: this storage lists folders by name "
        f"only and reads at most {limit} entries (STORE_ADMIN_SORT_LIMIT) to "
        "sort them otherwise; this folder has more."
    )


def no_model(name: str) -> str:
    return f"No model named {name} has file columns."


def invalid_value(error: Exception) -> str:
    """A file column holding something that is not a stored path."""
    return f"invalid: {error}"


def not_canonical_value(canonical: str) -> str:
    """A file column holding a path in another spelling (the models page)."""
    return f"needs attention: not the canonical spelling {canonical!r}"


# -- renaming, moving, deleting folders ------------------------------------

NAME_REQUIRED = "Give the new name."
NAME_WITH_SLASH = "A name may not contain slashes: to move, choose the folder."
HIDDEN_NAME = "A name may not start with a dot: such names are the store's own."
ROOT_IS_NO_FOLDER = "Give a folder: the store's root cannot be moved or deleted."


def unsafe_name(name: str) -> str:
    return f"{name!r} cannot be made into a safe name; choose another."


def same_place(path: str) -> str:
    return f"{path} is already there under that name: nothing to do."


def into_itself(folder: str) -> str:
    return f"{folder} cannot be moved into itself."


def taken(path: str) -> str:
    """A rename or move whose target exists: nothing is overwritten (409)."""
    return (
        f"{path} already exists. Nothing was changed: choose another name or "
        "folder (Flask-Store never overwrites a file)."
    )


def used_files(used: dict[str, list[str]], doing: str) -> str:
    """Files that rows use, which the admin does not move or rename (409)."""
    listed = "; ".join(
        f"{path} (used by {', '.join(rows)})" for path, rows in used.items()
    )
    return (
        f"Nothing was {doing}: rows use {listed}. They would point at a missing "
        "file; change those rows first, or use `flask store mv --force`."
    )


def moved(source: str, target: str) -> str:
    return f"Moved {source} to {target}."


def deleted_folder(folder: str, count: int) -> str:
    files = f"{count} file{'' if count == 1 else 's'}"
    return (
        f"Deleted folder {folder} and the {files} in it."
        if count
        else (f"Deleted folder {folder}.")
    )


def deleted_files(count: int) -> str:
    return f"Deleted {count} file{'' if count == 1 else 's'}."


def moved_files(count: int, folder: str) -> str:
    return f"Moved {count} file{'' if count == 1 else 's'} to {folder or 'Files'}."


def nothing_selected() -> str:
    return "Select at least one file first."


def confirm_changed() -> str:
    """A confirmation that no longer covers what would be deleted."""
    return (
        "What would be deleted changed since you confirmed (new files or rows "
        "using them): check again."
    )


def unknown_action(action: str) -> str:
    return f"Choose delete or move for the selected files, not {action!r}."


def confirm_deletion(what: str, labels: Sequence[str]) -> str:
    """A JSON deletion of a folder or a selection not confirmed (400)."""
    message = f"Delete {what}?"
    if labels:
        message += f" Rows use some of them: {', '.join(labels)}."
    return message + " Send confirmed=yes, count and used_by to delete."
