"""Numbers for people: sizes as the forms, the admin and the CLI show them, and
whole numbers as clients and other tools write them.

Pure functions: no Flask, no WTForms, no I/O.
"""

from __future__ import annotations

#: Decimal (SI) units, as file managers and Jinja's ``filesizeformat`` use them.
UNITS = ("kB", "MB", "GB", "TB", "PB")


def human_size(size: int | float) -> str:
    """A byte count for people, in decimal units: ``590 bytes``, ``1 byte``,
    ``1.6 kB``, ``300 MB`` (1 kB is 1000 bytes).

    One decimal at most, dropped when it is zero; a value that rounds up to
    1000 of a unit is written in the next one (``999,999`` is ``1 MB``).
    """
    if size < 1000:
        count = int(size)
        return f"{count} byte{'' if count == 1 else 's'}"
    value = float(size)
    for unit in UNITS:
        value /= 1000
        if round(value, 1) < 1000 or unit == UNITS[-1]:
            break
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def whole_number(text: str | None, *, digits: int = 9) -> int | None:
    """``text`` as a whole number written in ASCII digits, at most ``digits`` of
    them; ``None`` for anything else.

    ``str.isdigit`` is also true for other scripts' digits and for superscripts
    (``"²"``), which ``int`` refuses, and ``int`` refuses more than 4,300
    digits: a number from a client or another tool is read here, never with a
    bare ``int()``.
    """
    if text is None or not (text.isascii() and text.isdigit()) or len(text) > digits:
        return None
    return int(text)
