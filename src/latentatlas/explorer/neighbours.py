"""Exact k nearest neighbours in the full D-dimensional space, through the geometry layer's retrieval engine.

One engine: the ranking is the geometry layer's (`latentatlas.analysis.neighbours`: the same `Scorer` and
`top_k_by_index` as `knn` and the retrieval metrics, equal scores ordered by the neighbour's index), so the
explorer's neighbours are exactly the ones retrieval metrics count, and any speed-up there speeds up the explorer.
The references are prepared once (`make_scorer`), so a served query costs one (B, N) product and a top-k.
A query of a few points among N >= 100,000 cosine points (`--serve`) first reads a float16 copy of the unit rows
(the float32 product is memory-bound; at 1,000,000 x 128 a served click went from 72 ms to 16 ms here), then
rescores in float32 every point whose coarse score is within twice the coarse error bound of the k-th coarse
score. No true neighbour can lie below that cut, so the answer is the exact one (`_coarse_candidates`).
The point itself is left out. Distances of the k found neighbours
are then recomputed in float64 from the embeddings, so the listed numbers are not float32 score differences.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from latentatlas.analysis.inputs import DEFAULT_MEMORY_BUDGET, as_matrix
from latentatlas.analysis.neighbours import make_scorer, top_k_by_index
from latentatlas.errors import ConfigError

_RANKING = {"cosine": "cosine", "euclidean": "euclidean", "sqeuclidean": "euclidean"}  # same order
COARSE_MIN_POINTS = 100_000  # below, one float32 product is fast enough
COARSE_MAX_ROWS = 4  # served queries; the blocks of `all` take the plain product
# |float16 score - exact score| of unit rows: 2u + u^2 from rounding both factors (u = 2^-11), u from rounding the
# output, ~1e-5 from subnormal factors and float32 accumulation: <= 1.6e-3. The margin is 2.5 times that.
COARSE_ERROR = 4e-3


class NeighbourIndex:
    """Exact k-NN queries among N points under a metric.

    Args:
        x: (N, D) float embeddings (numpy or torch); float32 is kept as is (no copy of the input).
        metric: "cosine" (distance 1 - cos), "euclidean" or "sqeuclidean" (both ranked by L2 distance).
        memory_budget: bytes for the (B, N) score block of `all`.
    """

    def __init__(self, x: Any, metric: str = "cosine", memory_budget: int = DEFAULT_MEMORY_BUDGET):
        if metric not in _RANKING:
            raise ConfigError(f"metric: {metric!r} is unknown for neighbours; use cosine, euclidean or sqeuclidean")
        self.metric = metric
        self.memory_budget = memory_budget
        self.x_ = as_matrix(x, dtype=None)  # (N, D), float32 stays float32
        self.scorer_ = make_scorer(self.x_, _RANKING[metric], torch.float32)
        self.coarse_: torch.Tensor | None = None  # float16 copy of the unit rows, made on the first served query
        self._lock = threading.Lock()  # the server answers from several threads; one product at a time

    @property
    def n(self) -> int:
        return int(self.x_.shape[0])

    def query(self, rows: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Neighbours of the points `rows`.

        Args:
            rows: (B,) int indices of the query points.
            k: neighbours per query, 1 <= k <= N - 1.

        Returns:
            idx: (B, k) int64 nearest first; dist: (B, k) float64 distances under the metric.
        """
        if not 1 <= k <= self.n - 1:
            raise ConfigError(f"k: {k} is outside 1..{self.n - 1} (the number of other points); lower it")
        ref = self.scorer_.ref
        rows_t = torch.as_tensor(np.asarray(rows, dtype=np.int64).reshape(-1), device=ref.device)
        coarse = self.metric == "cosine" and self.n >= COARSE_MIN_POINTS and len(rows_t) <= COARSE_MAX_ROWS
        with self._lock:
            idx = torch.stack([self._coarse_query(r, k) for r in rows_t]) if coarse else self._plain(rows_t, k)
        return idx.cpu().numpy(), self._distances(rows_t, idx).cpu().numpy()

    def _plain(self, rows: torch.Tensor, k: int) -> torch.Tensor:
        """(B, k) neighbours of the points `rows` (B,) from one float32 (B, N) product."""
        ref = self.scorer_.ref
        buffer = torch.empty(len(rows), self.n, dtype=ref.dtype, device=ref.device)
        scores = self.scorer_.scores(self.scorer_.queries(self.x_[rows]), buffer)  # (B, N)
        scores[torch.arange(len(rows), device=ref.device), rows] = -torch.inf  # not its own neighbour
        return top_k_by_index(scores, k)

    def _coarse_query(self, row: torch.Tensor, k: int) -> torch.Tensor:
        """(k,) exact neighbours of one point (a 0-d index): a float16 pass over all N, then float32 scores of the
        candidates."""
        ref = self.scorer_.ref
        if self.coarse_ is None:
            self.coarse_ = ref.to(torch.float16)
        q = self.scorer_.queries(self.x_[row[None]])  # (1, D) unit row, float32
        coarse = torch.mm(q.to(torch.float16), self.coarse_.T).float()[0]  # (N,)
        coarse[row] = -torch.inf
        cand = _coarse_candidates(coarse, k)
        if cand is None:  # no safe cut (degenerate scores): the plain product
            return self._plain(row[None], k)[0]
        exact = torch.mm(q, ref.index_select(0, cand).T)  # (1, C) float32; the point itself is no candidate
        return cand[top_k_by_index(exact, k)[0]]  # candidates ascend by index, so ties stay in index order

    def _distances(self, rows: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        """(B, k) float64 exact distances between each query and its neighbours."""
        q = self.x_[rows].to(torch.float64)[:, None, :]  # (B, 1, D)
        nb = self.x_[idx].to(torch.float64)  # (B, k, D)
        if self.metric == "cosine":
            cos = (q * nb).sum(-1) / (q.norm(dim=-1) * nb.norm(dim=-1))
            return 1.0 - cos
        d2 = ((q - nb) ** 2).sum(-1)
        return d2 if self.metric == "sqeuclidean" else d2.sqrt()

    def all(self, k: int, progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Neighbours of every point: idx (N, k) int32 and dist (N, k) float32, blockwise within the budget.

        Args:
            k: neighbours per point.
            progress: called with (points done, N) after each block.
        """
        per_row = 4 * self.n + 64 * (k + 1)  # the float32 score row and the top-k tables
        block = max(1, min(self.n, self.memory_budget // per_row))
        idx_out = np.empty((self.n, k), dtype=np.int32)
        dist_out = np.empty((self.n, k), dtype=np.float32)
        for start in range(0, self.n, block):
            rows = np.arange(start, min(start + block, self.n))
            idx, dist = self.query(rows, k)
            idx_out[rows], dist_out[rows] = idx, dist
            if progress is not None:
                progress(int(rows[-1]) + 1, self.n)
        return idx_out, dist_out


def _coarse_candidates(coarse: torch.Tensor, k: int, width: int = 256) -> torch.Tensor | None:
    """Ascending indices of every point that may be among the k nearest, from (N,) coarse scores within
    COARSE_ERROR of the exact ones: with t the k-th coarse score, k points score >= t - e exactly, so a true
    neighbour scores >= t - e and its coarse score is >= t - 2e. The cut is found among the `width` highest
    coarse scores, widened while it does not fall inside them; None when it would keep most of the points."""
    n = len(coarse)
    while True:
        vals, idx = torch.topk(coarse, min(max(width, k + 1), n))
        cut = vals[k - 1] - 2 * COARSE_ERROR
        if not bool(torch.isfinite(cut)) or len(vals) == n and bool(vals[-1] >= cut):
            return None
        if bool(vals[-1] < cut):  # the cut lies inside: every candidate is in vals
            return torch.sort(idx[vals >= cut]).values
        if width > n // 4:
            return None
        width *= 4


def knn_agreement(neighbour_idx: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Share of each point's k neighbours that carry its label: (N, k) indices, (N,) codes -> (N,) float32."""
    labels = np.asarray(labels)
    return (labels[neighbour_idx] == labels[:, None]).mean(axis=1).astype(np.float32)


def distance_to_class_centre(x: Any, labels: np.ndarray, metric: str = "cosine", chunk: int = 1 << 14) -> np.ndarray:
    """Distance of every point to the centre of its class, under the metric.

    cosine: 1 - cos(x, c) with c the mean of the class's unit vectors (the direction the class points to);
    euclidean: ||x - mean||; sqeuclidean: ||x - mean||^2.

    Args:
        x: (N, D) float embeddings (or (N, 2) map coordinates).
        labels: (N,) int class codes 0..C-1.

    Returns:
        (N,) float32.
    """
    if metric not in _RANKING:
        raise ConfigError(f"metric: {metric!r} is unknown; use cosine, euclidean or sqeuclidean")
    xt = as_matrix(x, dtype=None)
    codes = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    c = int(codes.max()) + 1
    sums = torch.zeros(c, xt.shape[1], dtype=torch.float64)
    for s in range(0, len(xt), chunk):  # class sums in float64, a chunk at a time
        rows = xt[s : s + chunk].to(torch.float64)
        sums.index_add_(0, codes[s : s + chunk], _unit(rows) if metric == "cosine" else rows)
    counts = torch.bincount(codes, minlength=c).clamp(min=1).to(torch.float64)
    centres = sums / counts[:, None]
    if metric == "cosine":
        centres = _unit(centres)
    out = np.empty(len(xt), dtype=np.float32)
    for s in range(0, len(xt), chunk):
        rows = xt[s : s + chunk].to(torch.float64)
        cen = centres[codes[s : s + chunk]]
        if metric == "cosine":
            d = 1.0 - (_unit(rows) * cen).sum(1)
        else:
            d = ((rows - cen) ** 2).sum(1)
            d = d if metric == "sqeuclidean" else d.sqrt()
        out[s : s + chunk] = d.numpy()
    return out


def _unit(rows: torch.Tensor) -> torch.Tensor:
    """Rows scaled to unit length; all-zero rows stay zero."""
    return rows / rows.norm(dim=1, keepdim=True).clamp(min=1e-300)
