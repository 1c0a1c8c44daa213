"""The page of a sweep: findings (the best combination against the runner-up), mean ± std of every summary
number per grid combination over seeds and folds, grouped and named, the leader marked where it is ahead by more
than twice the spread; a plot of each metric against each swept field and, when the runs drew them, their latent
maps side by side, in a self-contained `report.html` next to `compare.json` and `table.md`.

It draws what `latentatlas.sweep.summarize_sweep` measured (a plain dict).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from latentatlas.errors import LatentAtlasError
from latentatlas.outdir import output_dir
from latentatlas.report import html
from latentatlas.report.findings_compare import sweep_findings
from latentatlas.report.page import Page
from latentatlas.report.quantities import describe
from latentatlas.report.runs import pick_metrics
from latentatlas.report.sweep_figures import group_label, plot_field, plot_maps, value_text
from latentatlas.report.tables import Cell, mark_leaders

# Per-run pictures shown side by side per combination (path inside a run directory -> heading).
MAP_FIGURES = {
    "analysis/figures/pca_ellipses.png": "PCA of the test embeddings with coverage ellipses",
    "figures/latent_scatter.png": "Training latents by factor",
    "figures/latent_grid.png": "Decoded latent grid",
}
MARK_NOTE = (
    "<p class='note'>Mean ± sample standard deviation (ddof = 1) over the seeds and folds of each combination, "
    "n = finished runs; – = no such quantity. <b>Bold *</b>: the best combination on that number, ahead of the "
    "runner-up by more than twice the spread (the larger of their two standard deviations).</p>"
)


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table (pipes in cells escaped)."""

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(headers), line(["---", *(["---:"] * (len(headers) - 1))]), *(line(r) for r in rows)])


def _cell(group: dict[str, Any], metric: str) -> str:
    if metric not in group["mean"]:
        return "-"
    mean, std = group["mean"][metric], group["std"].get(metric)
    return f"{mean:.4g}" if std is None else f"{mean:.4g} ± {std:.2g}"


def sweep_table(summary: dict[str, Any], metrics: list[str] | None = None) -> tuple[list[str], list[list[str]]]:
    """The mean +- std table as text cells: one row per swept field (its values), `n (runs)`, then one row per
    metric; one column per combination. `metrics` picks and orders the metric rows (default: all)."""
    groups = summary["groups"]
    first, *rest = summary["swept"] or [None]
    headers = [first or "combination", *(value_text(g["group"][first]) if first else g["label"] for g in groups)]
    rows = [[f, *(value_text(g["group"][f]) for g in groups)] for f in rest]
    rows.append(["n (runs)", *(str(g["n"]) for g in groups)])
    rows += [[m, *(_cell(g, m) for g in groups)] for m in pick_metrics(summary["metrics"], metrics)]
    return headers, rows


def mean_std_rows(summary: dict[str, Any]) -> dict[str, list[Cell]]:
    """metric -> a `Cell` (mean, std, n) per combination, leaders marked (`tables.mark_leaders`)."""
    rows = {}
    for m in summary["metrics"]:
        rows[m] = [_cell_of(g, m) for g in summary["groups"]]
    return mark_leaders(rows)


def _cell_of(group: dict[str, Any], metric: str) -> Cell:
    if metric not in group["mean"]:
        return Cell(None)
    mean, std = group["mean"][metric], group["std"].get(metric)
    q = describe(metric)
    if std == 0 and q is not None and q.group == "setup":
        return Cell(mean)  # the same setting in every run: no spread to show
    return Cell(mean, std, group["count"].get(metric, group["n"]))


def sweep_page(summary: dict[str, Any], figures: list[tuple[str, Path]], title: str) -> Page:
    """The page: findings, the grouped mean ± std table (swept config keys in its head), figures (heading as
    HTML, path), runs."""
    c, groups = summary["counts"], summary["groups"]
    reps = f"seeds {summary['seeds']}" + (f", {summary['folds']}-fold cross-validation" if summary["folds"] else "")
    page = Page(title)
    page.findings(sweep_findings(summary))
    page.add(
        f"<p class='note'>Sweep <code>{html.escape(summary['sweep_dir'])}</code> of "
        f"<code>{html.escape(summary['config_path'])}</code> {html.escape(' '.join(summary['overrides']))}; "
        f"{html.escape(reps)}. Runs: {c['planned']} planned, {c['done']} finished, {c['failed']} failed, "
        f"{c['pending']} pending.</p>"
    )
    headers = [f"#{i + 1}" for i in range(len(groups))]
    swept = {f: [g["group"][f] for g in groups] for f in summary["swept"]}
    table = page.table(mean_std_rows(summary), headers, head_rows=swept)
    page.section("Mean ± std per combination", table, MARK_NOTE if table else "")
    for heading, path in figures:  # headings are HTML: a swept config key is shown as code
        page.add(f"<h2>{heading}</h2>", html.figure(path))
    runs = [[r["name"], r["status"], r.get("seconds"), r.get("error") or ""] for r in summary["runs"]]
    page.section("Runs", html.table(runs, ["run", "status", "seconds", "error"], digits=1, cls="runs"))
    return page


def write_sweep_page(
    summary: dict[str, Any],
    sweep_dir: str | Path,
    out_dir: str | Path | None = None,
    force: bool = False,
    metrics: list[str] | None = None,
) -> Path:
    """Write `compare.json`, `table.md`, `figures/*.png` and a self-contained `report.html` into `out_dir`.

    Args:
        summary: what `latentatlas.sweep.summarize_sweep(sweep_dir)` returns.
        sweep_dir: the sweep directory (its runs' figures are drawn side by side).
        out_dir: where to write; default `sweep_dir/report`. An existing one is refused unless `force`.
        metrics: the metric rows of `table.md` (default: all); compare.json and report.html keep them all.

    Returns:
        The path of report.html.
    """
    root = Path(sweep_dir)
    table = markdown_table(*sweep_table(summary, metrics)) if summary["groups"] else "no finished run yet"
    out = Path(out_dir) if out_dir is not None else root / "report"
    if out.resolve() == root.resolve() or out.resolve() in root.resolve().parents:
        raise LatentAtlasError(f"{out}: holds the sweep {root}; write the report into a folder of its own")
    with output_dir(out, force) as tmp:
        figures: list[tuple[str, Path]] = []
        for field in summary["swept"]:
            path = plot_field(summary, field, tmp / "figures" / f"by_{field}.png")
            if path is not None:
                figures.append((f"Metrics against {html.code(field)} (error bars: std over seeds and folds)", path))
        for i, (relpath, heading) in enumerate(MAP_FIGURES.items()):
            path = plot_maps(summary, root, relpath, tmp / "figures" / f"maps_{i}_{Path(relpath).stem}.png")
            if path is not None:
                figures.append((html.escape(f"{heading}, per combination"), path))
        (tmp / "compare.json").write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
        (tmp / "table.md").write_text(table + "\n", encoding="utf-8")
        sweep_page(summary, figures, f"Sweep {root.resolve().name}").write(tmp / "report.html")
    return out / "report.html"


__all__ = [
    "MAP_FIGURES",
    "group_label",
    "markdown_table",
    "mean_std_rows",
    "plot_field",
    "plot_maps",
    "sweep_page",
    "sweep_table",
    "write_sweep_page",
]
