"""The indexed signature lookup finds what puremagic's own lookup finds."""

from __future__ import annotations

import os
import zipfile
from io import BytesIO

import puremagic
import pytest

from flask_store.content import sniff_type
from flask_store.signatures import signatures

from .hostile_files import GIF_HTML, HTML, huge_png, image


def puremagic_finds(head: bytes) -> set[tuple[str, str]]:
    """What ``puremagic.magic_string`` matches in ``head`` (its slow lookup)."""
    try:
        found = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):  # no match, or no bytes
        return set()
    return {(f.extension, f.mime_type) for f in found}


def we_find(head: bytes) -> set[tuple[str, str]]:
    return {(s.extension, s.mime_type) for s in signatures(head)}


def planted(row: puremagic.PureMagic, filler: bytes) -> bytes:
    """A file with ``row``'s signature at its offset, ``filler`` around it."""
    before = (filler * (row.offset // len(filler) + 1))[: row.offset]
    return before + row.byte_match + filler * 64


@pytest.mark.parametrize("filler", [b"\x00", b"ab"], ids=["zeros", "text"])
def test_every_header_signature_is_found_as_puremagic_finds_it(filler: bytes) -> None:
    rows = [r for r in puremagic.magic_header_array if r.offset >= 0 and r.byte_match]
    assert len(rows) > 1000
    differ = []
    for row in rows:
        head = planted(row, filler)
        if we_find(head) != puremagic_finds(head):
            differ.append(row)
    assert differ == []


def test_multi_part_signatures_are_found_as_puremagic_finds_them() -> None:
    checked = 0
    for first, options in puremagic.multi_part_dict.items():
        starts = [r for r in puremagic.magic_header_array if r.byte_match == first]
        for start in starts:
            for option in options:
                if option.offset < 0:
                    head = planted(start, b"\x00") + option.byte_match.ljust(
                        -option.offset, b"\x00"
                    )
                else:
                    head = bytearray(planted(start, b"\x00").ljust(4096, b"\x00"))
                    end = option.offset + len(option.byte_match)
                    head[option.offset : end] = option.byte_match
                    head = bytes(head)
                assert we_find(head) == puremagic_finds(head), option
                checked += 1
    assert checked > 40


def _docx() -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        image("PNG"),
        image("JPEG"),
        image("GIF"),
        image("WEBP"),
        image("BMP"),
        huge_png(),
        GIF_HTML,
        HTML,
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
        _docx(),
        b"plain words, no signature at all\n" * 40,
        b"",
        os.urandom(64 * 1024),
    ],
    ids=[
        *("png", "jpeg", "gif", "webp", "bmp", "huge-png", "gif-html", "html"),
        *("pdf", "docx", "text", "empty", "random"),
    ],
)
def test_real_files_match_as_with_puremagic(data: bytes) -> None:
    assert we_find(data) == puremagic_finds(data)


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (image("PNG"), "photo.png", "image/png"),
        (image("JPEG"), "photo.txt", "image/jpeg"),
        (GIF_HTML, "page.html", "image/gif"),
        (HTML, "page.png", "text/html"),
        (b"BM hello, this starts like a bitmap", "notes.txt", None),
        (b"MZ is how this note starts", "notes.txt", None),
    ],
    ids=["png", "jpeg-named-txt", "gif-html", "html-named-png", "bm-text", "mz-text"],
)
def test_the_type_a_file_shows(data: bytes, name: str, expected: str | None) -> None:
    assert sniff_type(data, name) == expected
