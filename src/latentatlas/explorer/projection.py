"""The 2-D map of the explorer: the raw plane when D = 2, exact PCA by default, UMAP when asked and installed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from latentatlas.analysis.ellipses import pca_2d
from latentatlas.errors import ConfigError, DataError

PROJECTIONS = ("auto", "pca", "umap", "raw")
UMAP_FIT_MAX = 50_000  # UMAP is fitted on a random sample of this many points; the others are transformed


@dataclass
class Projection:
    """coords: (N, 2) float32; description: one line for the page; note: how it was fitted, or ""."""

    coords: np.ndarray
    description: str
    note: str = ""


def project(x: Any, metric: str = "cosine", method: str = "auto", seed: int = 0) -> Projection:
    """Map (N, D) embeddings to the plane.

    Args:
        x: (N, D) float embeddings.
        metric: "cosine" normalizes the rows first (the map then shows directions, as the metric sees them).
        method: "auto" (raw when D = 2, else PCA), "pca", "umap" (umap-learn, optional) or "raw" (D = 2 only).
        seed: UMAP's random state and sample.
    """
    if method not in PROJECTIONS:
        raise ConfigError(f"projection: {method!r} is unknown; use one of {', '.join(PROJECTIONS)}")
    xt = torch.as_tensor(np.asarray(x, dtype=np.float32))
    d = xt.shape[1]
    if method == "raw" or (method == "auto" and d == 2):
        if d != 2:
            raise DataError(f"projection raw: embeddings have D = {d}; raw needs D = 2, use pca or umap")
        return Projection(xt.numpy().astype(np.float32, copy=False), "the embeddings' own plane (D = 2)")
    if metric == "cosine":
        xt = torch.nn.functional.normalize(xt, dim=1)
    what = "L2-normalized embeddings" if metric == "cosine" else "embeddings"
    if method == "umap":
        return _umap(xt.numpy(), what, seed)
    if d < 2:
        raise DataError(f"embeddings: D = {d}; a 2-D map needs D >= 2")
    pca = pca_2d(xt)
    ev = pca.explained_variance_ratio
    return Projection(
        pca.coords.astype(np.float32),
        f"PCA of the {what} (PC1 {ev[0]:.1%}, PC2 {ev[1]:.1%} of the variance)",
    )


def require_projection(method: str) -> None:
    """Raise a one-line ConfigError now (before slow work) when `method` needs a package that is missing."""
    if method == "umap":
        _import_umap()


def _import_umap():
    try:
        import umap  # optional extra: pip install 'latentatlas[umap]'
    except ImportError as exc:
        raise ConfigError(
            "--projection umap: umap-learn is not installed; pip install 'latentatlas[umap]' (the umap extra), "
            "or use --projection pca"
        ) from exc
    return umap


def _umap(x: np.ndarray, what: str, seed: int) -> Projection:
    umap = _import_umap()
    n = len(x)
    rng = np.random.default_rng(seed)
    fit_idx = np.sort(rng.choice(n, UMAP_FIT_MAX, replace=False)) if n > UMAP_FIT_MAX else np.arange(n)
    reducer = umap.UMAP(n_components=2, random_state=seed, n_jobs=1)
    fitted = reducer.fit_transform(x[fit_idx])
    if len(fit_idx) == n:
        return Projection(fitted.astype(np.float32), f"UMAP of the {what}")
    coords = np.empty((n, 2), dtype=np.float32)
    coords[fit_idx] = fitted
    rest = np.setdiff1d(np.arange(n), fit_idx)
    coords[rest] = reducer.transform(x[rest])
    note = f"UMAP was fitted on a random sample of {len(fit_idx):,} of the {n:,} points; the others are placed by it"
    return Projection(coords, f"UMAP of the {what}", note)
