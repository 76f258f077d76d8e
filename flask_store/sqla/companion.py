"""A file's metadata in a JSON column beside its path: ``metadata_column=``.

``FlaskStoreType(metadata_column="file_meta")`` names a JSON column of the
same model. When an upload is saved at flush, what the save measured is
written there; when the row is loaded, the provider read from the file
column has it as ``provider.metadata``, with no storage I/O. A path (or a
provider) assigned without fresh metadata clears it.

For an image the column also keeps, under ``"version"``, the version of the
stored content that its variants belong to
(:func:`flask_store.variants.stored_version`, one stat at the flush), so a
loaded row's ``variant(...).url`` needs no stat either: a page of thumbnails
costs no request per row, on S3 no HEAD. The serving route still checks the
version against the file: if another tool rewrites the file, the row's
variant URLs answer 404 until the row is saved again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import event

from ..exceptions import StorageError
from ..metadata import FileMetadata
from ..providers.base import Provider
from ..variants import KNOWN_VERSION, stored_version

#: The key of the metadata column that keeps an image's version.
VERSION_KEY = "version"


def companion_value(kept: Any) -> dict[str, Any] | None:
    """What the metadata column holds for the file value ``kept``.

    The metadata a provider already has (from its save, or from a loaded
    row), and for an image its version (one stat); ``None`` for anything
    else: reading it would be storage I/O.
    """
    if isinstance(kept, Provider):
        known = kept.__dict__.get("_metadata")
        if isinstance(known, FileMetadata):
            value = known.to_dict()
            if known.content_type.startswith("image/"):
                version = _version(kept)
                if version is not None:
                    value[VERSION_KEY] = version
            return value
    return None


def _version(provider: Provider) -> str | None:
    """The image's version to keep, or ``None``: the file is saved, and a
    storage that fails to answer now only costs the row's thumbnails a stat
    later, never the flush."""
    try:
        return stored_version(provider)
    except (StorageError, OSError):
        return None


def attach(target: Any, pairs: tuple[tuple[str, str], ...]) -> None:
    """Give the providers of a loaded row the metadata of their columns."""
    state = target.__dict__
    for key, column in pairs:
        provider = state.get(key)
        if isinstance(provider, Provider) and "_metadata" not in provider.__dict__:
            kept = state.get(column)
            version = None
            if isinstance(kept, Mapping) and VERSION_KEY in kept:
                version = kept[VERSION_KEY]
                kept = {k: v for k, v in kept.items() if k != VERSION_KEY}
            found = FileMetadata.from_dict(kept)
            if found is not None:
                provider.__dict__["_metadata"] = found
                if isinstance(version, str):
                    provider.__dict__[KNOWN_VERSION] = version


def listen_loads(class_: type, pairs: tuple[tuple[str, str], ...]) -> None:
    """Attach the metadata columns ``pairs`` (file attribute, column) on load."""

    def on_load(target: Any, *_: Any) -> None:
        attach(target, pairs)

    event.listen(class_, "load", on_load, propagate=True)
    event.listen(class_, "refresh", on_load, propagate=True)
