"""What a stored file's name says about its content, and how browsers treat it."""

from __future__ import annotations

import mimetypes

#: Types a browser shows without running anything: served inline.
INLINE_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/avif",
        "image/bmp",
        "image/x-ms-bmp",
        "image/vnd.microsoft.icon",
        "image/x-icon",
        "text/plain",
        "text/csv",
        "application/pdf",
        "application/json",
    }
)

#: The type of a compressed file, whatever it holds.
_COMPRESSED = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "br": "application/x-brotli",
}


def guess_type(filename: str) -> str:
    """The MIME type for a name, ``application/octet-stream`` when unknown.

    A compressed file (``page.html.gz``) is its compression's type, never the
    type of what is inside: browsers must not render it as the inner type.
    """
    mimetype, encoding = mimetypes.guess_type(filename, strict=False)
    if encoding:
        return _COMPRESSED.get(encoding, "application/octet-stream")
    return mimetype or "application/octet-stream"


def is_inline_safe(mimetype: str) -> bool:
    """Whether a file of this type may be shown inline on the app's origin."""
    return mimetype in INLINE_TYPES or mimetype.split("/")[0] in ("audio", "video")
