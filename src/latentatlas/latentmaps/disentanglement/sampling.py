"""The generator interface FactorVAE and BetaVAE scores need, and their batches drawn with one factor fixed.

Both scores (Kim & Mnih 2018; Higgins et al. 2017) compare codes of figures that share the value of one
factor, so unlike MIG, DCI and SAP they need a generator, seen here through `FactorSampler`:
`sample(n, rng)` draws n factor vectors as the data set does, `observe(factors)` turns them into codes
(render, then encode). `ShapesSampler` is that adapter for the shapes lab.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

import numpy as np

from latentatlas.errors import ConfigError, DataError

CHUNK_IMAGES = 4096  # figures rendered and encoded per call of `observe`: (4096, 1, 64, 64) float32 = 64 MiB


@runtime_checkable
class FactorSampler(Protocol):
    """A generator of factors and of the codes of their observations.

    Attributes:
        factor_names: the K factors, in the column order of `sample`.
    """

    factor_names: tuple[str, ...]

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n factor vectors drawn as the data set draws them: a new (n, K) float64 array (the scores write
        the fixed factor into it)."""
        ...

    def observe(self, factors: np.ndarray) -> np.ndarray:
        """Codes of the observations with these factors: (n, K) -> (n, L) float64."""
        ...


def check_counts(counts: dict[str, int], minimum: int = 1) -> None:
    """Refuse a sample count below `minimum` (2 where a variance is taken), naming the parameter."""
    for name, value in counts.items():
        if int(value) < minimum:
            raise ConfigError(f"{name}: {value}; use at least {minimum}")


def observe_all(sampler: FactorSampler, factors: np.ndarray) -> np.ndarray:
    """`sampler.observe` over factors (..., K) in chunks of CHUNK_IMAGES rows -> codes (..., L) float64."""
    flat = factors.reshape(-1, factors.shape[-1])
    starts = range(0, len(flat), CHUNK_IMAGES)
    codes = np.concatenate([np.asarray(sampler.observe(flat[s : s + CHUNK_IMAGES]), np.float64) for s in starts])
    if codes.ndim != 2 or len(codes) != len(flat) or not np.all(np.isfinite(codes)):
        raise DataError(f"sampler.observe returned codes of shape {codes.shape} (or NaN) for {len(flat)} factor rows")
    return codes.reshape(*factors.shape[:-1], codes.shape[1])


def fixed_factor_groups(
    sampler: FactorSampler, num_points: int, group_size: int, rng: np.random.Generator, pairs: bool = False
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Groups of codes that share one factor, a chunk of groups at a time.

    For each point a factor index k is drawn uniformly. Without `pairs` (FactorVAE) its group is `group_size`
    fresh draws with factor k set to the first draw's value. With `pairs` (BetaVAE) it is two batches of
    `group_size` draws, the second copying factor k from the first, pair by pair.

    Yields:
        ks: (P,) int64 fixed-factor indices; codes: (P, G, L), or (P, 2, G, L) with `pairs`.
    """
    num_factors = len(sampler.factor_names)
    per_point = group_size * (2 if pairs else 1)
    chunk = max(1, CHUNK_IMAGES // per_point)
    for start in range(0, num_points, chunk):
        p = min(chunk, num_points - start)
        ks = rng.integers(0, num_factors, size=p)
        rows = np.arange(p)
        if pairs:
            f = sampler.sample(2 * p * group_size, rng).reshape(p, 2, group_size, num_factors)
            f[rows, 1, :, ks] = f[rows, 0, :, ks]
        else:
            f = sampler.sample(p * group_size, rng).reshape(p, group_size, num_factors)
            f[rows, :, ks] = f[rows, 0, ks][:, None]
        yield ks, observe_all(sampler, f)
