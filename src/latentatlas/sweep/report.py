"""`write_sweep_report`: read a sweep directory and write its page (see `latentatlas.report.sweep_report`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from latentatlas.report.sweep_report import write_sweep_page
from latentatlas.sweep.summary import summarize_sweep

__all__ = ["write_sweep_report"]


def write_sweep_report(
    sweep_dir: str | Path,
    out_dir: str | Path | None = None,
    force: bool = False,
    metrics: list[str] | None = None,
    summary: dict[str, Any] | None = None,
) -> Path:
    """Write the sweep's `compare.json`, `table.md`, figures and `report.html` into `out_dir`.

    Args:
        sweep_dir: a sweep directory (holds sweep.json).
        out_dir: where to write; default `sweep_dir/report`. An existing one is refused unless `force`.
        metrics: the metric rows of `table.md` (default: all).
        summary: `summarize_sweep(sweep_dir)` when the caller has already read it.

    Returns:
        The path of report.html.
    """
    summary = summary if summary is not None else summarize_sweep(sweep_dir)
    return write_sweep_page(summary, sweep_dir, out_dir, force, metrics)
