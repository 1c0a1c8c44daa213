"""Latent maps of an autoencoder or VAE: encode, decode a grid and prior samples, and measure them.

Seed 004 claims without measuring that AE grid decodes lose the cylinder at the borders while VAE decodes stay
cylinders, that the AE latent is fragmented with holes between the two types, and that VAE morphs are
continuous. `latent_summary` turns each claim into a number (see docs/latent-maps.md); the arrays it keeps
(`LatentMaps`) feed the figures of `latentatlas.report.latent_figures`.

Models follow `latentatlas.models.autoencoder`: `encode(x (B, 1, S, S)) -> (mu (B, L), logvar (B, L) or None)`,
`decode(z (B, L)) -> logits (B, 1, S, S)`, `latent_dim`, `variational`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from latentatlas.errors import ConfigError, DataError


@contextlib.contextmanager
def _inference(model: torch.nn.Module) -> Iterator[torch.device]:
    """eval() + no_grad() for the block, then restore the model's training flag; yields its device."""
    was_training = model.training
    try:
        device = next(model.parameters()).device
    except StopIteration:  # a parameter-free decoder (e.g. a renderer in tests)
        device = torch.device("cpu")
    model.eval()
    try:
        with torch.no_grad():
            yield device
    finally:
        model.train(was_training)


def _to_numpy(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _image_batch(images: Any) -> np.ndarray:
    """(N, S, S) or (N, 1, S, S), bool / uint8 / float in [0, 1] -> (N, 1, S, S) float32."""
    x = _to_numpy(images)
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] != 1 or x.shape[2] != x.shape[3]:
        raise DataError(f"images: expected (N, S, S) or (N, 1, S, S) square binary images, got shape {x.shape}")
    if x.dtype == np.uint8 and x.size and x.max() > 1:
        x = x / 255.0  # 8-bit grey levels
    x = x.astype(np.float32)
    if x.size and (x.min() < 0.0 or x.max() > 1.0):
        raise DataError(f"images: values span [{x.min():g}, {x.max():g}]; scale them into [0, 1] first")
    return x


def encode_dataset(model: torch.nn.Module, images: Any, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray | None]:
    """Posterior means (and log-variances) of a set of images.

    Args:
        images: (N, S, S) or (N, 1, S, S) bool / float in [0, 1].

    Returns:
        mu: (N, L) float32; logvar: (N, L) float32, or None for a deterministic AE.
    """
    x = _image_batch(images)
    mus, logvars = [], []
    with _inference(model) as device:
        for start in range(0, len(x), batch_size):
            mu, logvar = model.encode(torch.from_numpy(x[start : start + batch_size]).to(device))
            mus.append(mu.float().cpu().numpy())
            if logvar is not None:
                logvars.append(logvar.float().cpu().numpy())
    latent_dim = int(getattr(model, "latent_dim", 0))
    mu = np.concatenate(mus) if mus else np.zeros((0, latent_dim), np.float32)
    return mu, (np.concatenate(logvars) if logvars else None)


def decode_latents(model: torch.nn.Module, z: Any, batch_size: int = 256) -> np.ndarray:
    """Decode latents z: (N, L) -> probabilities (N, S, S) float32 (sigmoid of the decoder's logits)."""
    z = np.asarray(_to_numpy(z), dtype=np.float32)
    out = []
    with _inference(model) as device:
        for start in range(0, len(z), batch_size):
            logits = model.decode(torch.from_numpy(z[start : start + batch_size]).to(device))
            out.append(torch.sigmoid(logits.float()).cpu().numpy()[:, 0])
    return np.concatenate(out)


def reconstructions(model: torch.nn.Module, images: Any, n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The first `n` images and their reconstructions from the posterior mean: both (n, S, S) float32."""
    x = _image_batch(images)[:n, 0]
    mu, _ = encode_dataset(model, x)
    return x, decode_latents(model, mu)


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


@dataclass
class SampleSet:
    """Latents drawn from the model's prior (VAE) or the training box (AE), decoded and scored."""

    z: np.ndarray  # (N, L)
    probs: np.ndarray = field(repr=False)  # (N, S, S) float32
    scores: Any = field(repr=False)

    @property
    def validity(self) -> float:
        return float(np.mean(self.scores.valid))


def prior_samples(
    model: torch.nn.Module, oracle: Any, n: int, seed: int, train_mu: np.ndarray | None = None, batch_size: int = 256
) -> SampleSet:
    """VAE: z ~ N(0, I). AE (no prior): z uniform in the bounding box of the training latents `train_mu`."""
    if n < 1:
        raise ConfigError(f"n_samples: {n} must be at least 1")
    rng = np.random.default_rng(seed)
    latent_dim = int(model.latent_dim)
    if model.variational:
        z = rng.standard_normal((n, latent_dim))
    else:
        if train_mu is None:
            raise ConfigError("samples of a deterministic AE: pass train_mu (the training latents) to set the box")
        mu = np.asarray(train_mu, dtype=np.float64)
        z = rng.uniform(mu.min(axis=0), mu.max(axis=0), size=(n, latent_dim))
    probs = decode_latents(model, z, batch_size)
    return SampleSet(z, probs, oracle.score(probs))


def kl_per_dimension(mu: Any, logvar: Any) -> np.ndarray:
    """Mean over the data of KL(q(z_d|x) || N(0, 1)) per latent dim (Kingma & Welling 2014, appendix B).

    KL = 0.5 * (mu^2 + exp(logvar) - 1 - logvar). mu, logvar: (N, L) -> (L,) float64 nats.
    """
    m, lv = np.asarray(_to_numpy(mu), np.float64), np.asarray(_to_numpy(logvar), np.float64)
    if m.shape != lv.shape or m.ndim != 2:
        raise DataError(f"kl_per_dimension: mu and logvar must both be (N, L), got {m.shape} and {lv.shape}")
    return 0.5 * (m**2 + np.exp(lv) - 1.0 - lv).mean(axis=0)


def unit_activity(mu: Any) -> np.ndarray:
    """Variance over the data of each posterior-mean coordinate, Cov_x(E[z_d | x]): mu (N, L) -> (L,) float64."""
    return np.asarray(_to_numpy(mu), np.float64).var(axis=0)


def active_units(mu: Any, threshold: float = 0.01) -> int:
    """Number of latent dims whose activity `unit_activity(mu)` exceeds `threshold` (Burda et al. 2016, IWAE)."""
    return int((unit_activity(mu) > threshold).sum())


def silhouette(x: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette (Rousseeuw 1987) with Euclidean distances: x (N, D), labels (N,) with >= 2 classes.

    The exact blockwise implementation of `latentatlas.analysis.spread.silhouette`, on the latent means.
    """
    from latentatlas.analysis.spread import silhouette as exact_silhouette

    labels = np.asarray(labels).astype(np.int64)
    if len(np.unique(labels)) < 2:
        raise DataError(f"silhouette: need at least 2 classes, got {len(np.unique(labels))}")
    return exact_silhouette(np.asarray(x, np.float64), labels, metric="euclidean")


def _json_float(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass
class LatentMaps:
    """Everything `latent_summary` measured: `summary` (JSON-safe numbers) and the arrays behind the figures."""

    summary: dict[str, Any]
    train_mu: np.ndarray  # (N, L)
    train_logvar: np.ndarray | None  # (N, L)
    train_factors: dict[str, np.ndarray]
    grid: LatentGrid
    samples: SampleSet
    recon_inputs: np.ndarray  # (n, S, S)
    recon_outputs: np.ndarray  # (n, S, S)
    morph_frames: dict[str, np.ndarray]  # mode -> (T, S, S), the first morph pair
    morph_example: dict[str, Any]  # mode -> MorphMetrics of that pair, plus "start"/"end" factor dicts
    kl_per_dim: np.ndarray | None  # (L,)
    variational: bool = False


def _morph_pairs(factors: dict[str, np.ndarray], n_train: int, n_morphs: int, seed: int) -> np.ndarray:
    """(n_morphs, 2) indices of distinct training cylinders (all images when the family is not recorded)."""
    pool = np.arange(n_train)
    if "family" in factors:
        from latentatlas.data.shapes import FAMILIES

        cyl = np.flatnonzero(np.asarray(factors["family"]) == FAMILIES.index("cylinder"))
        pool = cyl if len(cyl) >= 2 else pool
    if len(pool) < 2:
        raise DataError(f"morphs need at least 2 training images, got {len(pool)}")
    rng = np.random.default_rng(seed)
    return np.stack([rng.choice(pool, 2, replace=False) for _ in range(n_morphs)])


def _morph_stats(model, oracle, mu, factors, pairs, steps):
    from latentatlas.analysis.morph import morph_latents, morph_metrics

    stats: dict[str, Any] = {}
    frames: dict[str, np.ndarray] = {}
    example: dict[str, Any] = {}
    for mode in ("lerp", "slerp"):
        results = []
        for k, (i, j) in enumerate(pairs):
            start = {key: float(factors[key][i]) for key in ("height", "radius")}
            end = {key: float(factors[key][j]) for key in ("height", "radius")}
            f = morph_latents(model, mu[i], mu[j], steps, mode)
            results.append(morph_metrics(f, oracle, start, end))
            if k == 0:
                frames[mode], example[mode] = f, results[-1]
                example["start"], example["end"] = start, end
        suffix = "" if mode == "lerp" else "_slerp"  # lerp is the seed's morph; slerp reported next to it
        for name in ("validity", "smoothness", "monotonicity"):
            stats[f"morph_{name}{suffix}"] = _json_float(np.mean([getattr(r, name) for r in results]))
    return stats, frames, example


def latent_summary(
    model: torch.nn.Module,
    train_images: Any,
    train_factors: dict[str, np.ndarray],
    val_images: Any,
    oracle: Any,
    seed: int = 0,
    grid_n: int = 10,
    n_samples: int = 500,
    n_morphs: int = 20,
    morph_steps: int = 10,
    active_threshold: float = 0.01,
) -> LatentMaps:
    """Measure the seed-004 claims on a trained AE/VAE; see docs/latent-maps.md for every definition.

    Args:
        train_images: (N, S, S) the training figures; train_factors their generator factors (`orientation`,
            `height`, `radius`, optionally `family`).
        val_images: (M, S, S) held-out figures, for reconstruction quality.
        oracle: a fitted `ValidityOracle`.
    """
    if n_morphs < 1:
        raise ConfigError(f"n_morphs: {n_morphs} must be at least 1")
    mu, logvar = encode_dataset(model, train_images)
    grid = latent_grid(model, oracle, grid_n, train_mu=mu)
    samples = prior_samples(model, oracle, n_samples, seed, train_mu=mu)
    val_x = _image_batch(val_images)[:, 0]
    val_mu, _ = encode_dataset(model, val_x)
    val_out = decode_latents(model, val_mu)
    val_scores = oracle.score(val_out)
    pairs = _morph_pairs(train_factors, len(mu), n_morphs, seed)
    morph_stats, frames, example = _morph_stats(model, oracle, mu, train_factors, pairs, morph_steps)
    kl = kl_per_dimension(mu, logvar) if logvar is not None else None
    types = np.asarray(train_factors["orientation"])
    summary: dict[str, Any] = {
        "latent_dim": int(model.latent_dim),
        "variational": bool(model.variational),
        "grid_n": grid_n,
        "grid_kind": grid.kind,
        "grid_validity": grid.validity,
        "grid_mean_iou": float(np.mean(grid.scores.iou)),
        "n_samples": n_samples,
        "sample_validity": samples.validity,
        "sample_mean_iou": float(np.mean(samples.scores.iou)),
        "val_recon_validity": float(np.mean(val_scores.valid)),
        "val_recon_pixel_error": float(np.abs(val_out - val_x).mean()),
        "n_morphs": n_morphs,
        "morph_steps": morph_steps,
        **morph_stats,
        "active_units": active_units(mu, active_threshold),
        "active_threshold": active_threshold,
        "latent_variance": [float(v) for v in unit_activity(mu)],
        "kl_per_dim": None if kl is None else [float(v) for v in kl],
        "kl_total": None if kl is None else float(kl.sum()),
        "latent_type_separation": _json_float(silhouette(mu, types)) if len(np.unique(types)) > 1 else None,
        "latent_empty_cells": empty_cell_fraction(grid, mu),
    }
    rec_in, rec_out = val_x[:8], val_out[:8]
    return LatentMaps(summary, mu, logvar, dict(train_factors), grid, samples, rec_in, rec_out, frames, example, kl,
                      bool(model.variational))  # fmt: skip
