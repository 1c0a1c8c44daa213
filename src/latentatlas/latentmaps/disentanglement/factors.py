"""Validated inputs of the scores: codes (N, L) and ground-truth factors (N, K) made discrete.

Every score raises `DataError` with one line naming the problem: factors of another length than the codes, a
constant factor (refused: it has no entropy, so MIG would divide by zero and no latent can be informative about
it; drop it first, as `shapes_factor_matrix` drops the factors a shapes config keeps fixed), NaN or inf in a
latent or a factor, and fewer samples than histogram bins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from latentatlas.errors import ConfigError, DataError
from latentatlas.latentmaps.disentanglement.discretize import DEFAULT_BINS, as_labels, histogram_discretize, is_discrete

FactorsLike = np.ndarray | Mapping[str, np.ndarray]


@dataclass(frozen=True)
class FactorTable:
    """Factors of N samples: their names, values as given, and the class labels the scores use.

    `labels[:, k]` are the values of a discrete factor relabelled 0 .. C-1, or for a continuous factor its bin
    in a `num_bins` equal-width histogram (`histogram_discretize`).
    """

    names: tuple[str, ...]
    values: np.ndarray  # (N, K) float64
    labels: np.ndarray  # (N, K) int64
    discrete: tuple[bool, ...]  # (K,) True = labels are the factor's own values
    num_bins: int

    @property
    def num_factors(self) -> int:
        return len(self.names)


def _columns(factors: FactorsLike, names: Sequence[str] | None) -> tuple[list[np.ndarray], tuple[str, ...]]:
    if isinstance(factors, Mapping):
        return [np.asarray(v).ravel() for v in factors.values()], tuple(str(k) for k in factors)
    arr = np.asarray(factors)
    arr = arr[:, None] if arr.ndim == 1 else arr
    if arr.ndim != 2:
        raise DataError(f"factors: expected (N, K) values or a dict of (N,) columns, got shape {arr.shape}")
    cols = [arr[:, k] for k in range(arr.shape[1])]
    names = tuple(names) if names is not None else tuple(f"factor_{k}" for k in range(len(cols)))
    if len(names) != len(cols):
        raise ConfigError(f"factor_names: {len(names)} names for {len(cols)} factor columns; give one per column")
    return cols, names


def _check_column(name: str, col: np.ndarray, n: int) -> None:
    if len(col) != n:
        raise DataError(f"factor {name!r} has {len(col)} values, the other factors {n}; give one value per sample")
    if col.dtype.kind not in "biuf":
        raise DataError(f"factor {name!r} is of type {col.dtype}; give numbers (class codes or values)")
    if not np.all(np.isfinite(col)):
        raise DataError(f"factor {name!r} has {int((~np.isfinite(col)).sum())} NaN/inf values; drop those samples")
    if n and np.all(col == col[0]):
        raise DataError(
            f"factor {name!r} is constant ({col[0]:g} in all {n} samples); drop it: a constant factor has no "
            "entropy and no latent can be informative about it"
        )


def as_factor_table(
    factors: FactorsLike,
    names: Sequence[str] | None = None,
    num_bins: int = DEFAULT_BINS,
    discrete: Sequence[bool] | None = None,
) -> FactorTable:
    """Validate factors and make them discrete.

    Args:
        factors: (N, K) or (N,) values, or a dict `{name: (N,) values}` (its keys name the factors).
        names: factor names for an array (default `factor_0`, `factor_1`, ...).
        num_bins: histogram bins for continuous factors (disentanglement_lib: 20).
        discrete: per factor, True to keep its values as classes, False to bin it; default `is_discrete`
            (integer dtype, or whole numbers with at most `num_bins` distinct values).
    """
    if num_bins < 2:
        raise ConfigError(f"num_bins: {num_bins}; use at least 2 histogram bins (disentanglement_lib uses 20)")
    cols, names = _columns(factors, names)
    if not cols:
        raise DataError("factors: no factor columns; give at least one known factor per sample")
    n = len(cols[0])
    for name, col in zip(names, cols):
        _check_column(name, col, n)
    flags = tuple(is_discrete(c, num_bins) for c in cols) if discrete is None else tuple(bool(d) for d in discrete)
    if len(flags) != len(cols):
        raise ConfigError(f"discrete: {len(flags)} flags for {len(cols)} factors; give one per factor")
    values = np.stack([c.astype(np.float64) for c in cols], axis=1)  # (N, K)
    labels = np.stack(
        [as_labels(c) if d else histogram_discretize(c[:, None], num_bins)[:, 0] for c, d in zip(cols, flags)], 1
    )
    return FactorTable(names, values, labels, flags, num_bins)


def check_codes(codes: np.ndarray, n_samples: int, num_bins: int = DEFAULT_BINS) -> np.ndarray:
    """Codes (N, L) as float64, after checking their shape, their length against the factors' and NaN.

    Args:
        codes: (N, L) latent codes (e.g. posterior means), one row per sample.
        n_samples: number of rows the factors have.
        num_bins: histogram bins; N must be at least this many.
    """
    x = np.asarray(codes, dtype=np.float64)
    x = x[:, None] if x.ndim == 1 else x
    if x.ndim != 2 or x.shape[1] < 1:
        raise DataError(f"codes: expected (N, L) latent codes, got shape {np.shape(codes)}")
    if len(x) != n_samples:
        raise DataError(f"factors have {n_samples} rows for {len(x)} codes; give one row of factors per code")
    bad = ~np.isfinite(x)
    if bad.any():
        d = int(np.flatnonzero(bad.any(axis=0))[0])
        count = int(bad[:, d].sum())
        raise DataError(f"codes: latent dim {d} has {count} NaN/inf values; fix the encoder or drop those samples")
    if len(x) < num_bins:
        raise DataError(f"{len(x)} samples are fewer than the {num_bins} histogram bins; use at least {num_bins}")
    return x


def prepare(
    codes: np.ndarray,
    factors: FactorsLike | FactorTable,
    names: Sequence[str] | None = None,
    num_bins: int = DEFAULT_BINS,
) -> tuple[np.ndarray, FactorTable]:
    """`check_codes` + `as_factor_table` (a given FactorTable is used as it is): codes (N, L) float64, table."""
    table = factors if isinstance(factors, FactorTable) else as_factor_table(factors, names, num_bins)
    return check_codes(codes, len(table.labels), num_bins), table
