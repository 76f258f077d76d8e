"""A file's metadata in a JSON column beside its path: ``metadata_column=``.

``FlaskStoreType(metadata_column="file_meta")`` names a JSON column of the
same model. When an upload is saved at flush, what the save measured is
written there; when the row is loaded, the provider read from the file
column has it as ``provider.metadata``, with no storage I/O. A path (or a
provider) assigned without fresh metadata clears it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from ..metadata import FileMetadata
from ..providers.base import Provider


def companion_value(kept: Any) -> dict[str, Any] | None:
    """What the metadata column holds for the file value ``kept``.

    The metadata a provider already has (from its save, or from a loaded
    row); ``None`` for anything else: reading it would be storage I/O.
    """
    if isinstance(kept, Provider):
        known = kept.__dict__.get("_metadata")
        if isinstance(known, FileMetadata):
            return known.to_dict()
    return None


def attach(target: Any, pairs: tuple[tuple[str, str], ...]) -> None:
    """Give the providers of a loaded row the metadata of their columns."""
    state = target.__dict__
    for key, column in pairs:
        provider = state.get(key)
        if isinstance(provider, Provider) and "_metadata" not in provider.__dict__:
            found = FileMetadata.from_dict(state.get(column))
            if found is not None:
                provider.__dict__["_metadata"] = found


def listen_loads(class_: type, pairs: tuple[tuple[str, str], ...]) -> None:
    """Attach the metadata columns ``pairs`` (file attribute, column) on load."""

    def on_load(target: Any, *_: Any) -> None:
        attach(target, pairs)

    event.listen(class_, "load", on_load, propagate=True)
    event.listen(class_, "refresh", on_load, propagate=True)
