"""What a k-NN classifier on embeddings gets wrong: predictions, the class confusion matrix, the worst and the
most typical queries.

Every embedding is a query against all the others (leave-one-out, as `retrieval`). Its k nearest neighbours are
ordered by distance, equal distances by the neighbour's index, so results are deterministic. The prediction is
the majority class of the k neighbours; a tie goes to the tied class with the nearest member (the rule of
`retrieval.knn_accuracy`, so the confusion matrix's diagonal over N is that accuracy when no class is alone).

    confusion[i, j] = number of queries of class i predicted as class j       (rows: true class)
    mistakes        = queries whose nearest neighbour has another class, the most other-class neighbours first
    typical         = per class, the queries with the most same-class neighbours, the closest ones first

Distances are float64 and computed blockwise ((block, N) at a time): cosine 1 - cos on L2-normalized rows, or
euclidean on the raw rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from latentatlas.errors import ConfigError, DataError

METRICS = ("cosine", "euclidean")
BLOCK_BYTES = 64 * 2**20  # one (block, N) float64 distance block


def _matrix(x: Any, metric: str) -> torch.Tensor:
    """(N, D) float64 rows ready for distances: unit rows for cosine, centred rows for euclidean."""
    if metric not in METRICS:
        raise ConfigError(f"metric: {metric!r} is not supported for k-NN review; use cosine or euclidean")
    t = x.detach().cpu() if isinstance(x, torch.Tensor) else torch.from_numpy(np.asarray(x))
    if t.ndim != 2 or t.shape[0] < 2 or t.shape[1] == 0:
        raise DataError(f"embeddings: shape {tuple(t.shape)}; pass (N, D) with at least 2 rows")
    t = t.to(torch.float64)
    if not bool(torch.isfinite(t).all()):
        raise DataError("embeddings: NaN or inf values; drop or fix those rows")
    if metric == "euclidean":
        return t - t.mean(dim=0)  # distances unchanged, fewer cancelled digits
    norms = t.norm(dim=1, keepdim=True)
    if bool((norms == 0).any()):
        raise DataError("embeddings: some rows are all zeros, so cosine is undefined; drop those rows")
    return t / norms


def _distances(ref: torch.Tensor, s: int, e: int, metric: str) -> torch.Tensor:
    """(e - s, N) distances of rows s:e to every row, each query's own column +inf."""
    q = ref[s:e]
    if metric == "cosine":
        d = 1.0 - q @ ref.T
    else:
        sq = (ref * ref).sum(dim=1)
        d = (sq[s:e, None] + sq[None, :] - 2.0 * (q @ ref.T)).clamp_(min=0.0).sqrt_()
    rows = torch.arange(e - s)
    d[rows, rows + s] = torch.inf
    return d


def _smallest(d: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices and values of the k smallest of each row, ascending, equal values by ascending index."""
    width = min(k + 1, d.shape[1] - 1)  # one more column shows a tie across the cut
    vals, idx = torch.topk(d, width, dim=1, largest=False, sorted=True)
    by_index = torch.argsort(idx, dim=1)
    vals, idx = vals.gather(1, by_index), idx.gather(1, by_index)
    by_value = torch.argsort(vals, dim=1, stable=True)  # ascending values, ties keep index order
    vals, idx = vals.gather(1, by_value), idx.gather(1, by_value)
    if width > k:
        cut = (vals[:, k - 1] == vals[:, k]).nonzero().squeeze(1)  # which tied points are kept depends on index
        for r in cut.tolist():
            full = torch.sort(d[r], stable=True)
            vals[r], idx[r] = full.values[:width], full.indices[:width]
    return idx[:, :k], vals[:, :k]


def nearest_neighbours(x: Any, k: int, metric: str = "cosine") -> tuple[np.ndarray, np.ndarray]:
    """The k nearest other rows of every row (leave-one-out), exact.

    Args:
        x: (N, D) embeddings (numpy or torch). k: 1..N-1. metric: "cosine" (1 - cos) or "euclidean".

    Returns:
        indices (N, k) int64 and distances (N, k) float64, nearest first, equal distances by index.
    """
    ref = _matrix(x, metric)
    n = ref.shape[0]
    if not 1 <= k <= n - 1:
        raise ConfigError(f"k: {k} is outside 1..{n - 1} (the number of other points); lower it")
    block = max(1, min(n, BLOCK_BYTES // (8 * n)))
    parts = [_smallest(_distances(ref, s, min(s + block, n), metric), k) for s in range(0, n, block)]
    return torch.cat([p[0] for p in parts]).numpy(), torch.cat([p[1] for p in parts]).numpy()


def knn_predict(neighbour_labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Majority class of each row of (N, k) neighbour classes (nearest first); ties go to the tied class whose
    member is nearest. Returns (N,) int64."""
    nl = np.asarray(neighbour_labels, dtype=np.int64)
    n, k = nl.shape
    rows = np.repeat(np.arange(n), k)
    votes = np.zeros((n, n_classes), dtype=np.int64)
    np.add.at(votes, (rows, nl.ravel()), 1)
    first = np.full((n, n_classes), k, dtype=np.int64)
    np.minimum.at(first, (rows, nl.ravel()), np.tile(np.arange(k), n))
    return np.argmax(votes * (k + 1) - first, axis=1)  # more votes win; among equal votes, the nearer member


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """(C, C) int64 counts: row = true class, column = predicted class."""
    out = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(out, (np.asarray(true, np.int64), np.asarray(predicted, np.int64)), 1)
    return out


@dataclass
class KnnReview:
    """k-NN predictions of labelled embeddings and what they get wrong (see `knn_review`)."""

    labels: np.ndarray  # (N,) int64 class codes 0..C-1
    neighbours: np.ndarray = field(repr=False)  # (N, k) int64, nearest first
    distances: np.ndarray = field(repr=False)  # (N, k) float64
    predictions: np.ndarray = field(repr=False)  # (N,) int64
    confusion: np.ndarray  # (C, C) int64, rows = true class
    k: int
    metric: str

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.confusion) / self.confusion.sum())

    def same_class_share(self) -> np.ndarray:
        """(N,) share of each query's k neighbours that have its class."""
        return (self.labels[self.neighbours] == self.labels[:, None]).mean(axis=1)

    def mistakes(self, n: int = 12, per_class: int | None = None) -> np.ndarray:
        """Indices of queries whose nearest neighbour has another class: the most other-class neighbours first,
        then the nearest first neighbour; at most `per_class` of each true class."""
        wrong = np.flatnonzero(self.labels[self.neighbours[:, 0]] != self.labels)
        order = wrong[np.lexsort((wrong, self.distances[wrong, 0], self.same_class_share()[wrong]))]
        return _cap(order, self.labels, n, per_class)

    def typical(self, per_class: int = 1) -> np.ndarray:
        """Indices of the best-retrieved queries of each class (most same-class neighbours, then the smallest mean
        distance to them), class by class."""
        share, mean_d = self.same_class_share(), self.distances.mean(axis=1)
        idx = np.arange(len(self.labels))
        order = idx[np.lexsort((idx, mean_d, -share))]
        return np.concatenate([order[self.labels[order] == c][:per_class] for c in range(len(self.confusion))])

    def confused_pairs(self, n: int = 3) -> list[tuple[int, int, int, float]]:
        """The `n` largest off-diagonal counts: (true class, predicted class, count, share of the true class)."""
        c = self.confusion.astype(np.float64)
        off = [(int(self.confusion[i, j]), i, j) for i in range(len(c)) for j in range(len(c)) if i != j]
        off = sorted((p for p in off if p[0] > 0), key=lambda p: (-p[0], p[1], p[2]))[:n]
        return [(i, j, count, count / c[i].sum()) for count, i, j in off]


def _cap(order: np.ndarray, labels: np.ndarray, n: int, per_class: int | None) -> np.ndarray:
    if per_class is not None:
        seen: dict[int, int] = {}
        keep = []
        for q in order.tolist():
            seen[int(labels[q])] = seen.get(int(labels[q]), 0) + 1
            if seen[int(labels[q])] <= per_class:
                keep.append(q)
        order = np.asarray(keep, dtype=np.int64)
    return order[:n]


def knn_review(x: Any, labels: Any, k: int = 10, metric: str = "cosine") -> KnnReview:
    """k-NN predictions and the confusion matrix of labelled embeddings.

    Args:
        x: (N, D) embeddings. labels: (N,) int class codes 0..C-1. k: neighbours voting (1..N-1).
        metric: "cosine" or "euclidean".
    """
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) != len(x) or y.dtype.kind not in "iu" or (len(y) and y.min() < 0):
        raise DataError(f"labels: need ({len(x)},) class codes 0..C-1, got {y.dtype} of shape {y.shape}")
    y = y.astype(np.int64)
    idx, dist = nearest_neighbours(x, k, metric)
    n_classes = int(y.max()) + 1
    pred = knn_predict(y[idx], n_classes)
    return KnnReview(y, idx, dist, pred, confusion_matrix(y, pred, n_classes), k, metric)
