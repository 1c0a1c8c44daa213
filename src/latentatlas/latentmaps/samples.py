"""Samples of the latent space: drawn from the VAE's prior (or the AE's training box), decoded and judged."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from latentatlas.errors import ConfigError
from latentatlas.latentmaps.codec import decode_latents

__all__ = ["SampleSet", "prior_samples"]


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
