"""Latent traversals: decode along one latent axis at a time, the other coordinates at the mean code.

For each latent dim d, `steps` frames decode `z = mean code` with z_d swept over a range:

- VAE (`model.variational`): z_d from -span to +span (default +-2) in equal steps, i.e. +-2 standard
  deviations of the prior N(0, 1), which hold 95% of its mass; a collapsed dim then shows whether the decoder
  ignores it.
- AE: z_d from mean_d - span * std_d to mean_d + span * std_d of the codes (no prior sets a scale).

Every frame is judged by the validity oracle, and each dim is labelled with the factor it is most informative
about, from a latent x factor matrix such as MIG's normalised mutual information `I(z_d; v_k) / H(v_k)`
(`MIGResult.normalized`) or DCI's importance (`DCIResult.importance`); a dim whose best entry is below
`min_info` is labelled None (it carries no factor).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from latentatlas.errors import ConfigError, DataError
from latentatlas.latentmaps.codec import decode_latents

DEFAULT_STEPS, DEFAULT_SPAN, MIN_INFO = 9, 2.0, 0.05


@dataclass
class Traversal:
    """Frames of every latent dim's traversal (rows = dims) with their verdicts and factor labels."""

    values: np.ndarray  # (L, T) value of the traversed coordinate in each frame
    center: np.ndarray  # (L,) the code every traversal starts from (mean of the codes)
    probs: np.ndarray = field(repr=False)  # (L, T, S, S) decoded probabilities
    iou: np.ndarray = field(repr=False)  # (L, T) best oracle IoU
    valid: np.ndarray = field(repr=False)  # (L, T) bool
    factors: tuple[str | None, ...]  # (L,) most informative factor per dim, None below min_info or without info
    info: np.ndarray | None  # (L,) that factor's entry of the info matrix
    kind: str  # "prior" (VAE, +-span) or "data" (AE, mean +- span * std)
    span: float

    @property
    def z(self) -> np.ndarray:
        """Latents of all frames: (L, T, L); see `frame_latents`."""
        return frame_latents(self.center, self.values)

    @property
    def validity(self) -> np.ndarray:
        """Share of valid frames per dim: (L,)."""
        return self.valid.mean(axis=1)


def frame_latents(center: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Latents of all frames: center (L,), values (L, T) -> (L, T, L); frame (d, t) is `center` with coordinate
    d set to values[d, t]."""
    n_dims, steps = values.shape
    z = np.broadcast_to(center, (n_dims, steps, n_dims)).copy()
    z[np.arange(n_dims), :, np.arange(n_dims)] = values
    return z


def traversal_values(codes: np.ndarray, variational: bool, steps: int = DEFAULT_STEPS, span: float = DEFAULT_SPAN):
    """Start code and swept values: codes (N, L) -> center (L,), values (L, T), kind (see the module doc)."""
    center = codes.mean(axis=0)
    ramp = np.linspace(-span, span, steps)  # (T,)
    if variational:
        return center, np.tile(ramp, (codes.shape[1], 1)), "prior"
    return center, center[:, None] + codes.std(axis=0)[:, None] * ramp, "data"


def dim_labels(
    info: np.ndarray, factor_names: Sequence[str], min_info: float = MIN_INFO
) -> tuple[tuple[str | None, ...], np.ndarray]:
    """Most informative factor of each latent from an info matrix (L, K): names (None below min_info), (L,) values."""
    info = np.asarray(info, dtype=np.float64)
    if info.ndim != 2 or info.shape[1] != len(factor_names):
        raise DataError(f"info: expected (L, {len(factor_names)}) latent x factor scores, got shape {info.shape}")
    best = info.argmax(axis=1)
    value = info[np.arange(len(info)), best]
    return tuple(factor_names[k] if v >= min_info else None for k, v in zip(best, value)), value


def _check_codes(codes: Any, latent_dim: int) -> np.ndarray:
    x = np.asarray(codes, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != latent_dim or len(x) < 2:
        raise DataError(f"codes: need (N >= 2, {latent_dim}) latent codes of the model, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise DataError("codes: NaN/inf in the latent codes; fix the encoder or drop those samples")
    return x


def latent_traversals(
    model: torch.nn.Module,
    oracle: Any,
    codes: np.ndarray,
    info: np.ndarray | None = None,
    factor_names: Sequence[str] | None = None,
    steps: int = DEFAULT_STEPS,
    span: float = DEFAULT_SPAN,
    min_info: float = MIN_INFO,
    batch_size: int = 256,
) -> Traversal:
    """Decode and judge a traversal of every latent dim.

    Args:
        model: AE/VAE with `decode(z (B, L)) -> logits`, `latent_dim` and `variational`.
        oracle: a fitted `ValidityOracle` (anything with `score(probs) -> .iou, .valid`).
        codes: (N, L) posterior means of data figures; their mean is the start code, their spread the AE range.
        info: optional (L, K) latent x factor scores that label each dim; factor_names: its K column names.
        steps: frames per dim (>= 2); span: half-range in prior std (VAE) or code std (AE).
        min_info: below this best score a dim is labelled None.
    """
    if steps < 2 or span <= 0:
        raise ConfigError(f"traversal: steps={steps}, span={span}; use steps >= 2 and span > 0")
    x = _check_codes(codes, int(model.latent_dim))
    n_dims = x.shape[1]
    labels, best = (None,) * n_dims, None
    if info is not None:
        if factor_names is None:
            raise ConfigError("traversal: info given without factor_names; pass the K factor names of its columns")
        labels, best = dim_labels(info, factor_names, min_info)
        if len(labels) != n_dims:
            raise DataError(f"info: {len(labels)} rows for {n_dims} latent dims; give one row per dim")
    center, values, kind = traversal_values(x, bool(getattr(model, "variational", False)), steps, span)
    z = frame_latents(center, values)  # (L, T, L)
    probs = decode_latents(model, z.reshape(n_dims * steps, n_dims), batch_size)  # (L*T, S, S)
    scores = oracle.score(probs)
    grid = (n_dims, steps)
    return Traversal(values, center, probs.reshape(*grid, *probs.shape[1:]), np.asarray(scores.iou).reshape(grid),
                     np.asarray(scores.valid).reshape(grid), labels, best, kind, span)  # fmt: skip
