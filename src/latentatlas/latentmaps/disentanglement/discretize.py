"""Equal-width histogram discretization of codes and continuous factors (disentanglement_lib's default).

disentanglement_lib (Locatello et al. 2019) turns every continuous quantity into integer labels with its
`histogram_discretizer` and `num_bins = 20` (gin configs of the unsupervised study): each column is cut into
`num_bins` equal-width bins between its minimum and its maximum, the maximum falling into the last bin. MIG
applies it to the codes; IRS applies the same discretizer to the factors, which is how continuous factors are
made discrete here for MIG, SAP (discrete mode) and DCI.
"""

from __future__ import annotations

import numpy as np

DEFAULT_BINS = 20


def histogram_discretize(x: np.ndarray, num_bins: int = DEFAULT_BINS) -> np.ndarray:
    """Bin each column of x into `num_bins` equal-width bins spanning [min, max] of that column.

    Bin b holds `e_b <= x < e_(b+1)` for the edges `e = linspace(min, max, num_bins + 1)` of `np.histogram`; the
    maximum goes into the last bin, as `np.histogram` counts it. A constant column falls entirely into bin 0.

    Args:
        x: (N, D) float values.
        num_bins: bins per column, >= 1.

    Returns:
        (N, D) int64 bin indices in `0 .. num_bins - 1`.
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(x.shape, dtype=np.int64)
    for d in range(x.shape[1]):
        lo, hi = x[:, d].min(), x[:, d].max()
        if hi > lo:  # the edges np.histogram uses, so a value on an edge lands where np.histogram counts it
            edges = np.linspace(lo, hi, num_bins + 1)
            out[:, d] = np.clip(np.searchsorted(edges, x[:, d], side="right") - 1, 0, num_bins - 1)
    return out


def is_discrete(column: np.ndarray, num_bins: int = DEFAULT_BINS) -> bool:
    """A factor counts as discrete (its values kept as class labels) when it is of integer or bool dtype, or
    when all its values are whole numbers and it takes at most `num_bins` distinct values."""
    column = np.asarray(column)
    if column.dtype.kind in "biu":
        return True
    whole = bool(np.all(np.equal(np.mod(column, 1), 0)))
    return whole and len(np.unique(column)) <= num_bins


def as_labels(column: np.ndarray) -> np.ndarray:
    """Distinct values of a discrete factor -> consecutive int64 labels 0 .. C-1 in sorted value order. (N,) -> (N,)"""
    return np.unique(np.asarray(column), return_inverse=True)[1].astype(np.int64).ravel()
