"""Run every benchmark (`benchmarks/bench_*.py`) and write BENCHMARKS.md with the machine and the date.

Each module defines `run(quick: bool = False) -> str`, returning a Markdown section (a `## title`, how it was
measured, and a table of what it measured). Usage: `python -m benchmarks.run_all [--quick] [--only NAME ...]`.
Benchmarks should run alone on the machine: two jobs side by side halve each other.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import pkgutil
import platform
import re
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        text = Path("/proc/cpuinfo").read_text()
        cpu = re.search(r"model name\s*:\s*(.+)", text).group(1)
    except (OSError, AttributeError):
        pass
    mem = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f", {kb / 2**20:.0f} GiB"
    except (OSError, AttributeError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} torch threads"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the scripts run")
    parser.add_argument("--only", nargs="*", default=None, help="module names, e.g. bench_shapes")
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args(argv)
    names = sorted(m.name for m in pkgutil.iter_modules([str(ROOT / "benchmarks")]) if m.name.startswith("bench_"))
    if args.only:
        names = [n for n in names if n in args.only]
    sections = []
    for name in names:
        start = time.perf_counter()
        print(f"== {name}", file=sys.stderr, flush=True)
        section = importlib.import_module(f"benchmarks.{name}").run(quick=args.quick)
        sections.append(section.strip() + f"\n\n_`{name}` took {time.perf_counter() - start:.0f} s._\n")
    header = (
        "# Benchmarks\n\n"
        f"Written by `make bench` (`python -m benchmarks.run_all`) on {dt.date.today().isoformat()}.\n\n"
        f"Machine: {machine()}.\n\n"
        "Every number below was measured by the scripts in `benchmarks/` in that run; ratios compare methods run "
        "side by side in the same process.\n\n"
    )
    text = header + "\n".join(sections)
    if args.quick:
        print(text)
    else:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
