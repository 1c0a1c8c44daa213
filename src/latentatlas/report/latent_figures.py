"""Figures of an AE/VAE latent space: scatter by factor, decoded grid and samples, morphs, reconstructions, KL.

Every figure is a PNG written atomically (`latentatlas.report.figures.save_fig`); the morph GIF is written by PIL
the same way. Decoded images are drawn dark ink on white, and each one the validity oracle judged is framed green
(valid) or red (invalid), so a reader sees where in the latent space the decoder stops drawing figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from latentatlas.data.shapes_config import FAMILIES
from latentatlas.latentmaps.grid import LatentGrid, pca_axes
from latentatlas.latentmaps.samples import SampleSet
from latentatlas.latentmaps.summary import LatentMaps
from latentatlas.report.figures import new_figure, save_fig

FIGURE_FILES: dict[str, str] = {
    "scatter": "latent_scatter.png",
    "pairs": "latent_pairs.png",
    "grid": "latent_grid.png",
    "samples": "prior_samples.png",
    "morph": "morph.png",
    "morph_gif": "morph.gif",
    "reconstructions": "reconstructions.png",
    "kl": "kl_per_dim.png",
}
_GREEN, _RED, _GREY = (0.10, 0.65, 0.20), (0.85, 0.10, 0.10), (0.80, 0.80, 0.80)
_TYPE_NAMES = ("I (standing)", "II (lying)")


def mosaic(images: np.ndarray, valid: np.ndarray | None = None, cols: int | None = None, frame: int = 2) -> np.ndarray:
    """Tile images (N, S, S) in [0, 1] (ink = 1) into an RGB mosaic, each framed by its verdict.

    Returns:
        (rows * (S + 2 * frame), cols * (S + 2 * frame), 3) float in [0, 1]; ink is dark on white, frames green
        (valid), red (invalid) or grey (`valid` None). Cells are in reading order.
    """
    images = np.asarray(images, dtype=np.float64)
    n, s = images.shape[0], images.shape[1]
    cols = cols or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    c = s + 2 * frame
    out = np.ones((rows * c, cols * c, 3))
    for k in range(n):
        r, q = divmod(k, cols)
        color = _GREY if valid is None else (_GREEN if valid[k] else _RED)
        out[r * c : (r + 1) * c, q * c : (q + 1) * c] = color
        out[r * c + frame : r * c + frame + s, q * c + frame : q * c + frame + s] = (1.0 - images[k])[..., None]
    return out


def _scatter_coords(mu: np.ndarray) -> tuple[np.ndarray, tuple[str, str]]:
    if mu.shape[1] == 1:
        return np.stack([mu[:, 0], np.zeros(len(mu))], 1), ("z1", "(one latent dim)")
    if mu.shape[1] == 2:
        return mu.astype(np.float64), ("z1", "z2")
    mean, axes = pca_axes(mu)
    return (mu - mean) @ axes[:2].T, ("PC1 of the latent means", "PC2")


def plot_latent_scatter(mu: np.ndarray, factors: dict[str, np.ndarray], path: str | Path) -> Path:
    """Training latents mu (N, L) coloured by type, height, radius (and family when several); PCA plane for L > 2."""
    coords, labels = _scatter_coords(np.asarray(mu))
    panels = [k for k in ("orientation", "height", "radius") if k in factors]
    if "family" in factors and len(np.unique(factors["family"])) > 1:
        panels.append("family")
    fig = Figure(figsize=(4.2 * len(panels), 4.0), layout="constrained")
    for k, key in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), k + 1)
        values = np.asarray(factors[key])
        if key in ("orientation", "family"):
            names = _TYPE_NAMES if key == "orientation" else FAMILIES
            for code in np.unique(values):
                sel = values == code
                ax.scatter(coords[sel, 0], coords[sel, 1], s=6, alpha=0.6, linewidths=0, label=names[int(code)])
            ax.legend(fontsize=8, markerscale=2, frameon=False)
        else:
            points = ax.scatter(coords[:, 0], coords[:, 1], c=values, s=6, cmap="viridis", linewidths=0)
            fig.colorbar(points, ax=ax, label=f"{key} (px)")
        ax.set(xlabel=labels[0], ylabel=labels[1], title="type" if key == "orientation" else key)
    return save_fig(fig, path)


def plot_latent_pairs(mu: np.ndarray, types: np.ndarray, path: str | Path, max_dims: int = 4) -> Path:
    """Pairwise panels of the first `max_dims` latent dims, coloured by type (for L > 2)."""
    mu, types = np.asarray(mu), np.asarray(types)
    d = min(mu.shape[1], max_dims)
    fig = Figure(figsize=(2.6 * d, 2.6 * d), layout="constrained")
    for i in range(d):
        for j in range(d):
            ax = fig.add_subplot(d, d, i * d + j + 1)
            if i == j:
                ax.hist([mu[types == t, i] for t in np.unique(types)], bins=30, stacked=True)
            else:
                for t in np.unique(types):
                    ax.scatter(mu[types == t, j], mu[types == t, i], s=3, alpha=0.5, linewidths=0)
            ax.set(xlabel=f"z{j + 1}" if i == d - 1 else "", ylabel=f"z{i + 1}" if j == 0 else "")
    return save_fig(fig, path)


def plot_grid(grid: LatentGrid, path: str | Path) -> Path:
    """The decoded grid as a mosaic on latent axes: ticks give each cell's coordinates, frames the verdicts."""
    n_rows, n_cols = len(grid.ys), len(grid.xs)
    if n_rows == 1:  # L = 1: a line of n*n points shown in reading order
        n_cols = int(np.ceil(np.sqrt(len(grid.xs))))
    valid = np.asarray(grid.scores.valid)
    image = mosaic(grid.probs, valid, cols=n_cols)
    if len(grid.ys) > 1:  # row i holds ys[i]: put the highest y on top, as on a plot
        c = image.shape[0] // n_rows
        image = np.concatenate([image[r * c : (r + 1) * c] for r in reversed(range(n_rows))])
    fig, ax = new_figure(8.0, 8.0)
    ax.imshow(image, interpolation="nearest")
    c = image.shape[1] / n_cols
    if len(grid.ys) > 1:
        ax.set_xticks((np.arange(n_cols) + 0.5) * c, labels=[f"{v:.2g}" for v in grid.xs], rotation=90)
        ax.set_yticks((np.arange(n_rows) + 0.5) * c, labels=[f"{v:.2g}" for v in grid.ys[::-1]])
        ax.set(xlabel=grid.axis_labels[0], ylabel=grid.axis_labels[1])
    else:
        ax.set(xticks=[], yticks=[], xlabel=f"{grid.axis_labels[0]} from {grid.xs[0]:.2g} to {grid.xs[-1]:.2g}")
    ax.set_title(f"decoded grid ({grid.kind}): {valid.mean():.0%} valid (green) / invalid (red)")
    return save_fig(fig, path)


def plot_samples(samples: SampleSet, path: str | Path, n_show: int = 64, title: str = "prior samples") -> Path:
    """The first `n_show` decoded samples with their verdicts."""
    valid = np.asarray(samples.scores.valid)
    fig, ax = new_figure(7.0, 7.0)
    ax.imshow(mosaic(samples.probs[:n_show], valid[:n_show]), interpolation="nearest")
    ax.set(xticks=[], yticks=[], title=f"{title}: {valid.mean():.0%} of {len(valid)} valid")
    return save_fig(fig, path)


def plot_morph(frames: dict[str, np.ndarray], example: dict[str, Any], path: str | Path) -> Path:
    """Morph strips (one row per mode) with per-frame verdicts, and the oracle's height/radius along the path."""
    modes = [m for m in ("lerp", "slerp") if m in frames]
    fig = Figure(figsize=(10.0, 2.0 * len(modes) + 3.2), layout="constrained")
    spec = fig.add_gridspec(len(modes) + 1, 1, height_ratios=[1.0] * len(modes) + [1.8])
    for k, mode in enumerate(modes):
        m = example[mode]
        ax = fig.add_subplot(spec[k])
        ax.imshow(mosaic(frames[mode], m.valid, cols=len(frames[mode])), interpolation="nearest")
        ax.set(xticks=[], yticks=[])
        ax.set_ylabel(mode, rotation=0, ha="right", va="center")
        ax.set_title(f"{mode}: validity {m.validity:.0%}, smoothness {m.smoothness:.2f}, "
                     f"monotonicity {m.monotonicity:.0%}", fontsize=9)  # fmt: skip
    ax = fig.add_subplot(spec[-1])
    for mode, style in zip(modes, ("-", "--")):
        m = example[mode]
        ax.plot(m.height, style, marker="o", color="tab:blue", label=f"height ({mode})")
        ax.plot(m.radius, style, marker="s", color="tab:orange", label=f"radius ({mode})")
    steps = len(frames[modes[0]]) - 1
    for key, color in (("height", "tab:blue"), ("radius", "tab:orange")):
        ax.plot([0, steps], [example["start"][key], example["end"][key]], ":", color=color, alpha=0.6)
    ax.set(xlabel="morph step", ylabel="recovered by the oracle (px)")
    ax.legend(fontsize=8, ncol=2, frameon=False)
    return save_fig(fig, path)


def write_morph_gif(frames: np.ndarray, path: str | Path, scale: int = 3, duration_ms: int = 120) -> Path:
    """An animated GIF of frames (T, S, S) in [0, 1], played forward then back, looping forever."""
    path = Path(path)
    gray = (255 * (1.0 - np.clip(np.asarray(frames), 0, 1))).astype(np.uint8)
    seq = list(gray) + list(gray[-2:0:-1])  # ping-pong so the loop has no jump
    images = [Image.fromarray(f).resize((f.shape[1] * scale, f.shape[0] * scale), Image.NEAREST) for f in seq]
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=duration_ms, loop=0)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def plot_reconstructions(inputs: np.ndarray, outputs: np.ndarray, path: str | Path) -> Path:
    """Held-out inputs (top row) above their reconstructions (bottom row)."""
    n = len(inputs)
    fig, ax = new_figure(max(4.0, 1.1 * n), 2.8)
    ax.imshow(mosaic(np.concatenate([inputs, outputs]), None, cols=n), interpolation="nearest")
    ax.set(xticks=[], yticks=[], title="held-out inputs (top) and reconstructions (bottom)")
    return save_fig(fig, path)


def plot_kl(kl: np.ndarray, path: str | Path) -> Path:
    """Bar chart of the mean KL(q(z_d|x) || N(0, 1)) per latent dim, in nats."""
    kl = np.asarray(kl)
    fig, ax = new_figure(max(4.0, 0.5 * len(kl) + 2), 3.2)
    ax.bar([f"z{d + 1}" for d in range(len(kl))], kl, color="tab:purple")
    ax.set(ylabel="mean KL to N(0, 1) (nats)", title=f"KL per latent dim (total {kl.sum():.2f} nats)")
    return save_fig(fig, path)


def write_latent_figures(maps: LatentMaps, fig_dir: str | Path) -> dict[str, Path]:
    """Write every figure of `maps` into `fig_dir`; returns {key: path} with keys of `FIGURE_FILES`."""
    fig_dir = Path(fig_dir)
    fig_dir.mkdir(parents=True, exist_ok=True)
    out = {"scatter": plot_latent_scatter(maps.train_mu, maps.train_factors, fig_dir / FIGURE_FILES["scatter"])}
    if maps.train_mu.shape[1] > 2 and "orientation" in maps.train_factors:
        out["pairs"] = plot_latent_pairs(
            maps.train_mu, maps.train_factors["orientation"], fig_dir / FIGURE_FILES["pairs"]
        )
    out["grid"] = plot_grid(maps.grid, fig_dir / FIGURE_FILES["grid"])
    title = "prior samples z ~ N(0, I)" if maps.variational else "samples uniform in the training box"
    out["samples"] = plot_samples(maps.samples, fig_dir / FIGURE_FILES["samples"], title=title)
    out["morph"] = plot_morph(maps.morph_frames, maps.morph_example, fig_dir / FIGURE_FILES["morph"])
    gif_frames = maps.morph_frames.get("slerp" if maps.variational else "lerp")
    out["morph_gif"] = write_morph_gif(gif_frames, fig_dir / FIGURE_FILES["morph_gif"])
    recon = plot_reconstructions(maps.recon_inputs, maps.recon_outputs, fig_dir / FIGURE_FILES["reconstructions"])
    out["reconstructions"] = recon
    if maps.kl_per_dim is not None:
        out["kl"] = plot_kl(maps.kl_per_dim, fig_dir / FIGURE_FILES["kl"])
    return out


def plot_family_morph(fm: Any, path: str | Path) -> Path:
    """The cylinder -> capsule -> sphere path: frames framed by validity, the family the oracle sees under each."""
    n = len(fm.frames)
    fig, ax = new_figure(max(8.0, 0.62 * n), 2.6)
    ax.imshow(mosaic(fm.frames, fm.valid, cols=n), interpolation="nearest")
    cell = fm.frames.shape[1] + 4
    ax.set_xticks([cell * (k + 0.5) for k in range(n)])
    ax.set_xticklabels(fm.families, rotation=60, fontsize=7)
    ax.set_yticks([])
    for k, name in zip(fm.waypoints, fm.names):
        ax.annotate(name, (cell * (k + 0.5), -2), ha="center", va="bottom", fontsize=9, annotation_clip=False)
    ax.set_title(f"path {' -> '.join(fm.names)}: {np.mean(fm.valid):.0%} of frames valid "
                 "(label = family the oracle recognizes)", fontsize=9, pad=16)  # fmt: skip
    return save_fig(fig, path)
