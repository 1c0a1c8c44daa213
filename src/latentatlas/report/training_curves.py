"""Training curves of a run: one panel per numeric column of its metrics.jsonl rows, against epoch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from latentatlas.report.figures import save_fig

__all__ = ["plot_training_curves"]


def _xaxis(rows: Sequence[Mapping[str, Any]]) -> str | None:
    return next((k for k in ("epoch", "step", "iteration") if any(k in r for r in rows)), None)


def plot_training_curves(rows: Sequence[Mapping[str, Any]], path: str | Path, max_panels: int = 6) -> Path | None:
    """One panel per numeric metric of `metrics.jsonl` rows against epoch (lines per `split` when rows have one).

    Returns None when the rows hold no numeric metric.
    """
    x_key = _xaxis(rows)
    skip = {x_key, "step", "epoch", "iteration", "time", "seconds", "elapsed", "lr"}
    keys = sorted(
        {
            k
            for r in rows
            for k, v in r.items()
            if k not in skip and isinstance(v, int | float) and not isinstance(v, bool)
        }
    )[:max_panels]
    if not keys:
        return None
    fig = Figure(figsize=(4.0 * min(len(keys), 3), 3.2 * int(np.ceil(len(keys) / 3))), layout="constrained")
    for k, key in enumerate(keys):
        ax = fig.add_subplot(int(np.ceil(len(keys) / 3)), min(len(keys), 3), k + 1)
        for split in sorted({str(r.get("split", "")) for r in rows}):
            pts = [(r.get(x_key, i) if x_key else i, r[key]) for i, r in enumerate(rows)
                   if key in r and str(r.get("split", "")) == split and r[key] is not None]  # fmt: skip
            if pts:
                ax.plot(*zip(*pts), marker="o", markersize=3, label=split or None)
        ax.set(xlabel=x_key or "row", title=key)
        if any("split" in r for r in rows):
            ax.legend(fontsize=8, frameon=False)
    return save_fig(fig, path)
