"""Mean pairwise distance between the members of every pair of classes, exact and O(N * D) for cosine.

The seed computed a 10 x 10 matrix with 100 full |i| x |j| distance blocks. For cosine and squared euclidean
distances the mean over a block only needs per-class sums, so the whole matrix costs one pass over the data:

    sum_{a in i, b in j} <a, b> = <S_i, S_j>,                 S_i = sum_{a in i} a
    sum_{a in i, b in j} ||a - b||^2 = n_j Q_i + n_i Q_j - 2 <S_i, S_j>,   Q_i = sum_{a in i} ||a||^2

Self-pairs (a, a) add 1 to the cosine sum (unit vectors) and 0 to the squared-distance sum; excluding them
subtracts n_i and divides the diagonal by n_i (n_i - 1) instead of n_i^2. Euclidean distance has no such
identity: it is computed blockwise (rows x all later rows, by symmetry), then summed per class.

"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from latentatlas.analysis.inputs import CHUNK, DEFAULT_MEMORY_BUDGET, as_labels, as_matrix, check_metric, row_block
from latentatlas.errors import DataError


@dataclass
class ClassDistances:
    """Mean pairwise distance between classes.

    Attributes:
        matrix: (C, C) float64, matrix[i, j] = mean distance between a member of class i and one of class j.
        classes: (C,) sorted unique labels.
        counts: (C,) members per class.
        metric: "cosine" (1 - cos), "sqeuclidean" or "euclidean".
        exclude_self: whether the diagonal leaves out each point's zero distance to itself.
    """

    matrix: np.ndarray
    classes: np.ndarray
    counts: np.ndarray
    metric: str
    exclude_self: bool
    n_points: int | None = None  # embeddings behind the means: all N, or the stratified sample's size
    sampled: bool = False

    @property
    def intra_mean(self) -> float:
        """Mean of the diagonal (NaN entries of single-member classes left out)."""
        return _mean_std(np.diag(self.matrix))[0]

    @property
    def intra_std(self) -> float:
        """Population standard deviation of the diagonal."""
        return _mean_std(np.diag(self.matrix))[1]

    @property
    def inter_mean(self) -> float:
        """Mean of the C (C - 1) off-diagonal entries."""
        return _mean_std(self.matrix[~np.eye(len(self.classes), dtype=bool)])[0]

    @property
    def inter_std(self) -> float:
        """Population standard deviation of the off-diagonal entries."""
        return _mean_std(self.matrix[~np.eye(len(self.classes), dtype=bool)])[1]

    @property
    def margin(self) -> float:
        """Separation margin inter_mean - intra_mean (larger is better separated)."""
        return self.inter_mean - self.intra_mean

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN stays float('nan'))."""
        return {
            "metric": self.metric,
            "exclude_self": self.exclude_self,
            "classes": self.classes.tolist(),
            "counts": self.counts.tolist(),
            "matrix": self.matrix.tolist(),
            "intra_mean": self.intra_mean,
            "intra_std": self.intra_std,
            "inter_mean": self.inter_mean,
            "inter_std": self.inter_std,
            "margin": self.margin,
            "n_points": int(self.counts.sum()) if self.n_points is None else self.n_points,
            "sampled": self.sampled,
        }


def _mean_std(values: np.ndarray) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return math.nan, math.nan
    return float(values.mean()), float(values.std())


def class_distance_matrix(
    x: Any,
    labels: Any,
    metric: str = "cosine",
    exclude_self: bool = True,
    device: Any = None,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
) -> ClassDistances:
    """Mean pairwise distance between the members of every pair of classes, exactly.

    Args:
        x: (N, D) float embeddings (numpy or torch).
        labels: (N,) integer labels; classes are the sorted unique labels.
        metric: "cosine" (1 - cos, rows need not be normalized), "sqeuclidean" or "euclidean".
        exclude_self: leave each point's distance to itself out of the diagonal means (unbiased intra-class mean).
        device: torch device to compute on (default: x's device, CPU for numpy).
        memory_budget: bytes for the blockwise euclidean temporaries.

    Returns:
        ClassDistances with matrix (C, C); a single-member class gets NaN on the diagonal (with a warning)
        when exclude_self is set.
    """
    check_metric(metric)
    # float32 stays float32 (chunks are promoted to float64); finiteness is checked on the class sums.
    xt = as_matrix(x, device=device, dtype=None, check_finite=metric == "euclidean")
    codes, classes, counts = as_labels(labels, xt.shape[0], device=xt.device)
    n = torch.as_tensor(counts, dtype=torch.float64, device=xt.device)  # (C,)
    if metric == "euclidean":
        sums = _euclidean_class_sums(xt.to(torch.float64), codes, len(classes), memory_budget)
    else:
        sums = _gram_class_sums(xt, codes, len(classes), metric)  # (C, C) over all pairs, self-pairs included
    pairs = torch.outer(n, n)
    if exclude_self:
        if metric == "cosine":
            sums.diagonal().sub_(n)  # each self-pair contributes cos(a, a) = 1
        pairs.diagonal().sub_(n)  # n_i (n_i - 1) ordered pairs of distinct members
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (sums / pairs).cpu().numpy()
    if metric == "cosine":
        mean = 1.0 - mean
    lone = classes[counts < 2] if exclude_self else classes[:0]
    if lone.size:
        warnings.warn(
            f"classes {lone.tolist()} have a single member: their intra-class distance is NaN "
            "(pass exclude_self=False to count the zero self-distance instead)",
            stacklevel=2,
        )
        mean[np.flatnonzero(counts < 2), np.flatnonzero(counts < 2)] = np.nan
    return ClassDistances(mean, classes, counts.astype(np.int64), metric, exclude_self)


def class_sample(codes: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """Sorted row indices of a seeded sample of about `size` of the N rows with class codes (N,) in 0..C-1,
    stratified by class: round(n_c * size / N) of class c, at least min(2, n_c) (so every class keeps an
    intra-class pair), at most n_c."""
    counts = np.bincount(codes)
    order = np.argsort(codes, kind="stable")
    starts = np.cumsum(counts) - counts
    take = np.minimum(counts, np.maximum(2, np.rint(counts * size / len(codes)).astype(np.int64)))
    rng = np.random.default_rng(seed)
    parts = [order[s + rng.choice(c, t, replace=False)] for s, c, t in zip(starts, counts, take)]
    return np.sort(np.concatenate(parts)).astype(np.int64)


def _gram_class_sums(x: torch.Tensor, codes: torch.Tensor, n_classes: int, metric: str) -> torch.Tensor:
    """(C, C) sums over all ordered pairs of <a, b> (cosine) or ||a - b||^2 (sqeuclidean), in O(N D).

    Streams over row chunks promoted to float64, so memory stays O(CHUNK * D) whatever N.
    """
    d = x.shape[1]
    s = torch.zeros(n_classes, d, dtype=torch.float64, device=x.device)  # class sums S_i
    q = torch.zeros(n_classes, dtype=torch.float64, device=x.device)  # class sums Q_i of squared norms
    # Centering leaves distances unchanged and avoids cancellation in n_j Q_i + n_i Q_j - 2 <S_i, S_j>.
    mean = torch.zeros(d, dtype=torch.float64, device=x.device)
    if metric == "sqeuclidean":
        for start in range(0, x.shape[0], CHUNK):
            mean += x[start : start + CHUNK].to(torch.float64).sum(dim=0)
        mean /= x.shape[0]
    for start in range(0, x.shape[0], CHUNK):
        rows = x[start : start + CHUNK]  # (chunk, D), any float dtype
        code = codes[start : start + CHUNK, None]
        weight = torch.zeros(rows.shape[0], n_classes, dtype=torch.float64, device=x.device)  # (chunk, C)
        if metric == "cosine":
            norms = torch.linalg.vector_norm(rows, dim=1, dtype=torch.float64)
            if bool((norms == 0).any()):
                raise DataError("embeddings: some rows are all zeros, so cosine is undefined; drop those rows")
            weight.scatter_(1, code, norms.reciprocal_()[:, None])  # one-hot times 1 / ||a||: normalizes
            s.addmm_(weight.T, rows.to(torch.float64))  # a multithreaded matmul; index_add_ is serial on CPU
        else:
            centred = rows.to(torch.float64) - mean
            weight.scatter_(1, code, 1.0)
            q.addmv_(weight.T, (centred * centred).sum(dim=1))
            s.addmm_(weight.T, centred)
    if not bool(torch.isfinite(s).all() and torch.isfinite(q).all()):
        # NaN / inf anywhere in x propagates to the sums: one check instead of a pass over N x D.
        raise DataError("embeddings: contains NaN or inf; drop or fix those rows first")
    if metric == "cosine":
        return s @ s.T
    n = torch.bincount(codes, minlength=n_classes).to(torch.float64)
    return torch.outer(q, n) + torch.outer(n, q) - 2.0 * (s @ s.T)


def _euclidean_class_sums(x: torch.Tensor, codes: torch.Tensor, n_classes: int, memory_budget: int) -> torch.Tensor:
    """(C, C) sums of ||a - b|| over all ordered pairs, blockwise over the upper triangle of the N x N matrix.

    Per-class sums are index additions by class code (O(B N) per block, no (N, C) one-hot table), so memory is
    the (B, N) block plus O(B C) whatever the number of classes; the time is the N^2 / 2 distances.
    """
    xc = x - x.mean(dim=0)
    sq = (xc * xc).sum(dim=1)  # (N,)
    n_rows = xc.shape[0]
    sums = torch.zeros(n_classes, n_classes, dtype=torch.float64, device=x.device)
    block = row_block(n_rows, memory_budget)
    for s in range(0, n_rows, block):
        e = min(s + block, n_rows)
        # (B, N - s) distances from rows s:e to rows s:, via ||a||^2 + ||b||^2 - 2 <a, b>.
        d = (sq[s:e, None] + sq[None, s:] - 2.0 * (xc[s:e] @ xc[s:].T)).clamp_(min=0.0).sqrt_()
        d[:, : e - s].fill_diagonal_(0.0)  # exact zeros for self-pairs, not sqrt(rounding error)
        per_class = _by_class(d, codes[s:], n_classes, dim=1)  # (B, C) row sums per column class
        square = _by_class(per_class, codes[s:e], n_classes, dim=0)  # (C, C): the (B, B) block once per pair...
        diag_block = _by_class(_by_class(d[:, : e - s], codes[s:e], n_classes, 1), codes[s:e], n_classes, 0)
        later = square - diag_block  # ...but the later columns only once
        sums += diag_block + later + later.T
    return sums


def _by_class(values: torch.Tensor, codes: torch.Tensor, n_classes: int, dim: int) -> torch.Tensor:
    """Sums of `values` along `dim` grouped by class code (codes: one per entry along dim)."""
    shape = list(values.shape)
    shape[dim] = n_classes
    return torch.zeros(shape, dtype=values.dtype, device=values.device).index_add_(dim, codes, values)
