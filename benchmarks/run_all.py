"""Run every benchmark (`benchmarks/bench_*.py`) and write BENCHMARKS.md with the machine and the date.

Each module defines `run(quick: bool = False) -> str`, returning a Markdown section (a `## title`, how it was
measured, and a table of what it measured). Usage: `python -m benchmarks.run_all [--quick] [--only NAME ...]`.
Modules listed in SLOW (an hour of training) run only when named with --only. Sections of modules not run this
time are kept from the existing BENCHMARKS.md, each with the date it was measured.
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
SLOW = ("bench_quality",)
MARK = "<!-- section: {} -->"


def read_sections(path: Path) -> dict[str, str]:
    """The sections of an existing BENCHMARKS.md, by module name."""
    if not path.exists():
        return {}
    parts = re.split(r"<!-- section: (\w+) -->\n", path.read_text(encoding="utf-8"))
    return {parts[i]: parts[i + 1].strip() + "\n" for i in range(1, len(parts) - 1, 2)}


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
    chosen = [n for n in names if n in args.only] if args.only else [n for n in names if n not in SLOW]
    out = Path(args.out)
    sections = read_sections(out)
    today = dt.date.today().isoformat()
    for name in chosen:
        start = time.perf_counter()
        print(f"== {name}", file=sys.stderr, flush=True)
        section = importlib.import_module(f"benchmarks.{name}").run(quick=args.quick)
        took = time.perf_counter() - start
        sections[name] = section.strip() + f"\n\n_`{name}` took {took:.0f} s; measured {today} on the machine above._\n"
    header = (
        "# Benchmarks\n\n"
        "Written by `make bench` (`python -m benchmarks.run_all`; the hour-long CIFAR-10 quality study by "
        "`python -m benchmarks.run_all --only bench_quality`).\n\n"
        f"Machine: {machine()}.\n\n"
        "Every number below was measured by the scripts in `benchmarks/` on that machine, alone on it; ratios "
        "compare methods run side by side in the same process.\n\n"
    )
    order = [n for n in names if n in sections]
    text = header + "\n".join(MARK.format(n) + "\n" + sections[n] for n in order)
    if args.quick:
        print(text)
    else:
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
