"""Behaviour every provider shares; each test runs once per provider."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from werkzeug.datastructures import FileStorage

from flask_store import store_provider
from flask_store.exceptions import StoredFileNotFound
from flask_store.signals import file_deleted, file_saved

from .conftest import upload


def test_save_and_read_back(storage: Flask) -> None:
    provider = store_provider()(upload(b"hello world", "hello.txt")).save()
    assert provider.filename == "hello.txt"
    assert provider.relative_path == "hello.txt"
    assert provider.read() == b"hello world"
    assert provider.size == 11
    assert provider.content_type == "text/plain"
    assert provider.exists()
    assert provider.exists("hello.txt")


def test_save_returns_the_provider(storage: Flask) -> None:
    provider = store_provider()(upload())
    assert provider.save() is provider


def test_save_into_a_location(storage: Flask) -> None:
    saved = store_provider()(upload(b"x", "a.txt"), location="docs/2026").save()
    assert saved.relative_path == "docs/2026/a.txt"
    assert saved.relative_url.endswith("/docs/2026/a.txt")
    again = store_provider()("docs/2026/a.txt")
    assert again.location == "docs/2026" and again.filename == "a.txt"
    assert again.read() == b"x"


def test_plain_binary_stream_with_filename(storage: Flask) -> None:
    saved = store_provider()(io.BytesIO(b"abc"), filename="notes.md").save()
    assert saved.filename == "notes.md"
    assert saved.read() == b"abc"


def test_never_overwrites_an_existing_name(storage: Flask) -> None:
    first = store_provider()(upload(b"first", "same.bin")).save()
    second = store_provider()(upload(b"second", "same.bin")).save()
    assert first.filename == "same.bin"
    assert second.filename != "same.bin"
    assert second.filename.startswith("same_") and second.filename.endswith(".bin")
    assert store_provider()("same.bin").read() == b"first"
    assert second.read() == b"second"


def test_names_are_made_safe_on_save(storage: Flask) -> None:
    saved = store_provider()(upload(b"x", "../../etc/pass wd.txt")).save()
    assert saved.relative_path == "pass_wd.txt"


def test_unicode_names_are_kept_and_urls_encoded(storage: Flask) -> None:
    saved = store_provider()(upload(b"x", "résumé été.pdf")).save()
    assert saved.filename == "résumé_été.pdf"
    assert saved.relative_url.endswith("/r%C3%A9sum%C3%A9_%C3%A9t%C3%A9.pdf")


def test_stream_is_rewound_and_left_open(storage: Flask) -> None:
    stream = io.BytesIO(b"0123456789")
    stream.read(5)
    saved = store_provider()(stream, filename="digits.txt").save()
    assert saved.read() == b"0123456789"
    assert not stream.closed


def test_upload_without_a_filename_is_refused(storage: Flask) -> None:
    with pytest.raises(ValueError, match="no file name"):
        store_provider()(FileStorage(io.BytesIO(b""), filename=""))


@pytest.mark.parametrize("bad", [42, b"bytes", ["a.txt"]])
def test_unsupported_fp_is_a_type_error(storage: Flask, bad: Any) -> None:
    with pytest.raises(TypeError, match="FileStorage"):
        store_provider()(bad)


def test_file_object_without_filename_is_a_type_error(storage: Flask) -> None:
    with pytest.raises(TypeError, match="filename="):
        store_provider()(io.BytesIO(b"x"))


@pytest.mark.parametrize("bad", ["../up", "a/../../b", "a\\b", "a\x00b"])
def test_bad_location_is_refused(storage: Flask, bad: str) -> None:
    with pytest.raises(ValueError):
        store_provider()(upload(), location=bad)


@pytest.mark.parametrize("bad", ["../secret.txt", "/etc/passwd", "a/../../b.txt"])
def test_bad_stored_path_is_refused(storage: Flask, bad: str) -> None:
    with pytest.raises(ValueError):
        store_provider()(bad)


def test_saving_a_stored_path_is_refused(storage: Flask) -> None:
    with pytest.raises(ValueError, match="already stored"):
        store_provider()("a.txt").save()


def test_delete(storage: Flask) -> None:
    saved = store_provider()(upload()).save()
    saved.delete()
    assert not saved.exists()
    with pytest.raises(FileNotFoundError):
        saved.delete()
    with pytest.raises(StoredFileNotFound):
        saved.open()


def test_missing_file_errors(storage: Flask) -> None:
    missing = store_provider()("nope/missing.txt")
    assert not missing.exists()
    with pytest.raises(StoredFileNotFound):
        missing.open()
    with pytest.raises(StoredFileNotFound):
        _ = missing.size


def test_failing_stream_leaves_nothing(storage: Flask) -> None:
    class Broken(io.RawIOBase):
        sent = False

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            if self.sent:
                raise OSError("connection dropped")
            self.sent = True
            buffer[:4] = b"part"
            return 4

    with pytest.raises(OSError, match="connection dropped"):
        store_provider()(Broken(), filename="broken.txt").save()
    assert not store_provider()("broken.txt").exists()
    assert list(store_provider().iter_files()) == []


def test_signals(storage: Flask) -> None:
    events: list[tuple[str, str]] = []

    def saved(sender: Flask, provider: Any) -> None:
        events.append(("saved", provider.relative_path))

    def deleted(sender: Flask, provider: Any) -> None:
        events.append(("deleted", provider.relative_path))

    with (
        file_saved.connected_to(saved, storage),
        file_deleted.connected_to(deleted, storage),
    ):
        store_provider()(upload(b"x", "s.txt")).save().delete()
    assert events == [("saved", "s.txt"), ("deleted", "s.txt")]


@pytest.mark.store_config(STORE_DOMAIN="https://cdn.example.com/")
def test_absolute_url_with_domain(storage: Flask) -> None:
    saved = store_provider()(upload(b"x", "a b.txt")).save()
    assert saved.absolute_url == "https://cdn.example.com" + saved.relative_url
    assert saved.relative_url.endswith("/a_b.txt")


def test_absolute_url_in_a_request_uses_the_host(storage: Flask) -> None:
    if storage.config["STORE_PROVIDER"].endswith("S3Provider"):
        pytest.skip("S3 always has a bucket domain")
    with storage.test_request_context(base_url="https://files.example.org/app"):
        saved = store_provider()(upload(b"x", "a.txt")).save()
        assert saved.absolute_url == (
            "https://files.example.org/app" + saved.relative_url
        )


def test_list_folder_pages_cover_every_entry_once(storage: Flask) -> None:
    provider = store_provider()
    for i in range(23):
        provider(upload(b"x" * i, f"f{i:02}.txt")).save()
    provider(upload(b"y", "inner.txt"), location="sub").save()
    seen: list[str] = []
    after = None
    while True:
        page = provider.list_folder(after=after, limit=5)
        assert len(page.entries) <= 5
        seen += [e.name for e in page.entries]
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == sorted([f"f{i:02}.txt" for i in range(23)] + ["sub"])
    first = provider.list_folder(limit=100)
    (folder,) = first.folders
    assert folder.path == "sub"
    sizes = {e.name: e.size for e in first.files}
    assert sizes["f07.txt"] == 7
    assert [e.path for e in provider.list_folder("sub").files] == ["sub/inner.txt"]


def test_list_folder_filter(storage: Flask) -> None:
    provider = store_provider()
    for name in ["Report.pdf", "photo.jpg", "report-2.pdf"]:
        provider(upload(b"x", name)).save()
    page = provider.list_folder(contains="REPORT")
    assert [e.name for e in page.entries] == ["Report.pdf", "report-2.pdf"]


def test_list_missing_folder_is_empty(storage: Flask) -> None:
    assert store_provider().list_folder("nothing/here").entries == []


def test_iter_files_is_recursive(storage: Flask) -> None:
    provider = store_provider()
    provider(upload(b"1", "a.txt")).save()
    provider(upload(b"22", "b.txt"), location="x/y").save()
    files = {f.path: f.size for f in provider.iter_files()}
    assert files == {"a.txt": 1, "x/y/b.txt": 2}
    assert [f.path for f in provider.iter_files("x")] == ["x/y/b.txt"]


def test_create_folder(storage: Flask) -> None:
    provider = store_provider()
    assert provider.create_folder("new/inner") == "new/inner"
    assert [e.path for e in provider.list_folder().folders] == ["new"]
    with pytest.raises(ValueError):
        provider.create_folder("../outside")


def test_safe_filename_avoids_taken_names(storage: Flask) -> None:
    provider = store_provider()
    provider(upload(b"x", "a.txt")).save()
    probe = provider("a.txt")
    assert probe.safe_filename("b.txt") == "b.txt"
    name = probe.safe_filename("a.txt")
    assert name != "a.txt" and name.endswith(".txt")


def test_equality_by_path(storage: Flask) -> None:
    provider = store_provider()
    assert provider("a/b.txt") == provider("b.txt", location="a")
    assert provider("a/b.txt") != provider("a/c.txt")
