"""The browser tests wait in a way the pages' Content-Security-Policy allows.

``page.wait_for_function`` evaluates a plain expression again with ``eval``
on every poll, which the pages' CSP (no ``'unsafe-eval'``) refuses: the wait
fails whenever the condition is not already true at its first check. A
function (``"() => ..."``) is evaluated once and then called, which the CSP
allows. Nothing here starts a browser.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
FUNCTION = re.compile(r"\s*(\(?[\w\s,]*\)?\s*=>|function\b)")


def plain_expression_waits(source: str) -> list[int]:
    """Lines where ``wait_for_function`` is given a string that is no function."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "wait_for_function"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and not FUNCTION.match(node.args[0].value)
        ):
            lines.append(node.lineno)
    return lines


def test_the_check_tells_an_expression_from_a_function() -> None:
    source = (
        "page.wait_for_function('document.title === \"x\"')\n"
        "page.wait_for_function('() => document.title === \"x\"')\n"
        "page.wait_for_function('img => img.complete', arg=img)\n"
        "page.wait_for_function('(a, b) => a')\n"
        "page.wait_for_function('function () { return true }')\n"
    )
    assert plain_expression_waits(source) == [1]


def test_no_browser_test_waits_on_a_plain_expression() -> None:
    found = {
        f"{path.relative_to(TESTS)}:{line}"
        for path in TESTS.rglob("*.py")
        for line in plain_expression_waits(path.read_text(encoding="utf-8"))
    }
    assert found == set()
