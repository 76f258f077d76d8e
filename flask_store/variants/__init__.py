"""Image variants: a resized copy of a stored image, made when first asked for.

``provider.variant(width=320, format="webp")`` is an :class:`ImageVariant`:
its ``url`` is signed and never changes for one original, one content and
one set of options, so browsers and CDNs may cache it for good. The first
request for it renders the variant with Pillow (EXIF orientation applied,
metadata stripped, Pillow's decompression-bomb limit enforced) and stores it
in the hidden folder ``.flask-store-variants/<original's path>/``, which
listings and the serving route leave alone; later requests send the stored
copy.

A variant belongs to one content of its original, not only to its path: its
key and its signed URL carry the original's *version*
(:func:`content_version`), a short hash of what the backend's stat or
listing says of the file: S3's ETag; on disk its inode, size and
modification time (nanoseconds); in memory a token each write draws; size and
time when a backend has nothing better. A listing entry has it already, so
the admin's thumbnails cost no extra request per file. A stat is used rather
than the sha256 of the file's metadata because a listing does not carry the
metadata, and a stat changes whenever the content does (at worst it also
changes when only the time does, and the variant is rendered again). The
serving route stats the original and answers 404 for a URL whose version is
not the original's any more, so a stale variant or a cached URL never stands
for another file saved at the same path. A row's metadata column keeps its
image's version (:mod:`flask_store.sqla.companion`), so the thumbnails of
loaded rows need no stat.

Deleting, moving or deleting the folder of an original through its backend
deletes its variants (:mod:`flask_store.backends.variant_files`);
``flask store orphans`` and ``flask store cleanup`` find and delete the
variants of originals gone by other means
(:func:`flask_store.backends.variant_files.orphaned`).

Needs the ``images`` extra (Pillow).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any

from flask import has_request_context, request, url_for
from itsdangerous import BadData

from .. import names, spelling
from ..backends import variant_files
from ..backends.base import StoredFile
from ..exceptions import NotConfiguredError, UploadFailed
from ..signing import stable_serializer
from .rendering import (
    FITS,
    FORMATS,
    MAX_SIDE,
    ORIENTATION,
    SOURCE_FORMATS,
    NotAnImage,
    VariantSpec,
    decoded_size,
    readable_types,
    render,
)

if TYPE_CHECKING:
    from flask import Flask

    from ..backends.base import Backend

__all__ = [
    "FITS",
    "FORMATS",
    "KNOWN_VERSION",
    "MAX_SIDE",
    "NO_VERSION",
    "ORIENTATION",
    "SOURCE_FORMATS",
    "VARIANTS_FOLDER",
    "ImageVariant",
    "NotAnImage",
    "StaleVariant",
    "VariantSpec",
    "content_version",
    "current_version",
    "decoded_size",
    "delete_variants",
    "eager_specs",
    "ensure",
    "open_variant",
    "read",
    "readable_types",
    "render",
    "sign",
    "signed_url",
    "stored_version",
    "variant_path",
    "variants_location",
]

#: The hidden folder, under ``STORE_PATH``, that variants are kept in.
VARIANTS_FOLDER = names.VARIANTS_FOLDER

#: The endpoint that sends variants (``/_flask_store/variants/<token>``).
VARIANT_ENDPOINT = "flask_store.variant"


#: The version in the URL of a variant whose original is not stored: never
#: an original's, so the URL answers 404 (a page showing it does not fail).
NO_VERSION = "none"


class StaleVariant(LookupError):
    """The original is not the content a variant was asked for any more."""


def content_version(stored: StoredFile) -> str:
    """The version of a stored file's content that its variants belong to.

    From the stat or listing entry ``stored``: see the module's docstring.
    """
    modified = stored.modified.isoformat() if stored.modified else ""
    raw = stored.version or f"{stored.size}-{modified}"
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


#: The attribute of a provider that holds its content's version when it came
#: with the provider, without a stat: a row's metadata column keeps it
#: (:mod:`flask_store.sqla.companion`).
KNOWN_VERSION = "_content_version"


def stored_version(provider: Any) -> str | None:
    """The version of ``provider``'s stored content (:func:`content_version`):
    the one it came with, or one stat; ``None`` when it is not stored (or not
    yet, uploading in the background)."""
    known = provider.__dict__.get(KNOWN_VERSION)
    if isinstance(known, str):
        return known
    backend: Backend = provider.backend
    try:
        return content_version(backend.stat(provider.relative_path))
    except FileNotFoundError:
        return None


def current_version(backend: Backend, path: str, version: str) -> None:
    """Check that ``path`` is still the content ``version`` (one stat).

    :raises StaleVariant: when it is not.
    :raises FileNotFoundError: when ``path`` is not stored.
    """
    if content_version(backend.stat(path)) != version:
        raise StaleVariant("The image changed since this variant's URL was made.")


def eager_specs(config: Mapping[str, Any]) -> tuple[VariantSpec, ...]:
    """The variants ``STORE_EAGER_VARIANTS`` asks to make when an image is saved.

    :raises NotConfiguredError: naming the setting, for impossible options
        or when Pillow is not installed.
    """
    options = config.get("STORE_EAGER_VARIANTS") or ()
    try:
        specs = tuple(VariantSpec(**option) for option in options)
    except (TypeError, ValueError) as exc:
        raise NotConfiguredError(f"STORE_EAGER_VARIANTS: {exc}") from None
    if specs and not readable_types():
        raise NotConfiguredError(
            "STORE_EAGER_VARIANTS needs Pillow: pip install 'Flask-Store[images]'."
        )
    return specs


def variants_location(path: str) -> str:
    """The hidden folder that holds the variants of the stored file ``path``."""
    return names.variants_location(spelling.canonical_path(path))


def variant_path(path: str, spec: VariantSpec, version: str) -> str:
    """Where the variant ``spec`` of ``path``'s content ``version`` is stored."""
    return names.join_key(variants_location(path), spec.file_name(version))


def ensure(
    backend: Backend,
    path: str,
    spec: VariantSpec,
    *,
    version: str,
    source: IO[bytes] | None = None,
) -> str:
    """The stored variant ``spec`` of ``path``, rendered and stored if missing.

    It is rendered from ``source`` when given (the upload being saved, read
    from where it is), else from the stored original, which must still be
    the content ``version`` once rendered (:class:`StaleVariant` if not).
    """
    target = variant_path(path, spec, version)
    if not backend.exists(target):
        _make(backend, path, spec, version, source)
    return target


def open_variant(
    backend: Backend, path: str, spec: VariantSpec, *, version: str
) -> IO[bytes]:
    """The variant's bytes: the stored ones, else rendered (and stored) now.

    What was just rendered is read from memory: a backend that stores in
    the background (``S3GeventProvider``) cannot read it back yet.
    """
    try:
        return backend.open(variant_path(path, spec, version))
    except FileNotFoundError:
        return io.BytesIO(_make(backend, path, spec, version))


def _make(
    backend: Backend,
    path: str,
    spec: VariantSpec,
    version: str,
    source: IO[bytes] | None = None,
) -> bytes:
    """Render and store a variant; its bytes.

    Another request may store the same variant meanwhile: the first one
    stored wins and the other's is dropped (both are the same image).
    """
    if source is not None:
        data = render(source, spec)
    else:
        with backend.open(path) as original:
            data = render(original, spec)
        current_version(backend, path, version)  # not replaced while read
    target = variant_path(path, spec, version)
    try:
        backend.write(io.BytesIO(data), [target])
    except UploadFailed:  # stored by another request meanwhile
        if not backend.exists(target):
            raise
    return data


def delete_variants(backend: Backend, path: str) -> list[str]:
    """Delete every stored variant of ``path``; return their paths."""
    return variant_files.delete_all(backend, variants_location(path))


def sign(app: Flask, path: str, spec: VariantSpec, version: str) -> str:
    """The token of a variant's URL (no expiry: the URL is cacheable)."""
    value = [path, version, spec.width, spec.height, spec.format, spec.fit]
    return str(stable_serializer(app, "variant").dumps(value))


def signed_url(app: Flask, path: str, spec: VariantSpec, version: str) -> str:
    """The signed URL path of the variant ``spec`` of ``path``'s content ``version``."""
    token = sign(app, path, spec, version)
    if has_request_context():
        return str(url_for(VARIANT_ENDPOINT, token=token))
    adapter = app.url_map.bind("", script_name=app.config["APPLICATION_ROOT"])
    return str(adapter.build(VARIANT_ENDPOINT, {"token": token}))


def read(app: Flask, token: str) -> tuple[str, str, VariantSpec]:
    """The original's path, its version and the spec a variant's token stands for.

    Tokens made before variants had versions are refused, as any bad token.
    """
    try:
        value: Any = stable_serializer(app, "variant").loads(token)
        path, version, width, height, format_, fit = value
        if not isinstance(version, str):
            raise TypeError(version)
        spec = VariantSpec(width, height, format_, fit)
        return spelling.canonical_path(path), version, spec
    except (BadData, ValueError, TypeError):
        raise LookupError("There is no such image variant.") from None


class ImageVariant:
    """A variant of a stored image: a URL now, the file when first fetched."""

    def __init__(
        self, original: Any, spec: VariantSpec, *, version: str | None = None
    ) -> None:
        #: The provider of the original image.
        self.original = original
        self.spec = spec
        if version is not None:
            self.__dict__["version"] = version

    def __repr__(self) -> str:
        return f"<ImageVariant {self.relative_path!r}>"

    @cached_property
    def version(self) -> str:
        """The version of the original's content (:func:`stored_version`):
        the one the original came with (a row's metadata column), else read
        once with a stat of the original; :data:`NO_VERSION` when the
        original is not stored (or not yet, uploading in the background)."""
        return stored_version(self.original) or NO_VERSION

    @property
    def relative_path(self) -> str:
        """Where the variant is (or will be) stored, relative to ``STORE_PATH``."""
        return variant_path(self.original.relative_path, self.spec, self.version)

    @property
    def url(self) -> str:
        """The variant's signed URL path (``/_flask_store/variants/...``)."""
        path = self.original.relative_path
        return signed_url(self.original.app, path, self.spec, self.version)

    @property
    def absolute_url(self) -> str:
        """The signed URL with ``STORE_DOMAIN`` or the current host, like a file's."""
        domain = self.original.backend.domain
        if domain:
            return names.join_url(domain, self.url)
        if has_request_context():
            return names.join_url(request.root_url, self.url)
        return self.url

    def generate(self) -> str:
        """Render and store the variant now (eagerly); return its path."""
        backend: Backend = self.original.backend
        path = self.original.relative_path
        return ensure(backend, path, self.spec, version=self.version)

    def open(self) -> IO[bytes]:
        """The variant's bytes, rendering it first when it is missing."""
        backend: Backend = self.original.backend
        path = self.original.relative_path
        return open_variant(backend, path, self.spec, version=self.version)
