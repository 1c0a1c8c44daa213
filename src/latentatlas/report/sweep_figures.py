"""The figures of a sweep page: each metric against each swept field (mean, std error bars), and the runs' own
pictures side by side per combination. Input is what `latentatlas.sweep.summarize_sweep` measured (a plain dict).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from matplotlib.image import imread

from latentatlas.report.figures import Figure, save_fig
from latentatlas.report.quantities import display_name

MAX_PANELS = 40  # metrics per field figure; a summary rarely has more, and the table holds them all anyway


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def value_text(value: Any) -> str:
    """A swept value as written: strings as they are, other values as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def group_label(group: dict[str, Any]) -> str:
    return ", ".join(f"{k}={value_text(v)}" for k, v in group.items()) or "all runs"


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
        ax.set_title(display_name(metric), fontsize=9)
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
