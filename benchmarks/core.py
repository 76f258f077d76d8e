"""What every benchmark group shares: settings, timing, results and goals."""

from __future__ import annotations

import contextlib
import gc
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

MiB = 1024 * 1024
GiB = 1024 * MiB

#: Units where a smaller number is better; all others are rates.
TIME_UNITS = frozenset({"s", "ms", "MiB", "requests", "bytes"})


@dataclass
class Settings:
    """How big and how often: ``quick`` shrinks every size for a smoke run."""

    workdir: str
    quick: bool = False
    repeats: int = 5

    def size(self, full: int, quick: int = MiB) -> int:
        """``full`` bytes, or ``quick`` bytes in a quick run."""
        return quick if self.quick else full

    def count(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def times(self, full: int | None = None) -> int:
        """Repeats for one case: fewer for the slowest cases, one when quick."""
        if self.quick:
            return 1
        return min(self.repeats, full) if full else self.repeats


@dataclass
class Measure:
    """Repeated measurements of one thing; reported as their median."""

    label: str
    samples: list[float]
    unit: str

    @property
    def value(self) -> float:
        return statistics.median(self.samples)

    def format(self) -> str:
        """The median with its unit, and the range when there are repeats."""
        text = f"{fmt(self.value)} {self.unit}"
        if len(self.samples) > 1:
            text += f" ({fmt(min(self.samples))} to {fmt(max(self.samples))})"
        return text


@dataclass
class Row:
    """One line of a results table: our figure, its baseline and the goal."""

    case: str
    ours: Measure
    baseline: Measure | None = None
    goal: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or not self.baseline.value:
            return None
        return self.ours.value / self.baseline.value

    def within(self, factor: float) -> Row:
        """Goal: at most ``factor`` times the baseline's cost."""
        ratio = self.ratio
        if self.ours.unit in TIME_UNITS:
            self.goal = f"≤ {factor:.2f}x baseline"
            self.met = ratio is not None and ratio <= factor
        else:
            self.goal = f"≥ {1 / factor:.2f}x baseline"
            self.met = ratio is not None and ratio >= 1 / factor
        return self

    def under(self, limit: float, text: str) -> Row:
        """Goal: our figure at most ``limit`` (in its own unit)."""
        self.goal = text
        self.met = self.ours.value <= limit
        return self


@dataclass
class Section:
    """The results of one benchmark group."""

    name: str
    title: str
    method: str
    rows: list[Row] = field(default_factory=list)
    skipped: str = ""
    seconds: float = 0.0
    #: When and how this group was measured, if apart from the rest (``--merge``).
    measured: str = ""


def fmt(value: float) -> str:
    """A number with three significant digits, without exponent noise."""
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.3g}"
    return f"{value:.3g}"


def timed(
    fn: Callable[[], object], clock: Callable[[], float] = time.perf_counter
) -> float:
    """Seconds ``fn`` takes, with the garbage collector out of the way.

    ``clock`` is wall time by default; ``time.process_time`` counts only this
    process's CPU time, which other load on the machine barely disturbs.
    """
    gc.collect()
    gc.disable()
    try:
        started = clock()
        fn()
        return clock() - started
    finally:
        gc.enable()


@dataclass
class Variant:
    """One thing to time: ``setup`` and ``teardown`` run untimed around ``run``."""

    label: str
    run: Callable[[], object]
    setup: Callable[[], object] = lambda: None
    teardown: Callable[[], object] = lambda: None


def compare(
    variants: list[Variant],
    repeats: int,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, list[float]]:
    """Time each variant ``repeats`` times, interleaved so drift hits all alike.

    Each round starts one variant later than the one before, so no variant
    always follows the same one (and pays for what it left behind, such as
    pages still being written back).
    """
    samples: dict[str, list[float]] = {v.label: [] for v in variants}
    for round_ in range(repeats):
        shift = round_ % len(variants)
        for variant in variants[shift:] + variants[:shift]:
            variant.setup()
            try:
                samples[variant.label].append(timed(variant.run, clock))
            finally:
                variant.teardown()
    return samples


def rate(samples: list[float], count: float) -> list[float]:
    """Turn durations of ``count`` operations (or MiB) into rates."""
    return [count / s for s in samples]


def write_random(path: str, size: int) -> str:
    """Fill ``path`` with ``size`` random bytes (written in 1 MiB blocks)."""
    block = os.urandom(min(size, MiB))
    with open(path, "wb") as f:
        left = size
        while left:
            f.write(block[:left] if left < len(block) else block)
            left -= min(left, len(block))
    return path


def remove(path: str) -> None:
    """Delete a file if it is there."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def size_label(size: int) -> str:
    if size >= GiB and size % GiB == 0:
        return f"{size // GiB} GiB"
    if size >= MiB and size % MiB == 0:
        return f"{size // MiB} MiB"
    return f"{size // 1024} KiB"
