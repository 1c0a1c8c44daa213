"""The training curves that matter, from a run's metrics.jsonl rows (one dict per epoch).

- `plot_selection`: the validation metric that selects the best checkpoint, per epoch, the chosen epoch marked;
- `plot_losses`: training and validation loss on one chart, and each loss term (reconstruction, KL, triplet,
  KoLeo) only where it says something the total does not: a term equal to its total at every epoch (the triplet
  loss with KoLeo off) or 0 at every epoch (the KL of a plain AE) is not drawn;
- `plot_epoch_times`: seconds per epoch, for a details section.
Each returns `Curves(path, series)`: the PNG written (None when there is nothing to draw) and the keys drawn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator

from latentatlas.report.figures import Figure, save_fig
from latentatlas.report.quantities import display_name, format_value

LOSS_TERMS = ("recon", "kl", "triplet", "koleo")  # parts of the total loss that metrics.jsonl records
Rows = Sequence[Mapping[str, Any]]


@dataclass
class Curves:
    """A chart written from metrics.jsonl rows: `path` (None when nothing was drawn), the keys it draws, and the
    (epoch, value) it marks as kept (selection charts)."""

    path: Path | None
    series: list[str] = field(default_factory=list)
    marked: tuple[int, float] | None = None


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def series(rows: Rows, key: str) -> tuple[np.ndarray, np.ndarray]:
    """(epochs, values) of `key` over the rows that hold a finite number for it; epoch = row's `epoch` or 1-based
    row number."""
    pts = [(float(r.get("epoch", i + 1)), float(r[key])) for i, r in enumerate(rows) if _number(r.get(key))]
    return (np.array([p[0] for p in pts]), np.array([p[1] for p in pts])) if pts else (np.zeros(0), np.zeros(0))


def chosen_epoch(rows: Rows, metric: str, mode: str) -> tuple[int, float] | None:
    """(epoch, value) of the checkpoint the loop keeps: the first epoch of the best value (later ties do not
    replace it, as in `train.loop`), `mode` "max" or "min"; None when the metric is never a number."""
    best: tuple[int, float] | None = None
    for epoch, value in zip(*series(rows, metric)):
        if best is None or (value > best[1] if mode == "max" else value < best[1]):
            best = (int(epoch), float(value))
    return best


def plot_selection(rows: Rows, metric: str, mode: str, path: str | Path) -> Curves:
    """The checkpoint-selecting metric per epoch, the chosen epoch marked with its value."""
    x, y = series(rows, metric)
    best = chosen_epoch(rows, metric, mode)
    if best is None:
        return Curves(None)
    fig = Figure(figsize=(6.0, 3.6), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(x, y, marker="o", markersize=3, label=display_name(metric))
    ax.axvline(best[0], color="#888", linestyle=":", linewidth=1)
    ax.plot(
        [best[0]],
        [best[1]],
        marker="*",
        markersize=13,
        color="#d2352b",
        linestyle="none",
        label=f"kept: epoch {best[0]}, {format_value(metric, best[1])}",
    )
    ax.set(xlabel="epoch", ylabel=display_name(metric), title=f"{display_name(metric)}: selects the checkpoint")
    ax.legend(fontsize=8, frameon=False)
    _integer_epochs(fig)
    return Curves(save_fig(fig, path), [metric], best)


def _integer_epochs(fig: Figure) -> None:
    for ax in fig.axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _differs(rows: Rows, term: str, total: str) -> bool:
    """Whether `term` is not 0 throughout and differs from `total` at some epoch where both are recorded."""
    _, t = series(rows, term)
    if len(t) == 0 or np.all(np.abs(t) <= 1e-12):
        return False
    pairs = [(float(r[term]), float(r[total])) for r in rows if _number(r.get(term)) and _number(r.get(total))]
    return not pairs or not all(math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9) for a, b in pairs)


def loss_series(rows: Rows) -> tuple[list[str], list[str]]:
    """The totals (`train_loss`, `val_loss`) recorded, and the loss terms worth drawing next to them."""
    keys = {k for r in rows for k in r}
    totals = [f"{p}loss" for p in ("train_", "val_") if f"{p}loss" in keys]
    terms = [
        f"{p}{t}"
        for t in LOSS_TERMS
        for p in ("train_", "val_")
        if f"{p}{t}" in keys and _differs(rows, f"{p}{t}", f"{p}loss")
    ]
    return totals, terms


def plot_losses(rows: Rows, path: str | Path) -> Curves:
    """Training and validation loss on one chart; a second panel with the loss terms that differ from the total."""
    totals, terms = loss_series(rows)
    if not totals and not terms:
        return Curves(None)
    fig = Figure(figsize=(11.0 if terms else 6.0, 3.6), layout="constrained")
    ax = fig.add_subplot(1, 2 if terms else 1, 1)
    for key in totals:
        ax.plot(
            *series(rows, key),
            marker="o",
            markersize=3,
            label=display_name(key),
            linestyle="-" if key.startswith("train_") else "--",
        )
    ax.set(xlabel="epoch", ylabel="loss", title="Loss")
    ax.legend(fontsize=8, frameon=False)
    if terms:
        ax2 = fig.add_subplot(1, 2, 2)
        colors = {t: f"C{i}" for i, t in enumerate(LOSS_TERMS)}
        for key in terms:
            term = key.split("_", 1)[1]
            ax2.plot(
                *series(rows, key),
                marker="o",
                markersize=3,
                color=colors[term],
                label=display_name(key),
                linestyle="-" if key.startswith("train_") else "--",
            )
        values = np.concatenate([series(rows, k)[1] for k in terms])
        if values.min() > 0 and values.max() / values.min() >= 20:
            ax2.set_yscale("log")  # e.g. reconstruction in hundreds of nats, KL in units
        ax2.set(xlabel="epoch", title="Loss terms")
        ax2.legend(fontsize=8, frameon=False)
    _integer_epochs(fig)
    return Curves(save_fig(fig, path), totals + terms)


def plot_epoch_times(rows: Rows, path: str | Path) -> Curves:
    """Seconds per epoch as bars (training and validation together)."""
    x, y = series(rows, "epoch_time_s")
    if len(x) == 0:
        return Curves(None)
    fig = Figure(figsize=(6.0, 3.0), layout="constrained")
    ax = fig.add_subplot()
    ax.bar(x, y, width=0.8, color="#4a7ab5")
    ax.set(xlabel="epoch", ylabel="seconds", title=f"{display_name('epoch_time_s')} (mean {y.mean():.1f} s)")
    _integer_epochs(fig)
    return Curves(save_fig(fig, path), ["epoch_time_s"])
