"""Sizes for people: one formatter, decimal units, labelled correctly."""

from __future__ import annotations

import pytest

from flask_store.humanize import human_size, whole_number


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (2, "2 bytes"),
        (590, "590 bytes"),
        (999, "999 bytes"),
        (1000, "1 kB"),
        (1024, "1 kB"),
        (1600, "1.6 kB"),
        (1649, "1.6 kB"),
        (2048, "2 kB"),
        (999_949, "999.9 kB"),
        (999_999, "1 MB"),  # rounds up into the next unit, never "1000 kB"
        (1_000_000, "1 MB"),
        (16 * 1024 * 1024, "16.8 MB"),
        (300_000_000, "300 MB"),
        (5_000_000_000, "5 GB"),
        (1_500_000_000_000, "1.5 TB"),
        (3 * 10**18, "3000 PB"),  # the largest unit holds whatever is left
        (1.0, "1 byte"),
        (1536.0, "1.5 kB"),
    ],
)
def test_human_size(size: int | float, shown: str) -> None:
    assert human_size(size) == shown


def test_the_forms_the_rules_and_the_cli_use_the_one_formatter() -> None:
    from flask_store import forms, rules
    from flask_store.cli import output

    assert forms.human_size is human_size
    assert rules.human_size is human_size
    assert output.human_size is human_size


def test_messages_use_decimal_units() -> None:
    from flask_store.rules import refusal

    config = {"STORE_MAX_SIZE": 300_000_000, "STORE_ALLOWED_EXTENSIONS": None}
    message = refusal("big.iso", 300_000_001, config)
    assert message == "big.iso is larger than 300 MB, the largest file allowed."


@pytest.mark.parametrize(
    ("text", "digits", "number"),
    [
        ("0", 9, 0),
        ("42", 9, 42),
        ("007", 9, 7),
        ("999999999", 9, 999_999_999),
        ("1000000000", 9, None),  # ten digits
        ("1000000000", 19, 1_000_000_000),
        ("", 9, None),
        (None, 9, None),
        ("-1", 9, None),
        ("+1", 9, None),
        (" 1", 9, None),
        ("1.0", 9, None),
        ("\u00b2", 9, None),  # a digit to str.isdigit, not to int
        ("\u0661", 9, None),  # ARABIC-INDIC DIGIT ONE, which int reads
        ("9" * 5000, 9, None),
    ],
)
def test_whole_number(text: str | None, digits: int, number: int | None) -> None:
    assert whole_number(text, digits=digits) == number
