"""Figures of disentanglement: latent traversals (one row per latent dim, each decoded frame framed green (valid)
or red) and the factor x latent mutual-information heatmap.

Each row is labelled with its dim, the factor it is most informative about (and that score) and its share of
valid frames; the x axis gives the swept coordinate (prior std for a VAE, code units for an AE).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from latentatlas.latentmaps.disentanglement.traversal import Traversal
from latentatlas.report.figures import heatmap, new_figure, save_fig
from latentatlas.report.latent_figures import mosaic

TRAVERSAL_FILE = "latent_traversals.png"
INFORMATION_FILE = "factor_latent_information.png"


def row_label(traversal: Traversal, d: int) -> str:
    """`z3: height (0.62)` or `z3: no factor`, then the dim's share of valid frames."""
    factor = traversal.factors[d]
    if factor is None:
        name = "no factor"
    else:
        name = factor if traversal.info is None else f"{factor} ({traversal.info[d]:.2f})"
    return f"z{d + 1}: {name}\n{traversal.validity[d]:.0%} valid"


def plot_traversals(traversal: Traversal, path: str | Path, frame: int = 2) -> Path:
    """Write the traversal mosaic (rows = latent dims, columns = frames) as a PNG; returns the path."""
    n_dims, steps = traversal.values.shape
    size = traversal.probs.shape[-1]
    cell = size + 2 * frame
    fig = Figure(figsize=(1.0 + 0.75 * steps, 0.3 + 0.8 * n_dims), layout="constrained")
    ax = fig.add_subplot()
    flat = traversal.probs.reshape(n_dims * steps, size, size)
    ax.imshow(mosaic(flat, traversal.valid.ravel(), cols=steps, frame=frame), interpolation="nearest")
    ax.set_yticks([cell * (d + 0.5) for d in range(n_dims)], labels=[row_label(traversal, d) for d in range(n_dims)])
    ax.tick_params(axis="y", labelsize=8, length=0)
    if traversal.kind == "prior":  # every row sweeps the same prior range
        ax.set_xticks([cell * (t + 0.5) for t in range(steps)], labels=[f"{v:.2g}" for v in traversal.values[0]])
        ax.set_xlabel("traversed coordinate (prior std); other coordinates at the mean code", fontsize=8)
    else:
        ax.set_xticks([])
        span = f"{traversal.span:g}"
        ax.set_xlabel(f"traversed coordinate from mean - {span} std to mean + {span} std of the codes", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title(f"latent traversals: {np.mean(traversal.valid):.0%} of frames valid (green) / invalid (red)",
                 fontsize=9)  # fmt: skip
    return save_fig(fig, path)


def factor_latent_information_figure(
    matrix: np.ndarray, factor_names: Sequence[str], title: str = "normalized mutual information"
) -> Figure:
    """Heatmap of a factor x latent matrix (K, L), e.g. MIG's mutual information over factor entropy."""
    m = np.asarray(matrix, dtype=float)
    fig, ax = new_figure(3.0 + 0.55 * m.shape[1], 1.4 + 0.45 * m.shape[0])
    heatmap(ax, m, list(factor_names), [f"z{j + 1}" for j in range(m.shape[1])], cbar_label=title)
    ax.set(xlabel="latent dimension", ylabel="factor")
    return fig


def plot_factor_latent_information(
    matrix: np.ndarray, factor_names: Sequence[str], path: str | Path, title: str = "normalized mutual information"
) -> Path:
    """`factor_latent_information_figure` written as a PNG; returns the path."""
    return save_fig(factor_latent_information_figure(matrix, factor_names, title), path)
