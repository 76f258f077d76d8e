"""Accessibility checks with axe-core (npm ``axe-core``, in ``node_modules/``).

The script is evaluated through Playwright rather than added as a ``<script>``
tag, so the pages' strict Content-Security-Policy stays as users get it.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import pytest

AXE_SCRIPT = Path(__file__).resolve().parents[2] / "node_modules/axe-core/axe.min.js"


@functools.cache
def _axe_source() -> str:
    if not AXE_SCRIPT.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"axe-core is missing ({AXE_SCRIPT}); run `npm ci`.")
        pytest.skip("axe-core is not installed; run `npm ci`.")
    return AXE_SCRIPT.read_text(encoding="utf-8")


def violations(page: Any) -> list[str]:
    """axe-core's violations on ``page`` (WCAG 2 A and AA, best practices),
    one line each: the rule, its help text and the offending elements."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    found = page.evaluate(
        """async () => {
            const result = await axe.run(document, {
                runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"]},
            });
            return result.violations.map(v =>
                `${v.id}: ${v.help} (${v.nodes.map(n => n.target.join(" ")).join(", ")})`);
        }"""
    )
    return list(found)
