"""What a variant is (:class:`VariantSpec`) and how it is rendered, with Pillow.

Pure of storage: bytes in, bytes out. :mod:`flask_store.variants` stores
and serves what :func:`render` makes.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass
from functools import cache
from typing import IO

FORMATS = {"webp": "WEBP", "jpeg": "JPEG", "png": "PNG"}
FITS = ("contain", "cover")

#: The formats variants are made from: raster formats Pillow decodes itself.
#: Any other content is refused, whatever its name: EPS above all, which
#: Pillow would hand to Ghostscript.
SOURCE_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF", "AVIF")

#: The largest side a variant may have.
MAX_SIDE = 4096


class NotAnImage(ValueError):
    """The original cannot be made into a variant: not an image Pillow reads,
    or larger than its decompression-bomb limit."""


@dataclass(frozen=True)
class VariantSpec:
    """What a variant is: its largest width and height, format and fit.

    ``contain`` fits the image inside the box, keeping its proportions;
    ``cover`` fills the box and crops what sticks out. An image is never
    enlarged.
    """

    width: int | None = None
    height: int | None = None
    format: str = "webp"
    fit: str = "contain"

    def __post_init__(self) -> None:
        for side in (self.width, self.height):
            if side is not None and (
                not isinstance(side, int)
                or isinstance(side, bool)
                or not 1 <= side <= MAX_SIDE
            ):
                raise ValueError(
                    f"A variant's width and height go from 1 to {MAX_SIDE}."
                )
        if self.width is None and self.height is None:
            raise ValueError("Give a variant's width, its height or both.")
        if self.format not in FORMATS:
            raise ValueError(f"A variant's format is one of {', '.join(FORMATS)}.")
        if self.fit not in FITS:
            raise ValueError(f"A variant's fit is one of {', '.join(FITS)}.")
        if self.fit == "cover" and (self.width is None or self.height is None):
            raise ValueError("fit='cover' needs both a width and a height.")

    @property
    def name(self) -> str:
        """The variant's name: the same for the same options."""
        return f"{self.width or ''}x{self.height or ''}-{self.fit}.{self.format}"

    def file_name(self, version: str) -> str:
        """The name a variant of the original's content ``version`` is stored as."""
        return f"{version}-{self.name}"


@cache
def readable_types() -> frozenset[str]:
    """The MIME types of the images variants are made from (none without Pillow)."""
    try:
        from PIL import Image
    except ImportError:
        return frozenset()
    Image.init()
    return frozenset(
        Image.MIME[kind]
        for kind in SOURCE_FORMATS
        if kind in Image.OPEN and kind in Image.MIME
    )


#: The EXIF tag of a photo's orientation; 5 to 8 are turned a quarter.
ORIENTATION = 0x0112


def decoded_size(
    size: tuple[int, int], orientation: int, spec: VariantSpec
) -> tuple[int, int]:
    """The smallest size to decode an image of ``size`` at for ``spec``.

    Twice the variant's size, in the image's stored orientation: JPEG
    decodes at 1/2, 1/4 or 1/8 of its size when that is still larger
    (``Image.draft``), and the final resampling then has pixels to spare,
    as ``Image.thumbnail``'s ``reducing_gap=2`` leaves it.
    """
    width, height = size
    turned = orientation in (5, 6, 7, 8)
    if turned:
        width, height = height, width
    scales = [
        side / whole
        for side, whole in ((spec.width, width), (spec.height, height))
        if side is not None and whole
    ]
    if not scales:
        return size
    scale = 2 * (max(scales) if spec.fit == "cover" else min(scales))
    box = (math.ceil(width * scale), math.ceil(height * scale))
    return (box[1], box[0]) if turned else box


def render(source: IO[bytes], spec: VariantSpec) -> bytes:
    """The variant of the image in ``source``, encoded.

    :raises NotAnImage: for what Pillow cannot read, and for images over its
        decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``).
    """
    try:
        from PIL import Image, ImageOps
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "Image variants need Pillow: pip install 'Flask-Store[images]'."
        ) from exc
    seekable = getattr(source, "seekable", None)
    if seekable is None or not seekable():
        # Pillow would read it all anyway; here a failed read stays a
        # storage error rather than a file Pillow cannot read.
        source = io.BytesIO(source.read())
    try:
        with warnings.catch_warnings():
            # Pillow warns below twice its limit and refuses above: refuse both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source, formats=SOURCE_FORMATS) as image:
                orientation = image.getexif().get(ORIENTATION, 1)
                image.draft("RGB", decoded_size(image.size, orientation, spec))
                ImageOps.exif_transpose(image, in_place=True)  # loads it
    # Beyond OSError and the bomb errors, a hostile file makes Pillow's
    # parsers raise nearly anything (SyntaxError, struct.error, IndexError).
    except Exception as exc:
        raise NotAnImage(f"Not an image Flask-Store can resize: {exc}") from exc
    keeps_alpha = spec.format != "jpeg" and image.mode in ("RGBA", "LA", "P")
    mode = "RGBA" if keeps_alpha else "RGB"
    if image.mode != mode:  # convert() copies even when it has nothing to do
        image = image.convert(mode)
    box = (spec.width or image.width, spec.height or image.height)
    if spec.fit == "cover":
        box = (min(box[0], image.width), min(box[1], image.height))
        image = ImageOps.fit(image, box, Image.Resampling.LANCZOS)
    else:
        image.thumbnail(box, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    try:
        # No exif=, no icc_profile=: the variant carries no metadata.
        image.save(out, FORMATS[spec.format])
    except (OSError, ValueError) as exc:  # beyond the format's limits (WebP)
        raise NotAnImage(
            f"A {spec.format} variant of this image cannot be made: {exc}"
        ) from exc
    return out.getvalue()
