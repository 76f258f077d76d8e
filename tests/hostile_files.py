"""Real and hostile files for the content tests: images made with Pillow,
polyglots, truncated and oversized images."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

#: A page a browser would run, whatever its name.
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script>"

#: A GIF header and trailer around a script: a valid GIF that is also HTML.
GIF_HTML = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01"
    b"\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    b"<html><script>alert(1)</script></html>"
)


def image(fmt: str = "PNG", width: int = 30, height: int = 20) -> bytes:
    """A real image of ``width`` x ``height`` pixels."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 60)).save(out, fmt)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def huge_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A small PNG whose header declares ``width`` x ``height`` pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 16)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", pixels)
        + _chunk(b"IEND", b"")
    )
