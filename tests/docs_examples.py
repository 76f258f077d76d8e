"""The code examples of README.md and docs/, found by their markers.

In Markdown, a fenced block right after ``<!-- example: NAME -->`` is the
example ``NAME``, and one after ``<!-- not-run: why -->`` is shown only. In
reStructuredText the markers are the comments ``.. example: NAME`` and
``.. not-run: why`` before a ``code-block``. Tests load examples by name, so
the documentation and the tests cannot drift apart.
"""

from __future__ import annotations

import re
import sys
import textwrap
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MARKDOWN_BLOCK = re.compile(
    r"(?:^<!-- (?P<kind>example|not-run): (?P<value>.+?) -->\n)?"
    r"^(?P<indent> *)```(?P<language>[^\s`]*)[^\n]*\n(?P<code>.*?)^(?P=indent)```$",
    re.MULTILINE | re.DOTALL,
)
RST_BLOCK = re.compile(
    r"(?:^\.\. (?P<kind>example|not-run): (?P<value>.+?)\n\n)?"
    r"^(?P<indent> *)\.\. code-block:: (?P<language>\S+)\n"
    r"(?P<code>(?:\n|(?P=indent) +.*\n)*)",
    re.MULTILINE,
)


@dataclass(frozen=True)
class CodeBlock:
    """One code block of the documentation and its marker, if any."""

    source: Path
    line: int
    language: str
    kind: str | None  # "example", "not-run" or None
    value: str | None  # the example's name, or why it is not run
    code: str

    @property
    def where(self) -> str:
        return f"{self.source.relative_to(ROOT)}:{self.line}"


def sources() -> list[Path]:
    """README.md and every Markdown and reStructuredText page in docs/."""
    docs = ROOT / "docs"
    pages = [*docs.rglob("*.md"), *docs.rglob("*.rst")]
    return [ROOT / "README.md", *sorted(p for p in pages if "_build" not in p.parts)]


def code_blocks() -> Iterator[CodeBlock]:
    """Every code block of the documentation, in reading order."""
    for source in sources():
        text = source.read_text(encoding="utf-8")
        pattern = RST_BLOCK if source.suffix == ".rst" else MARKDOWN_BLOCK
        for match in pattern.finditer(text):
            code = match["code"]
            if source.suffix == ".rst":
                code = textwrap.dedent(code).strip("\n") + "\n"
            yield CodeBlock(
                source=source,
                line=text.count("\n", 0, match.start("language")) + 1,
                language=match["language"],
                kind=match["kind"],
                value=match["value"],
                code=code,
            )


def example(name: str) -> str:
    """The code of the one block marked as the example ``name``."""
    found = [b for b in code_blocks() if b.kind == "example" and b.value == name]
    places = ", ".join(block.where for block in found)
    assert found, f"no documentation block is marked as the example {name!r}"
    assert len(found) == 1, f"the example {name!r} is marked twice: {places}"
    return found[0].code


def run_example(name: str, module_name: str) -> types.ModuleType:
    """Run the example ``name`` as the module ``module_name``.

    The module stays in ``sys.modules`` (other examples may import it); the
    caller removes it again.
    """
    module = types.ModuleType(module_name)
    sys.modules[module_name] = module
    exec(compile(example(name), f"<example {name}>", "exec"), module.__dict__)
    return module
