"""Morphs between two latent codes: interpolation paths, decoding, and how even and how orderly a morph is.

Seed 004 claims that VAE morphs are "continuous"; this module turns that into numbers:

- validity: the share of frames the validity oracle accepts as a true figure;
- smoothness: `max_k d_k / mean_k d_k` where `d_k` is the mean absolute pixel change between frames k and k+1
  (probability maps). 1 means every step changes the picture by the same amount; a morph that jumps in one step
  out of `T - 1` scores `T - 1`;
- monotonicity: the share of consecutive steps whose recovered height and radius (read by the oracle) move toward
  the end value or stay put (within the oracle's reading resolution).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from latentatlas.errors import ConfigError
from latentatlas.latentmaps.codec import decode_latents, encode_dataset

MODES = ("lerp", "slerp")
# Below this sine of the angle between z0 and z1, slerp's weights sin(t w) / sin(w) lose precision: use lerp.
_PARALLEL_EPS = 1e-6


def _check_steps(steps: int) -> None:
    if steps < 2:
        raise ConfigError(f"morph steps: {steps} is too few; use at least 2 (the two end points)")


def _endpoints(z0: Any, z1: Any) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(z0.detach().cpu() if isinstance(z0, torch.Tensor) else z0, dtype=np.float64)
    b = np.asarray(z1.detach().cpu() if isinstance(z1, torch.Tensor) else z1, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise ConfigError(f"morph end points: need two latent vectors of the same shape (L,), got {a.shape}, {b.shape}")
    return a, b


def lerp(z0: Any, z1: Any, steps: int) -> np.ndarray:
    """Straight line from z0 to z1.

    Args:
        z0, z1: (L,) latent vectors (numpy or torch).
        steps: number of frames T >= 2, end points included.

    Returns:
        path: (T, L) float64, `path[0] == z0`, `path[-1] == z1`.
    """
    _check_steps(steps)
    a, b = _endpoints(z0, z1)
    t = np.linspace(0.0, 1.0, steps)[:, None]  # (T, 1)
    return (1.0 - t) * a + t * b


def slerp(z0: Any, z1: Any, steps: int) -> np.ndarray:
    """Spherical interpolation (Shoemake 1985), the path White (2016, "Sampling Generative Networks") recommends.

    Under a Gaussian prior almost all mass lies near a sphere of radius sqrt(L); a straight line between two
    samples cuts through the low-norm interior the decoder rarely saw, while slerp keeps the norm in between.
    Nearly parallel (or anti-parallel, or zero) vectors have no well-defined great circle: fall back to lerp.

    Args:
        z0, z1: (L,) latent vectors (numpy or torch).
        steps: number of frames T >= 2, end points included.

    Returns:
        path: (T, L) float64; for equal-norm end points every frame has that norm.
    """
    _check_steps(steps)
    a, b = _endpoints(z0, z1)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0.0 or nb == 0.0:
        return lerp(a, b, steps)
    omega = np.arccos(np.clip(np.dot(a / na, b / nb), -1.0, 1.0))
    sin_omega = np.sin(omega)
    if sin_omega < _PARALLEL_EPS:
        return lerp(a, b, steps)
    t = np.linspace(0.0, 1.0, steps)[:, None]  # (T, 1)
    return (np.sin((1.0 - t) * omega) * a + np.sin(t * omega) * b) / sin_omega


def interpolate(z0: Any, z1: Any, steps: int, mode: str = "lerp") -> np.ndarray:
    """`lerp` or `slerp` by name; returns (T, L) float64."""
    if mode not in MODES:
        raise ConfigError(f"morph mode: {mode!r} is not one of {', '.join(MODES)}")
    return lerp(z0, z1, steps) if mode == "lerp" else slerp(z0, z1, steps)


def morph_latents(model: torch.nn.Module, z0: Any, z1: Any, steps: int = 10, mode: str = "lerp") -> np.ndarray:
    """Decode the path between two latent codes: z0, z1 (L,) -> frames (T, S, S) float32 probabilities."""
    return decode_latents(model, interpolate(z0, z1, steps, mode))


def morph(model: torch.nn.Module, x0: Any, x1: Any, steps: int = 10, mode: str = "lerp") -> np.ndarray:
    """Encode two images (their posterior means), interpolate, decode.

    Args:
        x0, x1: (S, S) images, bool or float in [0, 1].

    Returns:
        frames: (T, S, S) float32 probabilities; frame 0 and T-1 are the reconstructions of x0 and x1.
    """
    mu, _ = encode_dataset(model, np.stack([np.asarray(x0), np.asarray(x1)]))
    return morph_latents(model, mu[0], mu[1], steps, mode)


def pixel_changes(frames: np.ndarray) -> np.ndarray:
    """Mean absolute change between consecutive frames: frames (T, S, S) -> (T-1,) float64."""
    f = np.asarray(frames, dtype=np.float64)
    return np.abs(np.diff(f.reshape(f.shape[0], -1), axis=0)).mean(axis=1)


def smoothness(frames: np.ndarray) -> float:
    """`max_k d_k / mean_k d_k` over consecutive pixel changes d_k: 1 = even steps, T-1 = a single jump.

    A morph that does not change at all is perfectly even (1.0).
    """
    d = pixel_changes(frames)
    mean = d.mean()
    return 1.0 if mean <= 1e-12 else float(d.max() / mean)


def monotonicity(values: np.ndarray, start: float, end: float, tol: float = 0.0) -> float:
    """Share of consecutive steps of `values` (T,) that move toward `end` (from `start`) or stay within `tol`.

    With `start == end` every step must stay put. The direction is that of `end - start`, so overshooting the end
    still counts as moving the right way; going back does not.
    """
    steps = np.diff(np.asarray(values, dtype=np.float64))
    direction = np.sign(end - start)
    ok = np.abs(steps) <= tol if direction == 0 else steps * direction >= -tol
    return float(ok.mean()) if ok.size else 1.0


@dataclass
class MorphMetrics:
    """What `morph_metrics` measures on one morph of T frames."""

    valid: np.ndarray  # (T,) bool, oracle verdict per frame
    iou: np.ndarray  # (T,) best IoU against the oracle's bank
    height: np.ndarray  # (T,) height recovered by the oracle (pixels)
    radius: np.ndarray  # (T,) radius recovered by the oracle (pixels)
    pixel_change: np.ndarray  # (T-1,) mean |frame_{k+1} - frame_k|
    validity: float
    smoothness: float
    monotonicity: float  # mean over height and radius

    def to_dict(self) -> dict[str, float]:
        return {"validity": self.validity, "smoothness": self.smoothness, "monotonicity": self.monotonicity}


def oracle_resolution(oracle: Any) -> float:
    """Spacing (px) of the oracle's bank of heights and radii (the larger one), 0 when it is not known.

    The oracle reads factors as those of the nearest bank figure, so a reading can jitter by one bank step on a
    morph that is monotone in truth; monotonicity tolerates that much.
    """
    bank = getattr(oracle, "bank_factors_", None)
    if not bank:
        return 0.0
    steps = [np.diff(np.unique(np.asarray(bank[k], np.float64))) for k in ("height", "radius") if k in bank]
    steps = [d[d > 1e-9].min() for d in steps if (d > 1e-9).any()]
    return float(max(steps)) if steps else 0.0


def morph_metrics(
    frames: np.ndarray,
    oracle: Any,
    start_factors: dict[str, float],
    end_factors: dict[str, float],
    tol: float | None = None,
) -> MorphMetrics:
    """Validity, smoothness and monotonicity of one morph.

    Args:
        frames: (T, S, S) decoded probabilities (or binary images).
        oracle: a fitted `ValidityOracle` (anything with `score(images) -> OracleScores`).
        start_factors, end_factors: the true `height` and `radius` of the two end figures.
        tol: a step back smaller than or equal to this (px) still counts as monotone; default
            `oracle_resolution(oracle)`, the reading's own jitter.
    """
    tol = oracle_resolution(oracle) if tol is None else tol
    frames = np.asarray(frames)
    if frames.ndim != 3 or frames.shape[0] < 2:
        raise ConfigError(f"morph_metrics: frames must be (T >= 2, S, S), got shape {frames.shape}")
    scores = oracle.score(frames)
    height = np.asarray(scores.factors["height"], dtype=np.float64)
    radius = np.asarray(scores.factors["radius"], dtype=np.float64)
    mono = [
        monotonicity(height, float(start_factors["height"]), float(end_factors["height"]), tol),
        monotonicity(radius, float(start_factors["radius"]), float(end_factors["radius"]), tol),
    ]
    valid = np.asarray(scores.valid, dtype=bool)
    return MorphMetrics(
        valid=valid,
        iou=np.asarray(scores.iou, dtype=np.float64),
        height=height,
        radius=radius,
        pixel_change=pixel_changes(frames),
        validity=float(valid.mean()),
        smoothness=smoothness(frames),
        monotonicity=float(np.mean(mono)),
    )
