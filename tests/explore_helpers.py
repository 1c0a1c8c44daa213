"""Tiny data for the explorer tests: labelled clusters, a renderer-based decoder whose validity is known, and a
brute-force NumPy k-NN to compare the explorer's neighbours with."""

from __future__ import annotations

import numpy as np

from latentatlas.data.oracle import ValidityOracle
from latentatlas.data.shapes import render

CLASS_NAMES = ["ant", "bee", "cat", "dog"]


def labelled(rng: np.random.Generator, n: int = 600, d: int = 12, c: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """(n, d) float32 embeddings in c shifted clusters and their (n,) labels."""
    labels = rng.integers(0, c, size=n)
    x = rng.normal(size=(n, d)) + 2.5 * np.eye(c, d)[labels]
    return x.astype(np.float32), labels


def brute_knn(x: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Every point's k nearest others in float64, ties by index: (N, k) indices and distances."""
    x = x.astype(np.float64)
    if metric == "cosine":
        u = x / np.linalg.norm(x, axis=1, keepdims=True)
        d = 1.0 - u @ u.T
    else:
        d = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
        d = d if metric == "sqeuclidean" else np.sqrt(d)
    np.fill_diagonal(d, np.inf)
    idx = np.argsort(d, axis=1, kind="stable")[:, :k]
    return idx, np.take_along_axis(d, idx, axis=1)


def render_decoder(z: np.ndarray) -> np.ndarray:
    """A decoder with known verdicts: cylinders where z1 + z3 <= 0.6, a filled square (no figure) elsewhere.

    z: (M, L) with L >= 2; z1 sets the height, z2 the radius, z1 > 0 lies the figure down. Returns (M, 64, 64).
    """
    z = np.asarray(z, dtype=np.float64)
    s = 1.0 / (1.0 + np.exp(-z))
    factors = {
        "family": np.zeros(len(z), np.int64),
        "height": 12 + 20 * s[:, 0],
        "radius": 6 + 8 * s[:, 1],
        "orientation": (z[:, 0] > 0).astype(np.int64),
    }
    images = render(factors).astype(np.float32)
    extra = z[:, 2] if z.shape[1] > 2 else 0.0
    bad = z[:, 1] + extra > 0.6
    images[bad] = 0.0
    images[bad, 20:44, 20:44] = 1.0
    return images


_ORACLE: list[ValidityOracle] = []


def oracle() -> ValidityOracle:
    """A fitted cylinder oracle, fitted once per test process."""
    if not _ORACLE:
        _ORACLE.append(ValidityOracle().fit())
    return _ORACLE[0]


def render_valid(probs: np.ndarray) -> np.ndarray:
    return oracle().score(probs).valid
