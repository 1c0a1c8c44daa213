"""`latent_summary`: every seed-004 claim about a trained AE/VAE turned into a number (docs/latent-maps.md).

Seed 004 claims without measuring that AE grid decodes lose the cylinder at the borders while VAE decodes stay
cylinders, that the AE latent is fragmented with holes between the two types, and that VAE morphs are
continuous. The arrays it keeps (`LatentMaps`) feed the figures of `latentatlas.report.latent_figures`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from latentatlas.data.shapes_config import FAMILIES
from latentatlas.errors import ConfigError, DataError
from latentatlas.latentmaps.codec import decode_latents, encode_dataset, image_batch
from latentatlas.latentmaps.grid import LatentGrid, empty_cell_fraction, latent_grid
from latentatlas.latentmaps.morph import morph_latents, morph_metrics
from latentatlas.latentmaps.samples import SampleSet, prior_samples
from latentatlas.latentmaps.units import active_units, kl_per_dimension, silhouette, unit_activity

__all__ = ["LatentMaps", "latent_summary"]


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
        cyl = np.flatnonzero(np.asarray(factors["family"]) == FAMILIES.index("cylinder"))
        pool = cyl if len(cyl) >= 2 else pool
    if len(pool) < 2:
        raise DataError(f"morphs need at least 2 training images, got {len(pool)}")
    rng = np.random.default_rng(seed)
    return np.stack([rng.choice(pool, 2, replace=False) for _ in range(n_morphs)])


def _morph_stats(model, oracle, mu, factors, pairs, steps):
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
    val_x = image_batch(val_images)[:, 0]
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
