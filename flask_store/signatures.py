"""File signatures: puremagic's tables, looked up through an index.

`puremagic <https://pypi.org/project/puremagic/>`_ publishes its tables of
file signatures (``magic_header_array``, ``magic_footer_array``,
``multi_part_dict``); its own lookup compares every one of the ~1,400 header
signatures with each file, about a millisecond per save. Here the header
signatures are indexed by their offset and first byte, built once, so a
lookup compares only the few that could match: every save sniffs its type.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import puremagic


class Signature(NamedTuple):
    """One signature found in a file: the bytes it matched, what they mean."""

    byte_match: bytes
    extension: str
    mime_type: str

    def strength(self, extension: str) -> tuple[bool, int]:
        """How much to trust it: a match of the name's extension first, then
        the longer match (more than nine bytes tell no more than nine)."""
        return self.extension.lower() == extension, min(len(self.byte_match), 9)


class _Index(NamedTuple):
    #: ``(offset, {first byte: [(table position, row), ...]})``, by offset.
    headers: Sequence[tuple[int, dict[int, list[tuple[int, puremagic.PureMagic]]]]]
    footers: Sequence[puremagic.PureMagic]
    #: How many bytes the footer signatures reach back from a file's end.
    footer_length: int


@functools.cache
def _index() -> _Index:
    by_offset: dict[int, dict[int, list[tuple[int, puremagic.PureMagic]]]] = {}
    for position, row in enumerate(puremagic.magic_header_array):
        if row.byte_match and row.offset >= 0:
            firsts = by_offset.setdefault(row.offset, {})
            firsts.setdefault(row.byte_match[0], []).append((position, row))
    footers = list(puremagic.magic_footer_array)
    reach = [len(r.byte_match) - r.offset for r in footers if r.offset < 0]
    for options in puremagic.multi_part_dict.values():
        reach += [len(o.byte_match) - o.offset for o in options if o.offset < 0]
    return _Index(sorted(by_offset.items()), footers, max(reach, default=0))


def _at(data: bytes, offset: int, expected: bytes) -> bool:
    """Whether ``expected`` is in ``data`` at ``offset`` (negative: from the end)."""
    if offset >= 0:
        return data[offset : offset + len(expected)] == expected
    end = offset + len(expected)
    return data[offset:end] == expected if end else data[offset:] == expected


def _header_rows(head: bytes) -> Iterator[puremagic.PureMagic]:
    found = []
    length = len(head)
    for offset, firsts in _index().headers:
        if offset >= length:
            break
        for position, row in firsts.get(head[offset], ()):
            if _at(head, offset, row.byte_match):
                found.append((position, row))
    return (row for _, row in sorted(found, key=lambda pair: pair[0]))


def signatures(head: bytes) -> list[Signature]:
    """Every signature of puremagic's tables found in ``head``, a file's first
    bytes; the footer signatures are looked for at the end of ``head``, which
    is the file's end when the whole file fits in it."""
    index = _index()
    foot = head[-index.footer_length :] if index.footer_length else b""
    rows = list(_header_rows(head))
    rows += [row for row in index.footers if _at(foot, row.offset, row.byte_match)]
    found = [Signature(r.byte_match, r.extension, r.mime_type) for r in rows]
    # Signatures in several parts: the first part found, the others checked here.
    for row in rows:
        for part in puremagic.multi_part_dict.get(row.byte_match, ()):
            data = foot if part.offset < 0 else head
            if part.offset >= 0 and part.offset + len(part.byte_match) > len(head):
                continue
            if _at(data, part.offset, part.byte_match):
                matched = (
                    row.byte_match + part.byte_match
                    if part.offset < 0
                    else head[row.offset : part.offset + len(part.byte_match)]
                )
                found.append(Signature(matched, part.extension, part.mime_type))
    return found
