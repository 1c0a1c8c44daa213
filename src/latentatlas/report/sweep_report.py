"""The page of a sweep: mean +- std of every summary number per grid combination, over seeds and folds.

It draws what `latentatlas.sweep.summarize_sweep` measured (a plain dict): the table, a plot of each metric
against each swept field and, when the runs drew them, their latent maps side by side, in a self-contained
`report.html` next to `compare.json`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from matplotlib.image import imread

from latentatlas.errors import LatentAtlasError
from latentatlas.outdir import output_dir
from latentatlas.report import html
from latentatlas.report.figures import Figure, save_fig
from latentatlas.report.runs import pick_metrics

# Per-run pictures shown side by side per combination (path inside a run directory -> heading).
MAP_FIGURES = {
    "analysis/figures/pca_ellipses.png": "PCA of the test embeddings with coverage ellipses",
    "figures/latent_scatter.png": "Training latents by factor",
    "figures/latent_grid.png": "Decoded latent grid",
}
MAX_PANELS = 40  # metrics per field figure; a summary rarely has more, and the table holds them all anyway


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def group_label(group: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_text(v)}" for k, v in group.items()) or "all runs"


def _varies(summary: dict[str, Any], metric: str) -> bool:
    values = {round(g["mean"][metric], 12) for g in summary["groups"] if metric in g["mean"]}
    spread = any((g["std"].get(metric) or 0) > 0 for g in summary["groups"])
    return len(values) > 1 or spread


def plot_field(summary: dict[str, Any], field: str, path: Path) -> Path | None:
    """Each varying metric against the values of `field`: mean with std error bars, one line per combination of
    the other swept fields. Numeric values on a (sym)log axis when they span two decades or more."""
    metrics = [m for m in summary["metrics"] if _varies(summary, m)][:MAX_PANELS]
    if not metrics:
        return None
    values = list(dict.fromkeys(json.dumps(g["group"][field]) for g in summary["groups"]))
    xs = [json.loads(v) for v in values]
    numeric = all(_is_number(x) for x in xs)
    lines: dict[str, list[dict[str, Any]]] = {}
    for g in summary["groups"]:
        others = {k: v for k, v in g["group"].items() if k != field}
        lines.setdefault(group_label(others) if others else "", []).append(g)
    cols = min(4, len(metrics))
    rows = math.ceil(len(metrics) / cols)
    fig = Figure(figsize=(3.3 * cols, 2.5 * rows + 0.6), layout="constrained")
    for i, metric in enumerate(metrics):
        ax = fig.add_subplot(rows, cols, i + 1)
        for label, groups in lines.items():
            pts = [(g["group"][field], g["mean"][metric], g["std"].get(metric) or 0.0) for g in groups
                   if metric in g["mean"]]  # fmt: skip
            x = [p[0] if numeric else values.index(json.dumps(p[0])) for p in pts]
            ax.errorbar(x, [p[1] for p in pts], yerr=[p[2] for p in pts], marker="o", ms=3, capsize=3, label=label)
        if numeric:
            positive = [x for x in xs if x > 0]
            if positive and min(xs) >= 0 and max(xs) / min(positive) >= 100:
                ax.set_xscale("symlog" if min(xs) == 0 else "log", **({"linthresh": min(positive)} if min(xs) == 0
                                                                      else {}))  # fmt: skip
            if len(xs) <= 8:  # few values: tick exactly at them rather than at round numbers in between
                ax.set_xticks(xs, labels=[f"{x:g}" for x in xs])
                ax.minorticks_off()
        else:
            ax.set_xticks(range(len(xs)), labels=[str(x) for x in xs], rotation=30, ha="right")
        ax.set_title(metric, fontsize=9)
        ax.tick_params(labelsize=7)
    fig.supxlabel(field)
    if len(lines) > 1:
        fig.legend(*fig.axes[0].get_legend_handles_labels(), loc="outside upper center", fontsize=8, ncols=2)
    return save_fig(fig, path, dpi=80)


def plot_maps(summary: dict[str, Any], sweep_dir: Path, relpath: str, path: Path, max_cols: int = 6) -> Path | None:
    """The picture `relpath` of every finished run: one row per combination, one column per seed/fold."""
    by_name = {r["name"]: r for r in summary["runs"]}
    grid = [(g["label"], [by_name[n] for n in g["runs"] if (sweep_dir / by_name[n]["dir"] / relpath).is_file()])
            for g in summary["groups"]]  # fmt: skip
    grid = [(label, runs[:max_cols]) for label, runs in grid if runs]
    if not grid:
        return None
    cols = max(len(runs) for _, runs in grid)
    first = imread(sweep_dir / grid[0][1][0]["dir"] / relpath)  # (H, W, C); cells keep the pictures' aspect
    width = 4.5 if first.shape[1] > 2 * first.shape[0] else 2.6
    fig = Figure(figsize=(width * cols, (width * first.shape[0] / first.shape[1] + 0.45) * len(grid)),
                 layout="constrained")  # fmt: skip
    for r, (label, runs) in enumerate(grid):
        for c, run in enumerate(runs):
            ax = fig.add_subplot(len(grid), cols, r * cols + c + 1)
            ax.imshow(imread(sweep_dir / run["dir"] / relpath))
            reps = ", ".join(f"{k}={v}" for k, v in run["params"].items() if k in ("seed", "fold"))
            ax.set_title(f"{label}\n{reps}" if c == 0 else reps, fontsize=7)
            ax.set_axis_off()
    return save_fig(fig, path, dpi=90)


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
    headers = [first or "combination", *(_text(g["group"][first]) if first else g["label"] for g in groups)]
    rows = [[f, *(_text(g["group"][f]) for g in groups)] for f in rest]
    rows.append(["n (runs)", *(str(g["n"]) for g in groups)])
    rows += [[m, *(_cell(g, m) for g in groups)] for m in pick_metrics(summary["metrics"], metrics)]
    return headers, rows


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table (pipes in cells escaped)."""

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(headers), line(["---", *(["---:"] * (len(headers) - 1))]), *(line(r) for r in rows)])


def _table(summary: dict[str, Any]) -> str:
    """`sweep_table` as HTML: the swept fields' rows and `n` in the head, one row per metric in the body."""

    def row(cells: list[str], tag: str = "td") -> str:  # nowrap: keep "mean ± std" on one line
        return "<tr>" + "".join(f"<{tag} style='white-space:nowrap'>{html.escape(c)}</{tag}>" for c in cells) + "</tr>"

    headers, rows = sweep_table(summary)
    n_head = max(len(summary["swept"]), 1)  # the other swept fields' rows and the `n (runs)` row
    head = [row(headers, "th"), *(row(r, "th") for r in rows[:n_head])]
    body = [row(r) for r in rows[n_head:]]
    table = f"<table><thead>{''.join(head)}</thead><tbody>{''.join(body)}</tbody></table>"
    return f"<div style='overflow-x:auto'>{table}</div>"


def _body(summary: dict[str, Any], figures: list[tuple[str, Path]]) -> str:
    c = summary["counts"]
    reps = f"seeds {summary['seeds']}" + (f", {summary['folds']}-fold cross-validation" if summary["folds"] else "")
    parts = [
        f"<p class='note'>Sweep <code>{html.escape(summary['sweep_dir'])}</code> of "
        f"<code>{html.escape(summary['config_path'])}</code> {html.escape(' '.join(summary['overrides']))}; "
        f"{html.escape(reps)}. Runs: {c['planned']} planned, {c['done']} finished, {c['failed']} failed, "
        f"{c['pending']} pending. Mean ± sample standard deviation (ddof = 1) over the seeds and folds of each "
        "combination; n = finished runs.</p>",
        "<h2>Mean ± std per combination</h2>",
    ]
    parts.append(_table(summary))
    for heading, path in figures:
        parts += [f"<h2>{html.escape(heading)}</h2>", html.figure(path)]
    runs = [[r["name"], r["status"], r.get("seconds"), r.get("error") or ""] for r in summary["runs"]]
    parts += ["<h2>Runs</h2>", html.table(runs, ["run", "status", "seconds", "error"])]
    return "".join(parts)


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
                figures.append((f"Metrics against {field} (error bars: std over seeds/folds)", path))
        for i, (relpath, heading) in enumerate(MAP_FIGURES.items()):
            path = plot_maps(summary, root, relpath, tmp / "figures" / f"maps_{i}_{Path(relpath).stem}.png")
            if path is not None:
                figures.append((f"{heading}, per combination", path))
        (tmp / "compare.json").write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
        (tmp / "table.md").write_text(table + "\n", encoding="utf-8")
        html.write_page(tmp / "report.html", f"latentatlas sweep: {root.resolve().name}", _body(summary, figures))
    return out / "report.html"


__all__ = [
    "MAP_FIGURES",
    "group_label",
    "markdown_table",
    "plot_field",
    "plot_maps",
    "sweep_table",
    "write_sweep_page",
]
