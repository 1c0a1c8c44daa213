"""Per-dimension statistics of a latent space: KL to the prior, unit activity, active units, silhouette."""

from __future__ import annotations

from typing import Any

import numpy as np

from latentatlas.analysis.spread import silhouette as exact_silhouette
from latentatlas.errors import DataError
from latentatlas.latentmaps.codec import to_numpy

__all__ = ["active_units", "kl_per_dimension", "silhouette", "unit_activity"]


def kl_per_dimension(mu: Any, logvar: Any) -> np.ndarray:
    """Mean over the data of KL(q(z_d|x) || N(0, 1)) per latent dim (Kingma & Welling 2014, appendix B).

    KL = 0.5 * (mu^2 + exp(logvar) - 1 - logvar). mu, logvar: (N, L) -> (L,) float64 nats.
    """
    m, lv = np.asarray(to_numpy(mu), np.float64), np.asarray(to_numpy(logvar), np.float64)
    if m.shape != lv.shape or m.ndim != 2:
        raise DataError(f"kl_per_dimension: mu and logvar must both be (N, L), got {m.shape} and {lv.shape}")
    return 0.5 * (m**2 + np.exp(lv) - 1.0 - lv).mean(axis=0)


def unit_activity(mu: Any) -> np.ndarray:
    """Variance over the data of each posterior-mean coordinate, Cov_x(E[z_d | x]): mu (N, L) -> (L,) float64."""
    return np.asarray(to_numpy(mu), np.float64).var(axis=0)


def active_units(mu: Any, threshold: float = 0.01) -> int:
    """Number of latent dims whose activity `unit_activity(mu)` exceeds `threshold` (Burda et al. 2016, IWAE)."""
    return int((unit_activity(mu) > threshold).sum())


def silhouette(x: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette (Rousseeuw 1987) with Euclidean distances: x (N, D), labels (N,) with >= 2 classes.

    The exact blockwise implementation of `latentatlas.analysis.spread.silhouette`, on the latent means.
    """
    labels = np.asarray(labels).astype(np.int64)
    if len(np.unique(labels)) < 2:
        raise DataError(f"silhouette: need at least 2 classes, got {len(np.unique(labels))}")
    return exact_silhouette(np.asarray(x, np.float64), labels, metric="euclidean")
