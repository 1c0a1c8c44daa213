"""Shared matplotlib helpers: the Agg backend, atomic saving, heatmaps, scatters with ellipses, histograms.

Figures are built with `matplotlib.figure.Figure` rather than pyplot: no global figure registry to leak and
no GUI needed, so the helpers work the same in scripts, tests and notebooks. Each plotting helper draws on a
given `Axes`, so callers compose panels freely; `new_figure` and `save_fig` wrap the common case.
"""

from __future__ import annotations

import base64
import io
import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib

if "matplotlib.pyplot" not in sys.modules:  # do not override a backend the user already chose (e.g. Jupyter)
    matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402
from matplotlib.patches import Ellipse  # noqa: E402

__all__ = ["SCATTER_MAX", "class_colors", "class_figure_size", "heatmap", "histogram", "new_figure", "save_fig",
           "scatter_with_ellipses"]  # fmt: skip

SCATTER_MAX = 5000  # points a scatter draws at most (a seeded random subset above; captions say so)
LEGEND_MAX = 20  # classes named in a scatter's legend
TICKS_MAX = 60  # class names on a heatmap axis (evenly spaced ones above)
FIGURE_MAX = 16.0  # inches: per-class figures stop growing (a 1,000-class matrix stays a readable picture)


def class_figure_size(c: int, per: float, extra_w: float, extra_h: float) -> tuple[float, float]:
    """(width, height) in inches of a figure with one row/column per class, growing with c up to FIGURE_MAX."""
    return min(FIGURE_MAX, max(5.5, per * c + extra_w)), min(FIGURE_MAX - 1, max(4.5, per * c + extra_h))


def new_figure(width: float = 6.4, height: float = 4.8) -> tuple[Figure, Axes]:
    """A figure (inches) with one set of axes and a tight layout."""
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def save_fig(fig: Figure, path: str | Path, dpi: int = 110) -> Path:
    """Save `fig` atomically (temporary file in the same folder, then rename); format from the suffix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".") or "png")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def png_uri(fig: Figure, dpi: int = 80) -> str:
    """`fig` as a PNG `data:` URI, made in memory (notebook views)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def class_colors(n: int) -> list[tuple[float, float, float, float]]:
    """n distinguishable RGBA colours: tab10 up to 10 classes, tab20 up to 20, then evenly spaced hues."""
    if n <= 10:
        return [matplotlib.colormaps["tab10"](i) for i in range(n)]
    if n <= 20:
        return [matplotlib.colormaps["tab20"](i) for i in range(n)]
    return [matplotlib.colormaps["hsv"](i / n) for i in range(n)]


def heatmap(
    ax: Axes,
    matrix: np.ndarray,
    row_names: Sequence[str],
    col_names: Sequence[str] | None = None,
    cbar_label: str = "",
    cmap: str = "viridis",
    annotate: bool | None = None,
    fmt: str = ".2f",
) -> AxesImage:
    """Draw `matrix` (R, C) with names on both axes, values in the cells and a labelled colour bar.

    Args:
        annotate: write each value in its cell; default when the matrix has at most 20 x 20 cells.
        cbar_label: what the colour encodes; name the actual quantity (e.g. "cosine distance (1 - cos)").
    """
    m = np.asarray(matrix, dtype=float)
    col_names = row_names if col_names is None else col_names
    if m.shape != (len(row_names), len(col_names)):
        raise ValueError(f"matrix shape {m.shape} does not match {len(row_names)} x {len(col_names)} names")
    image = ax.imshow(m, cmap=cmap, aspect="auto", interpolation="nearest")
    cols, rows = _ticks(len(col_names)), _ticks(len(row_names))
    ax.set_xticks(cols, labels=[col_names[i] for i in cols], rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(rows, labels=[row_names[i] for i in rows])
    cbar = ax.figure.colorbar(image, ax=ax)
    cbar.set_label(cbar_label)
    if annotate if annotate is not None else max(m.shape) <= 20:
        lo, hi = np.nanmin(m), np.nanmax(m)
        mid = (lo + hi) / 2
        for (i, j), v in np.ndenumerate(m):
            # Dark text on the bright half of viridis, light text on the dark half, for contrast.
            color = "black" if v > mid else "white"
            ax.text(j, i, format(v, fmt), ha="center", va="center", color=color, fontsize=8)
    return image


def _ticks(n: int) -> list[int]:
    """Indices of the names an axis of n classes shows: all up to TICKS_MAX, else TICKS_MAX evenly spaced."""
    return list(range(n)) if n <= TICKS_MAX else sorted({int(i) for i in np.linspace(0, n - 1, TICKS_MAX)})


def scatter_with_ellipses(
    ax: Axes,
    coords: np.ndarray,
    labels: np.ndarray,
    names: Sequence[str],
    ellipses: Sequence[tuple[Sequence[float], Sequence[float], float] | None] | None = None,
    max_points: int = SCATTER_MAX,
    seed: int = 0,
) -> None:
    """Scatter 2-D points coloured by class, with one ellipse per class and a legend.

    Args:
        coords: (N, 2) float points.
        labels: (N,) int class codes 0..C-1 into `names`.
        ellipses: per class `(center (2,), semi_axes (2,), angle_deg)` or None (no ellipse); `semi_axes[0]`
            lies along `angle_deg`, counter-clockwise from the x axis, as in matplotlib's `Ellipse`.
        max_points: draw a seeded random subset of that many points (the ellipses still describe all of them).
            The legend names the first LEGEND_MAX classes.
    """
    coords, labels = np.asarray(coords, dtype=float), np.asarray(labels)
    shown = np.arange(len(coords))
    if len(shown) > max_points:
        shown = np.sort(np.random.default_rng(seed).choice(len(shown), max_points, replace=False))
    colors = class_colors(len(names))
    size = max(2.0, min(20.0, 4000 / max(len(shown), 1)))
    for c, name in enumerate(names):
        idx = shown[labels[shown] == c]
        label = name if c < LEGEND_MAX else None
        ax.scatter(coords[idx, 0], coords[idx, 1], s=size, color=colors[c], alpha=0.55, linewidths=0, label=label)
        if ellipses is not None and ellipses[c] is not None:
            center, semi, angle = ellipses[c]
            ax.add_patch(
                Ellipse(
                    (float(center[0]), float(center[1])), 2 * float(semi[0]), 2 * float(semi[1]),
                    angle=float(angle), fill=False, edgecolor=colors[c], linewidth=1.8 if len(names) <= 50 else 0.6,
                )
            )  # fmt: skip
            ax.plot(float(center[0]), float(center[1]), marker="+", color=colors[c], markersize=9)
    title = f"first {LEGEND_MAX} of {len(names):,} classes" if len(names) > LEGEND_MAX else None
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, markerscale=2, frameon=False, title=title)


def histogram(ax: Axes, counts: Sequence[float], edges: Sequence[float], xlabel: str, ylabel: str = "count") -> None:
    """Draw precomputed histogram `counts` (B,) over bin `edges` (B + 1,)."""
    counts, edges = np.asarray(counts, dtype=float), np.asarray(edges, dtype=float)
    if len(edges) != len(counts) + 1:
        raise ValueError(f"{len(counts)} counts need {len(counts) + 1} edges, got {len(edges)}")
    ax.stairs(counts, edges, fill=True, alpha=0.75)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
