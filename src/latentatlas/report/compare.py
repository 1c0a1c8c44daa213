"""The page comparing runs side by side (`latentatlas compare RUN_A RUN_B ...`): numbers, config, figures.

Reading run folders and the tables they make are `latentatlas.report.runs`'.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from latentatlas.errors import LatentAtlasError
from latentatlas.outdir import check_out_dir, output_dir
from latentatlas.report import html
from latentatlas.report.runs import RunRecord, config_differences, load_run, summary_table

__all__ = ["COMPARED_FIGURES", "compare_runs", "default_out_dir", "write_comparison"]

COMPARED_FIGURES = {  # key -> (file in figures/, heading); the files latent_figures writes
    "grid": ("latent_grid.png", "Decoded latent grid"),
    "scatter": ("latent_scatter.png", "Training latents by factor"),
    "samples": ("prior_samples.png", "Prior samples"),
    "morph": ("morph.png", "Morph (lerp and slerp)"),
}


def default_out_dir(root: str | Path = "runs") -> Path:
    return Path(root) / f"compare-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"


def _report_body(runs: Sequence[RunRecord], headers: list[str], rows: list[list[Any]]) -> str:
    parts = ["<h2>Summary numbers</h2>", html.table(rows, headers)]
    cfg_headers, cfg_rows = config_differences(runs)
    if cfg_rows:
        parts += ["<h2>Config differences</h2>", html.table([[k, *map(str, v)] for k, *v in cfg_rows], cfg_headers)]
    names = headers[1:]
    for file, heading in COMPARED_FIGURES.values():
        present = [(n, r.figures[file]) for n, r in zip(names, runs) if file in r.figures]
        if present:
            width = max(260, 1000 // len(runs))
            parts += [f"<h2>{html.escape(heading)}</h2>", *(html.figure(p, n, width) for n, p in present)]
    return "".join(parts)


def write_comparison(runs: Sequence[RunRecord], out_dir: str | Path, force: bool = False) -> Path:
    """Write `compare.json` and `report.html` into `out_dir` (refused if it exists, unless `force`).

    Everything is written into a temporary sibling directory first and renamed at the end, so an interrupted
    comparison leaves no half-written folder. Returns the output directory.
    """
    out = Path(out_dir)
    check_out_dir(out, force)
    for r in runs:  # --force must never delete a run it compares
        if out.resolve() == r.path.resolve() or out.resolve() in r.path.resolve().parents:
            raise LatentAtlasError(f"{out}: holds the compared run {r.path}; write the comparison elsewhere")
    headers, rows = summary_table(runs)
    record = {
        "runs": [
            {"name": n, "path": str(r.path.resolve()), "summary": r.summary, "config": r.config}
            for n, r in zip(headers[1:], runs)
        ],  # fmt: skip
        "table": {"headers": headers, "rows": rows},
    }
    with output_dir(out, force) as tmp:
        (tmp / "compare.json").write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
        html.write_page(
            tmp / "report.html", "latentatlas compare: " + ", ".join(headers[1:]), _report_body(runs, headers, rows)
        )
    return out


def compare_runs(run_dirs: Sequence[str | Path], out_dir: str | Path, force: bool = False) -> Path:
    """Load run directories and write their comparison into `out_dir`; returns the path of its report.html."""
    runs = [load_run(path) for path in run_dirs]
    return write_comparison(runs, out_dir, force=force) / "report.html"
