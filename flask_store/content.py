"""What a file's name and first bytes say it is, and how browsers treat it.

Types by content come from the file's first bytes (:data:`SNIFF_BYTES` of
them) through puremagic's table of file signatures
(:mod:`flask_store.signatures`), plus the markup browsers would render
(HTML, SVG, XML), which no signature table covers. Pure functions: no I/O.
"""

from __future__ import annotations

import mimetypes
import re

from .signatures import signatures

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


#: How many first bytes types (and image sizes) are read from.
SNIFF_BYTES = 64 * 1024

OCTET_STREAM = "application/octet-stream"

#: Other spellings of a type, as signature tables and ``mimetypes`` give them.
_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "image/x-icon": "image/vnd.microsoft.icon",
    "image/x-ms-bmp": "image/bmp",
    "application/x-zip-compressed": "application/zip",
    "application/x-gzip": "application/gzip",
    "application/x-pdf": "application/pdf",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/mp3": "audio/mpeg",
    "application/x-msdos-program": "application/vnd.microsoft.portable-executable",
    "application/x-msdownload": "application/vnd.microsoft.portable-executable",
    "application/x-dosexec": "application/vnd.microsoft.portable-executable",
}

#: Types whose files are ZIP archives (office documents, e-books, Java...).
_ZIP_BASED = frozenset(
    {
        "application/zip",
        "application/java-archive",
        "application/epub+zip",
        "application/vnd.android.package-archive",
    }
)

#: Other types (beside images, audio, video, fonts) whose files have a signature.
_SIGNED_APPLICATIONS = frozenset(
    {"application/pdf", "application/gzip", "application/x-7z-compressed"}
    | {"application/x-bzip2", "application/x-xz", "application/wasm"}
)

#: Markup a browser would render, recognised at the start of a file (after
#: white space, a byte order mark and comments), as the WHATWG sniffing
#: rules do.
_MARKUP = re.compile(
    rb"<(?P<tag>\?xml|(?:!doctype\s+html|html|head|body|script|iframe|svg|title"
    rb"|style|div|table|a|p|br|h1|font|b)(?=[\s>/]))",
    re.IGNORECASE,
)


def _skip_comments(head: bytes) -> int:
    """Where the first thing that is no white space or comment starts."""
    at = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    while True:
        while at < len(head) and head[at : at + 1].isspace():
            at += 1
        if not head.startswith(b"<!--", at):
            return at
        end = head.find(b"-->", at + 4)
        if end < 0:
            return len(head)
        at = end + 3


def normal_type(mimetype: str) -> str:
    """``mimetype`` lowercased, without parameters, in its usual spelling."""
    bare = mimetype.split(";")[0].strip().lower()
    return _ALIASES.get(bare, bare)


def _markup_type(head: bytes) -> str | None:
    head = head[:4096]
    match = _MARKUP.match(head, _skip_comments(head))
    if match is None:
        return None
    tag = match["tag"].lower()
    if tag == b"svg" or (tag == b"?xml" and b"<svg" in head[:4096].lower()):
        return "image/svg+xml"
    if tag == b"?xml":
        return "application/xml"
    return "text/html"


def _is_text(mimetype: str) -> bool:
    """Whether a signature table's match is only a guess at text (no signature)."""
    return (
        mimetype.startswith("text/")
        or mimetype in ("application/xml", "application/json", OCTET_STREAM)
        or mimetype.endswith(("+xml", "+json"))
    )


def sniff_type(head: bytes, filename: str = "") -> str | None:
    """The MIME type ``head`` (a file's first bytes) shows, or ``None``.

    A binary signature wins over markup (a GIF whose bytes also hold HTML is
    a GIF). Signatures of two bytes (``BM``, ``MZ``) are common at the start
    of text, so they count only when ``filename``'s extension agrees. Plain
    text has no signature: ``None``.
    """
    if not head:
        return None
    extension = "." + filename.rpartition(".")[2].lower() if "." in filename else ""
    signed = [
        found
        for found in signatures(head)
        if found.mime_type
        and not _is_text(normal_type(found.mime_type))
        and not found.byte_match.lstrip().startswith(b"<")  # markup: see below
        and (len(found.byte_match) >= 3 or found.extension.lower() == extension)
    ]
    if signed:
        best = max(signed, key=lambda found: found.strength(extension))
        return normal_type(best.mime_type)
    return _markup_type(head)


def has_signature(mimetype: str) -> bool:
    """Whether files of this type start with bytes that tell them apart.

    Images (but SVG), audio, video, fonts, PDF and archives do; text,
    markup and JSON do not, so their type comes from their name.
    """
    mimetype = normal_type(mimetype)
    family = mimetype.partition("/")[0]
    if family in ("image", "audio", "video", "font"):
        return mimetype != "image/svg+xml"
    return mimetype in _ZIP_BASED or mimetype in _SIGNED_APPLICATIONS


def _kind(mimetype: str) -> str:
    """What two types must share not to contradict each other."""
    mimetype = normal_type(mimetype)
    if mimetype in _ZIP_BASED or mimetype.startswith(
        ("application/vnd.openxmlformats-", "application/vnd.oasis.opendocument.")
    ):
        return "zip"
    family = mimetype.partition("/")[0]
    if family == "image" and mimetype != "image/svg+xml":
        return "image"
    if family in ("audio", "video"):
        return "media"
    return mimetype


def contradicts(claimed: str, detected: str | None) -> bool:
    """Whether content of type ``detected`` contradicts a name of type ``claimed``.

    A name with no known type claims nothing. A type with a signature needs
    content that has it; an image of another image format, or a sound of a
    video container, is close enough; anything else must be the same type.
    """
    if normal_type(claimed) == OCTET_STREAM:
        return False
    if detected is None:
        return has_signature(claimed)
    return _kind(claimed) != _kind(detected)


def content_type(head: bytes, filename: str) -> str:
    """The type of a file by its content, by its name when content cannot tell.

    The name is trusted only for types without a signature (text, JSON,
    CSV): a ``.png`` that does not start like a PNG is
    ``application/octet-stream`` here.
    """
    detected = sniff_type(head, filename)
    if detected is not None:
        return detected
    claimed = normal_type(guess_type(filename))
    return OCTET_STREAM if has_signature(claimed) else claimed


def renamed_type(known: str, filename: str) -> str:
    """The type of a file of type ``known`` once it is named ``filename``.

    A type its bytes show (a PNG, a PDF) stays whatever the new name says;
    one that has no signature (text, markup, JSON) came from the name, as
    :func:`content_type` decides, and follows the new one.
    """
    if has_signature(known):
        return normal_type(known)
    return normal_type(guess_type(filename))
