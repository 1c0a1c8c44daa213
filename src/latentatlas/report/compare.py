"""The page comparing runs side by side (`latentatlas compare RUN_A RUN_B ...`): findings (the best run on each
headline number against the previous best), the numbers grouped and named, the config differences, the figures.

Reading run folders and the tables they make are `latentatlas.report.runs`'.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

from latentatlas.errors import LatentAtlasError
from latentatlas.outdir import check_out_dir, output_dir
from latentatlas.report import html
from latentatlas.report.findings import Finding
from latentatlas.report.findings_compare import compare_findings
from latentatlas.report.page import Page, applicable
from latentatlas.report.runs import RunRecord, config_differences, load_run, summary_table

__all__ = ["COMPARED_FIGURES", "compare_runs", "comparison_page", "default_out_dir", "write_comparison"]

COMPARED_FIGURES = {  # key -> (file in figures/, heading); the files latent_figures writes
    "grid": ("latent_grid.png", "Decoded latent grid"),
    "scatter": ("latent_scatter.png", "Training latents by factor"),
    "samples": ("prior_samples.png", "Prior samples"),
    "morph": ("morph.png", "Morph (lerp and slerp)"),
}


def default_out_dir(root: str | Path = "runs") -> Path:
    return Path(root) / f"compare-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"


SINGLE_RUNS = (
    "<p class='note'>Each column is a single run, so no difference is marked as clear: a sweep with "
    "<code>--seeds 3</code> gives mean ± std and marks differences larger than twice the spread. "
    "– = the run has no such quantity.</p>"
)


def comparison_page(
    runs: Sequence[RunRecord], names: list[str], findings: Sequence[Finding] | None = None, title: str | None = None
) -> Page:
    """The page: `findings` (default `compare_findings`), the numbers, config differences and figures side by side."""
    page = Page(title or "Comparison of " + ", ".join(names))
    page.findings(compare_findings(list(zip(names, (r.summary for r in runs)))) if findings is None else findings)
    _, rows = summary_table([dataclasses.replace(r, summary=applicable(r.summary)) for r in runs])
    numbers = {row[0]: row[1:] for row in rows if row[0] != "run"}
    page.section("Numbers", page.table(numbers, names), SINGLE_RUNS)
    _, cfg_rows = config_differences(runs)
    config = {row[0]: row[1:] for row in cfg_rows}
    page.section("Config differences", page.table(config, names, grouped=False))
    for file, heading in COMPARED_FIGURES.values():
        present = [(n, r.figures[file]) for n, r in zip(names, runs) if file in r.figures]
        if present:
            width = max(260, 1000 // len(runs))
            page.section(heading, *(html.figure(p, n, width) for n, p in present))
    return page


def write_comparison(
    runs: Sequence[RunRecord],
    out_dir: str | Path,
    force: bool = False,
    findings: Sequence[Finding] | None = None,
    title: str | None = None,
) -> Path:
    """Write `compare.json` and `report.html` into `out_dir` (refused if it exists, unless `force`).

    `findings` replace the default ones (`compare_findings`), e.g. the demo's AE-vs-VAE sentences; `title` names
    the page.

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
        comparison_page(runs, headers[1:], findings, title).write(tmp / "report.html")
    return out


def compare_runs(
    run_dirs: Sequence[str | Path],
    out_dir: str | Path,
    force: bool = False,
    findings: Sequence[Finding] | None = None,
    title: str | None = None,
) -> Path:
    """Load run directories and write their comparison into `out_dir`; returns the path of its report.html."""
    runs = [load_run(path) for path in run_dirs]
    return write_comparison(runs, out_dir, force=force, findings=findings, title=title) / "report.html"
