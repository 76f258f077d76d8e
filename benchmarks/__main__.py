"""``python -m benchmarks``: run benchmark groups and write the report."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from importlib import import_module
from typing import Any

from . import machine, report
from .core import Section, Settings

DEFAULT_OUTPUT = "docs/benchmarks.md"
DEFAULT_JSON = "benchmarks/results.json"

#: Group name to module; each module has ``run(settings) -> Section``.
GROUPS = {
    "local": "local_save",
    "metadata": "metadata",
    "variants": "variants",
    "http": "http_upload",
    "serving": "serving",
    "s3": "s3",
    "sqla": "sqla",
    "admin": "admin",
    "direct": "direct",
    "sorting": "admin_sorting",
}


def run_groups(
    names: list[str], settings: Settings, log: Callable[[str], object] = print
) -> list[Section]:
    """Run the named groups in order; a group that fails is reported, not fatal."""
    sections = []
    for name in names:
        log(f"[{time.strftime('%H:%M:%S')}] {name} ...")
        started = time.perf_counter()
        module = import_module(f".{GROUPS[name]}", __package__)
        section: Section = module.run(settings)
        section.seconds = time.perf_counter() - started
        log(f"[{time.strftime('%H:%M:%S')}] {name} done in {section.seconds:.1f} s")
        sections.append(section)
    return sections


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes and one repeat (smoke run)"
    )
    parser.add_argument(
        "--groups",
        default=",".join(GROUPS),
        help=f"comma-separated groups to run (default: all of {', '.join(GROUPS)})",
    )
    parser.add_argument("--repeats", type=int, default=5, help="repeats per case")
    parser.add_argument(
        "--output",
        help="where to write the Markdown report (default: docs/benchmarks.md, "
        "or standard output with --quick)",
    )
    parser.add_argument(
        "--json",
        help=f"where to keep the raw results (default: {DEFAULT_JSON}, "
        "or nowhere with --quick)",
    )
    parser.add_argument(
        "--merge",
        metavar="JSON",
        help="keep the other groups' results from JSON: the groups run now "
        "replace theirs (saved to --json, or JSON itself by default)",
    )
    parser.add_argument(
        "--render",
        metavar="JSON",
        help="measure nothing: render the report from results kept by --json",
    )
    parser.add_argument(
        "--workdir",
        help="folder for temporary files, removed afterwards (default: a new "
        "folder in the system temporary folder)",
    )
    args = parser.parse_args(argv)
    args.groups = [g.strip() for g in args.groups.split(",") if g.strip()]
    unknown = [g for g in args.groups if g not in GROUPS]
    if unknown:
        parser.error(f"unknown group(s): {', '.join(unknown)}")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.render:
        sections, facts = report.load(args.render)
    else:
        sections, facts = measure(args, argv)
        results = args.json or (None if args.quick else DEFAULT_JSON)
        if args.merge:
            sections, facts = report.merge(args.merge, sections, facts)
            results = args.json or args.merge
        if results:
            report.save(results, sections, **facts)
    text = report.render(sections, **facts)
    output = args.output or (None if args.quick else DEFAULT_OUTPUT)
    if output in (None, "-"):
        sys.stdout.write(text)
    else:
        os.makedirs(os.path.dirname(output) or ".", exist_ok=True)
        with open(output, "w") as f:
            f.write(text)
        print(f"wrote {output}", file=sys.stderr)
    return 0


def measure(
    args: argparse.Namespace, argv: list[str] | None
) -> tuple[list[Section], dict[str, Any]]:
    """Run the chosen groups in a temporary folder, removed afterwards."""
    workdir = tempfile.mkdtemp(prefix="flask-store-bench-", dir=args.workdir)
    started = time.perf_counter()
    try:
        settings = Settings(workdir=workdir, quick=args.quick, repeats=args.repeats)
        sections = run_groups(
            args.groups, settings, log=lambda m: print(m, file=sys.stderr)
        )
        facts = {
            "machine": machine.describe(workdir),
            "command": " ".join(
                [
                    "python -m benchmarks",
                    shlex.join(sys.argv[1:] if argv is None else argv),
                ]
            ).strip(),
            "seconds": time.perf_counter() - started,
            "quick": args.quick,
            "when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return sections, facts


if __name__ == "__main__":
    sys.exit(main())
