"""What a provider is made from: an upload, a file object, or a stored path."""

from __future__ import annotations

from typing import IO

from werkzeug.datastructures import FileStorage

from .. import spelling
from ..deprecation import warn_deprecated

#: A provider's file: an upload or file object to save, or none (stored).
Source = FileStorage | IO[bytes] | None


def read_fp(
    fp: FileStorage | IO[bytes] | str | None, filename: str | None, cls_name: str
) -> tuple[str, str, Source]:
    """The folder (inside the location), name and file a provider stands for.

    :raises TypeError: for an argument that is none of the kinds a provider
        takes, or a ``filename=`` that does not go with it.
    :raises ValueError: for an upload with no file name.
    """
    if fp is None:
        if filename is not None:
            raise TypeError("filename= goes with a file object to save.")
        warn_deprecated(
            f"{cls_name}() with no file is the 0.0.2 API and is "
            "deprecated: pass the upload to the provider and save it, "
            "provider = store.Provider(request.files['afile'], location=...); "
            "provider.save(); then read provider.absolute_url."
        )
        return "", "", None
    if isinstance(fp, str):
        if filename is not None:
            raise TypeError("filename= is for file objects, not stored paths.")
        folder, name = spelling.split_stored_path(fp)
        return folder, name, None
    if isinstance(fp, FileStorage):
        uploaded = filename if filename is not None else fp.filename
        if not uploaded:
            raise ValueError(
                "The upload has no file name (was a file chosen?); "
                "check for an empty upload before saving it."
            )
        return "", uploaded, fp
    if callable(getattr(fp, "read", None)):
        if not isinstance(filename, str):
            raise TypeError(
                "Give the name to store a file object under: "
                "Provider(fileobj, filename='report.pdf')."
            )
        return "", filename, fp
    raise TypeError(
        "A provider takes a FileStorage, a binary file object with "
        f"filename=, or a stored path (str), not {type(fp).__name__}."
    )
