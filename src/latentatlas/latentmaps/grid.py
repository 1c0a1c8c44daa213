"""The decoded latent grid: an n x n grid in a 2-D plane of the latent space, decoded and judged by the oracle.

Seed 004's pictures of the AE's and the VAE's latent planes; `empty_cell_fraction` measures its "holes".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from latentatlas.errors import ConfigError, DataError
from latentatlas.latentmaps.codec import decode_latents

__all__ = ["LatentGrid", "empty_cell_fraction", "latent_grid", "pca_axes", "prior_quantiles"]


def prior_quantiles(n: int) -> np.ndarray:
    """Normal inverse CDF at (i + 0.5) / n, i = 0..n-1: (n,) float64, finite and symmetric about 0."""
    p = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    return torch.special.ndtri(p).numpy()


def pca_axes(train_mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (L,) and principal axes (L, L) of the latents, rows by decreasing variance, signs made deterministic."""
    x = np.asarray(train_mu, dtype=np.float64)
    mean = x.mean(axis=0)
    eigval, eigvec = np.linalg.eigh(np.cov(x - mean, rowvar=False).reshape(x.shape[1], x.shape[1]))
    axes = eigvec[:, np.argsort(eigval)[::-1]].T  # (L, L)
    signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
    return mean, axes * signs[:, None]


@dataclass
class LatentGrid:
    """A regular n x n grid in a 2-D plane of the latent space, decoded and scored.

    Cell (i, j) (row i, column j) sits at `origin + xs[j] * directions[0] + ys[i] * directions[1]`, i.e. at
    index `i * n + j` of `z`, `probs` and the oracle scores. For L = 1 the grid is n * n points along the axis
    (`ys` is `[0]`).
    """

    z: np.ndarray  # (n*n, L) float64
    xs: np.ndarray  # (n,) plane coordinates along directions[0]
    ys: np.ndarray  # (n,) plane coordinates along directions[1]
    edges_x: np.ndarray  # (n+1,) cell boundaries used to count empty cells
    edges_y: np.ndarray  # (n+1,)
    origin: np.ndarray  # (L,)
    directions: np.ndarray  # (2, L) orthonormal
    axis_labels: tuple[str, str]
    kind: str  # "prior quantiles" or "bounding box"
    probs: np.ndarray = field(repr=False)  # (n*n, S, S) float32
    scores: Any = field(repr=False)  # OracleScores

    @property
    def validity(self) -> float:
        return float(np.mean(self.scores.valid))

    def plane_coords(self, mu: np.ndarray) -> np.ndarray:
        """Coordinates of latents mu (N, L) in the grid's plane: (N, 2)."""
        return (np.asarray(mu, dtype=np.float64) - self.origin) @ self.directions.T


def _grid_plane(model: torch.nn.Module, n: int, train_mu: np.ndarray | None) -> dict[str, Any]:
    latent_dim = int(model.latent_dim)
    origin = np.zeros(latent_dim)
    directions = np.eye(max(latent_dim, 2))[:2, :latent_dim]
    if model.variational:
        # Prior quantiles: every cell carries the same prior mass 1/n^2, and no coordinate is infinite.
        count = n * n if latent_dim == 1 else n
        xs = prior_quantiles(count)
        edges = torch.special.ndtri(torch.arange(count + 1, dtype=torch.float64) / count).numpy()
        return dict(xs=xs, edges_x=edges, origin=origin, directions=directions, kind="prior quantiles",
                    labels=("z1", "z2"))  # fmt: skip
    if train_mu is None:
        raise ConfigError("latent grid of a deterministic AE: pass train_mu (the training latents) to set its box")
    mu = np.asarray(train_mu, dtype=np.float64)
    if mu.ndim != 2 or mu.shape[1] != latent_dim or len(mu) < 2:
        raise DataError(f"train_mu: need (N >= 2, {latent_dim}) training latents, got shape {mu.shape}")
    labels = ("z1", "z2")
    if latent_dim > 2:  # the top-2 PCA plane, the other principal coordinates at their median
        mean, axes = pca_axes(mu)
        rest = np.median((mu - mean) @ axes[2:].T, axis=0)
        origin, directions, labels = mean + rest @ axes[2:], axes[:2], ("PC1", "PC2")
    coords = (mu - origin) @ directions.T
    count = n * n if latent_dim == 1 else n
    xs = np.linspace(coords[:, 0].min(), coords[:, 0].max(), count)
    out = dict(xs=xs, edges_x=np.linspace(xs[0], xs[-1], count + 1), origin=origin, directions=directions,
               kind="bounding box", labels=labels)  # fmt: skip
    if latent_dim > 1:
        out["ys"] = np.linspace(coords[:, 1].min(), coords[:, 1].max(), n)
        out["edges_y"] = np.linspace(out["ys"][0], out["ys"][-1], n + 1)
    return out


def latent_grid(
    model: torch.nn.Module, oracle: Any, n: int = 10, train_mu: np.ndarray | None = None, batch_size: int = 256
) -> LatentGrid:
    """Decode and score an n x n grid of latents.

    VAE: prior quantiles on each axis (first two latent dims, others at the prior median 0). AE: the bounding box
    of the training latents `train_mu (N, L)` from corner to corner (for L > 2 in the top-2 PCA plane).
    """
    if n < 2:
        raise ConfigError(f"grid_n: {n} is too small; use at least 2 cells per side")
    p = _grid_plane(model, n, train_mu)
    xs, ys = p["xs"], p.get("ys", p["xs"] if model.latent_dim > 1 else np.zeros(1))
    edges_y = p.get("edges_y", p["edges_x"] if model.latent_dim > 1 else np.array([-np.inf, np.inf]))
    gy, gx = np.meshgrid(ys, xs, indexing="ij")  # (n, n): row i holds ys[i]
    plane = np.stack([gx.ravel(), gy.ravel()], axis=1)  # (n*n, 2)
    z = p["origin"] + plane @ p["directions"]
    probs = decode_latents(model, z, batch_size)
    return LatentGrid(z, xs, ys, p["edges_x"], edges_y, p["origin"], p["directions"], p["labels"], p["kind"],
                      probs, oracle.score(probs))  # fmt: skip


def empty_cell_fraction(grid: LatentGrid, mu: np.ndarray) -> float:
    """Share of the grid's cells (between `edges_x`, `edges_y`) that hold none of the latents mu (N, L).

    The seed's "holes" in the AE latent: for a VAE the cells have equal prior mass, so an aggregate posterior that
    matches the prior leaves few empty; for an AE the cells split the training box evenly.
    """
    c = grid.plane_coords(mu)
    ix = np.clip(np.searchsorted(grid.edges_x, c[:, 0], side="right") - 1, 0, len(grid.edges_x) - 2)
    iy = np.clip(np.searchsorted(grid.edges_y, c[:, 1], side="right") - 1, 0, len(grid.edges_y) - 2)
    occupied = np.zeros((len(grid.edges_y) - 1, len(grid.edges_x) - 1), dtype=bool)
    occupied[iy, ix] = True
    return float(1.0 - occupied.mean())
