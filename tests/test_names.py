from __future__ import annotations

import pytest

from flask_store import names
from flask_store.spelling import (
    canonical_path,
    is_canonical,
    spellings,
    split_stored_path,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("My Report (final).PDF", "My_Report_(final).pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system.ini", "system.ini"),
        ("/absolute/path/photo.jpg", "photo.jpg"),
        ("C:\\Users\\me\\photo.jpg", "photo.jpg"),
        ("nul\x00byte.txt", "nulbyte.txt"),
        ("tab\tnew\nline.txt", "tab_new_line.txt"),
        ('what?<>:"|*.txt', "what.txt"),
        ("#hash&amp;%20.txt", "hashamp20.txt"),
        ("Ünïcödé façade.txt", "Ünïcödé_façade.txt"),
        ("日本語のファイル.png", "日本語のファイル.png"),
        ("trailing dots...", "trailing_dots"),
        ("CON.txt", "_CON.txt"),
        ("lpt1", "_lpt1"),
        ("com¹.tar.gz", "_com¹.tar.gz"),
        ("console.txt", "console.txt"),
    ],
)
def test_secure_name(given: str, expected: str) -> None:
    assert names.secure_name(given) == expected


def test_secure_name_normalises_to_nfc() -> None:
    decomposed = "cafe\u0301.txt"
    assert names.secure_name(decomposed) == "caf\u00e9.txt"


@pytest.mark.parametrize(
    "given", ["", "..", "../..", "\x00\x01", "???", "/", ". .", "."]
)
def test_secure_name_generates_a_name_when_nothing_is_left(given: str) -> None:
    name = names.secure_name(given)
    assert name.startswith("file-")
    assert names.secure_name(given) != name  # each one is fresh


@pytest.mark.parametrize(
    ("given", "ext"), [("???.jpg", ".jpg"), (".htaccess", ".htaccess")]
)
def test_secure_name_keeps_extension_of_empty_stem(given: str, ext: str) -> None:
    name = names.secure_name(given)
    assert name.startswith("file-") and name.endswith(ext)


def test_secure_name_caps_length_in_bytes_keeping_the_extension() -> None:
    name = names.secure_name("é" * 300 + ".jpeg")
    assert len(name.encode()) <= 255
    assert name.endswith(".jpeg")
    assert name.startswith("é")


def test_with_suffix_keeps_extension_and_length() -> None:
    assert names.with_suffix("report.pdf", "abc123") == "report_abc123.pdf"
    long = "a" * 251 + ".pdf"
    assert len(names.with_suffix(long).encode()) <= 255
    assert names.with_suffix(long).endswith(".pdf")


def test_candidate_names_are_distinct() -> None:
    candidates = names.candidate_names("a.txt")
    assert candidates[0] == "a.txt"
    assert len(set(candidates)) == len(candidates)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, ""),
        ("", ""),
        ("a", "a"),
        ("a/b/", "a/b"),
        ("./a//b", "a/b"),
        ("x.y", "x.y"),
    ],
)
def test_clean_location(given: str | None, expected: str) -> None:
    assert names.clean_location(given) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "/etc",
        "..",
        "a/../b",
        "a/..",
        "a\\b",
        "C:stuff",
        "c:/x",
        "a\x00b",
        "a\nb",
        "\x7f",
    ],
)
def test_clean_location_refuses_escapes(bad: str) -> None:
    with pytest.raises(ValueError):
        names.clean_location(bad)


def test_clean_location_refuses_non_strings() -> None:
    with pytest.raises(TypeError):
        names.clean_location(b"bytes")  # type: ignore[arg-type]


def test_split_stored_path() -> None:
    assert split_stored_path("a/b/c.txt") == ("a/b", "c.txt")
    assert split_stored_path("c.txt") == ("", "c.txt")
    for bad in ["", "/", "a/..", "../c.txt", "/etc/passwd", "a\\b.txt", "a\x00.txt"]:
        with pytest.raises(ValueError):
            split_stored_path(bad)


def test_url_path_percent_encodes() -> None:
    assert (
        names.url_path("/uploads/", "a b/ü#?.txt") == "/uploads/a%20b/%C3%BC%23%3F.txt"
    )
    assert names.url_path("", "x.txt") == "/x.txt"


def test_join_url() -> None:
    assert names.join_url("http://cdn.example.com/", "/a.txt") == (
        "http://cdn.example.com/a.txt"
    )
    assert names.join_url("https://h/static", "/a.txt") == "https://h/static/a.txt"


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("docs/a.txt", "docs/a.txt"),
        ("docs//a.txt", "docs/a.txt"),
        ("./docs/./a.txt", "docs/a.txt"),
        ("/docs/a.txt", "docs/a.txt"),
        ("docs/a.txt/", "docs/a.txt"),
        ("docs/a.txt/.", "docs/a.txt"),
        ("docs/cafe\u0301.txt", "docs/caf\u00e9.txt"),
        ("re\u0301sume\u0301s/cv.pdf", "r\u00e9sum\u00e9s/cv.pdf"),
        ("Docs/A.txt", "Docs/A.txt"),  # case is kept: another file
    ],
)
def test_canonical_path(spelling: str, canonical: str) -> None:
    assert canonical_path(spelling) == canonical
    assert is_canonical(canonical)
    assert is_canonical(spelling) is (spelling == canonical)
    assert canonical in spellings(canonical)


@pytest.mark.parametrize(
    "bad", ["../x.txt", "docs/../x.txt", "a\x00.txt", "a\\b.txt", "", "/", "./."]
)
def test_canonical_path_refuses_what_is_no_stored_path(bad: str) -> None:
    with pytest.raises(ValueError):
        canonical_path(bad)
    assert not is_canonical(bad)


def test_spellings_include_the_decomposed_form() -> None:
    assert spellings("caf\u00e9.txt") == {"caf\u00e9.txt", "cafe\u0301.txt"}
    assert spellings("plain.txt") == {"plain.txt"}


def test_hidden_parts() -> None:
    assert names.is_hidden(".cache/a") and names.is_hidden("a/.b")
    assert not names.is_hidden("a.b/c.d")
    with pytest.raises(ValueError, match="starting with a dot"):
        names.clean_location("uploads/.tmp")


def test_candidates_are_made_only_when_asked_for() -> None:
    candidates = names.Candidates("docs", "a.txt")
    assert len(candidates) == 16
    assert candidates[0] == "docs/a.txt"
    assert len(candidates._made) == 1  # no suffix made for a free first name
    every = list(candidates)
    assert every[0] == "docs/a.txt" and len(set(every)) == 16
    assert all(c.startswith("docs/a_") and c.endswith(".txt") for c in every[1:])
    assert list(candidates) == every  # each stays what it was first made as
    assert candidates[-1] == every[-1] and candidates[1:3] == every[1:3]
    with pytest.raises(IndexError):
        candidates[16]
