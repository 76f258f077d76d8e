"""Image variants: rendering and storing one against Pillow's own resize and save."""

from __future__ import annotations

import io
import os
import shutil
import time

from flask import Flask
from PIL import Image

from flask_store import Store
from flask_store.providers.local import LocalProvider
from flask_store.variants import ImageVariant

from .core import Measure, Row, Section, Settings, Variant, compare

METHOD = """\
*Ours* is `provider.variant(width=..., format="webp").generate()` on a
stored photo: it reads the original's version (a stat, its variant's
name and URL depend on it), checks whether the variant is stored, opens
the original through the local backend, renders it (EXIF orientation, a
reduced JPEG decode, Lanczos resampling, no metadata), stats the
original again (not replaced meanwhile) and stores the result under its
hidden name, atomically; the stored variant is deleted, untimed, before
the next run. The baseline is what one writes with Pillow alone for the
same image: `Image.open(path)`, `thumbnail((width, height), LANCZOS)`
(which decodes JPEG reduced too) and `save(buffer, "WEBP")`, the bytes
kept in memory. Both make the same size in the same format; the times
are CPU time of this process (`time.process_time`), which the other load
on a shared machine disturbs little. `STORE_FSYNC` is off."""


def _photo(path: str, size: tuple[int, int], fmt: str) -> str:
    """A photo-like image: smooth gradients under fine noise, hard to compress."""
    noise = Image.effect_noise(size, 40).convert("RGB")
    gradient = Image.linear_gradient("L").resize(size).convert("RGB")
    radial = Image.radial_gradient("L").resize(size)
    picture = Image.merge("RGB", (gradient.getchannel(0), radial, noise.getchannel(0)))
    picture = Image.blend(picture, noise, 0.25)
    options = {"quality": 90} if fmt == "JPEG" else {}
    picture.save(path, fmt, **options)
    return path


class _Renders:
    def __init__(self, workdir: str, source: str, name: str, width: int) -> None:
        self.source = source
        self.width = width
        self.app = Flask("bench", instance_path=os.path.join(workdir, "instance"))
        store = os.path.join(workdir, "store")
        self.app.config.update(
            STORE_PATH=store, STORE_FSYNC=False, SECRET_KEY="benchmark"
        )
        Store(self.app)
        os.makedirs(store, exist_ok=True)
        shutil.copyfile(source, os.path.join(store, name))
        self.original = LocalProvider(name, app=self.app)
        self.backend = LocalProvider.backend_of(self.app)
        with Image.open(source) as image:
            self.box = (width, image.height)
        self.made: list[bytes] = []

    def variant(self) -> ImageVariant:
        return self.original.variant(width=self.width, format="webp")

    def ours(self) -> None:
        with self.app.app_context():
            self.variant().generate()

    def forget(self) -> None:
        path = self.variant().relative_path
        if self.backend.exists(path):
            self.backend.delete(path)

    def pillow(self) -> None:
        out = io.BytesIO()
        with Image.open(self.source) as image:
            image.thumbnail(self.box, Image.Resampling.LANCZOS)
            image.save(out, "WEBP")
        self.made.append(out.getvalue())

    def variants(self) -> list[Variant]:
        return [
            Variant("ours", self.ours, setup=self.forget, teardown=self.forget),
            Variant("pillow", self.pillow, teardown=self.made.clear),
        ]

    def sizes_match(self) -> bool:
        """Whether ours and the baseline made the same size (a fair race)."""
        self.ours()
        with self.variant().open() as stream, Image.open(stream) as ours:
            size = ours.size
        self.forget()
        self.pillow()
        with Image.open(io.BytesIO(self.made.pop())) as theirs:
            return bool(size == theirs.size)


CASES = (
    # (what, format, full size, quick size, variant width)
    ("JPEG photo", "JPEG", (4000, 3000), (800, 600), 640),
    ("PNG image", "PNG", (2000, 1500), (400, 300), 320),
)


def run(settings: Settings) -> Section:
    section = Section("variants", "Image variants: rendering one", METHOD)
    workdir = os.path.join(settings.workdir, "variants")
    os.makedirs(workdir)
    try:
        for what, fmt, full, quick, width in CASES:
            size = quick if settings.quick else full
            folder = os.path.join(workdir, fmt.lower())
            os.makedirs(folder)
            source = _photo(os.path.join(folder, "photo." + fmt.lower()), size, fmt)
            renders = _Renders(folder, source, os.path.basename(source), width)
            if not renders.sizes_match():
                raise RuntimeError("ours and Pillow's made different sizes")
            samples = compare(
                renders.variants(), settings.times(), clock=time.process_time
            )
            m = {label: Measure(label, s, "ms") for label, s in samples.items()}
            for measure in m.values():
                measure.samples = [s * 1000 for s in measure.samples]
            section.rows.append(
                Row(
                    f"{width} px wide WebP of a {size[0]}x{size[1]} {what}",
                    m["ours"],
                    m["pillow"],
                ).within(1.10)
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return section
