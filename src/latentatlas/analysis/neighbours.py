"""Exact nearest neighbours, blockwise, equal scores ordered by index: the one neighbour search of latentatlas.

Neighbours are ranked by a score, larger = nearer: the cosine similarity of the unit-normalized rows
(metric="cosine"), or for metric="euclidean" 2 <q, x> - ||x||^2 = ||q||^2 - ||q - x||^2 of the rows centred
on the references' mean (centring changes no distance and cancels fewer digits; the row constant ||q||^2
changes no row's order, so it is left out and the product and the column term fuse into one addmm). Queries
are scored in blocks of rows against all references, so only a (block, N) score matrix exists at a time.
Equal scores are ordered by the reference's index, so results are deterministic.

`retrieval_metrics` scores its blocks with the same `Scorer` and ranks them with the same `top_k_by_index`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from latentatlas.analysis.inputs import DEFAULT_MEMORY_BUDGET, as_matrix
from latentatlas.errors import ConfigError, DataError

NEIGHBOUR_METRICS = ("cosine", "euclidean")


@dataclass(frozen=True)
class Scorer:
    """References prepared for scoring, and how to score query rows against them.

    Attributes:
        ref: (N, D) reference rows in the score dtype (unit rows for cosine, centred rows for euclidean).
        bias: (1, N) column term -||x||^2 of the euclidean score, None for cosine.
        shift: (D,) float64 mean subtracted from every row (euclidean), None for cosine.
        metric: "cosine" or "euclidean".
    """

    ref: torch.Tensor
    bias: torch.Tensor | None
    shift: torch.Tensor | None
    metric: str

    def queries(self, x: torch.Tensor) -> torch.Tensor:
        """(B, D) query rows (float64, on ref's device) prepared like the references, in the score dtype."""
        if self.metric == "cosine":
            return _unit_rows(x, "queries").to(self.ref.dtype)
        return (x - self.shift).to(self.ref.dtype)

    def take(self, rows: torch.Tensor) -> Scorer:
        """The Scorer of references `rows` only, in that order (the same prepared values)."""
        bias = None if self.bias is None else self.bias[:, rows]
        return Scorer(self.ref.index_select(0, rows), bias, self.shift, self.metric)

    def scores(self, q: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """(B, N) scores of prepared query rows q (B, D) against every reference, written into `out`."""
        if self.bias is None:
            return torch.mm(q, self.ref.T, out=out)
        return torch.addmm(self.bias, q, self.ref.T, beta=1.0, alpha=2.0, out=out)


def make_scorer(x: torch.Tensor, metric: str, dtype: torch.dtype = torch.float32) -> Scorer:
    """Prepare (N, D) float64 references for scoring in `dtype` (float32 as pytorch-metric-learning, or float64)."""
    check_score_options(metric, dtype)
    if metric == "cosine":
        return Scorer(_unit_rows(x, "embeddings").to(dtype), None, None, metric)
    shift = x.mean(dim=0)
    ref = x - shift
    return Scorer(ref.to(dtype), -(ref * ref).sum(dim=1).to(dtype)[None, :], shift, metric)


def check_score_options(metric: str, dtype: torch.dtype, what: str = "neighbours") -> None:
    """Raise ConfigError unless metric and dtype are supported; `what` names the caller in the message."""
    if metric not in NEIGHBOUR_METRICS:
        raise ConfigError(f"metric: {metric!r} is not supported for {what}; use cosine or euclidean")
    if dtype not in (torch.float32, torch.float64):
        raise ConfigError(f"dtype: {dtype} is not supported for {what}; use torch.float32 or torch.float64")


def top_k_by_index(
    scores: torch.Tensor, depth: int, ids: torch.Tensor | None = None, columns: torch.Tensor | None = None
) -> torch.Tensor:
    """Columns (or ids) of the `depth` highest scores of each row, highest first, equal scores by ascending
    column (or id).

    `topk` orders equal scores arbitrarily. Float32 scores of distinct points tie now and then (a few times
    per thousand neighbours), almost always in pairs: a tied pair is swapped into index order in place. Rows
    with a run of three or more equal scores, or a tie across the cut (which tied columns are kept depends on
    their index), are rare unless points are duplicated; they get a stable sort of the whole row.

    Args:
        scores: (B, N) scores, larger = nearer (excluded columns -inf).
        depth: 1..N.
        ids: (N,) int64 a permutation: the id of each column (references stored in another order); ties are
            then ordered by id and ids are returned. columns: its inverse (the column of each id), or None to
            derive it when needed.

    Returns:
        (B, depth) int64 column indices, or ids.
    """
    n = scores.shape[1]
    width = min(depth + 1, n)  # one extra column shows ties that straddle the cut
    vals, idx = torch.topk(scores, width, dim=1, sorted=True)
    if ids is not None:
        idx = ids[idx]
    slow = torch.zeros(len(idx), dtype=torch.bool, device=idx.device)
    if width > depth:
        slow |= vals[:, depth - 1] == vals[:, depth]
    tie = vals[:, 1:] == vals[:, :-1]  # (B, width - 1): position j ties with j + 1
    if bool(tie.any()):
        slow |= (tie[:, 1:] & tie[:, :-1]).any(dim=1)  # runs of three or more
        row, col = (tie & ~slow[:, None]).nonzero(as_tuple=True)
        a, b = idx[row, col], idx[row, col + 1]
        idx[row, col], idx[row, col + 1] = torch.minimum(a, b), torch.maximum(a, b)
    if bool(slow.any()):
        rows = slow.nonzero().squeeze(1)
        if ids is not None and columns is None:
            columns = torch.argsort(ids)
        full = scores[rows] if columns is None else scores[rows].index_select(1, columns)  # in id order
        idx[rows, :depth] = torch.sort(full, dim=1, descending=True, stable=True).indices[:, :depth]
    return idx[:, :depth]


def knn(
    queries: Any,
    references: Any,
    k: int,
    metric: str = "cosine",
    exclude_self: bool = False,
    device: Any = None,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The k nearest references of every query, exact, blockwise, equal scores in reference-index order.

    Args:
        queries: (Q, D) float embeddings (numpy or torch).
        references: (N, D) float embeddings.
        k: neighbours per query, 1..N (1..N-1 with exclude_self).
        metric: "cosine" (cosine similarity) or "euclidean" (L2 distance of the raw vectors).
        exclude_self: the queries are the references (row i of both is one point): i is not its own neighbour.
        device: torch device (default: the references' device, CPU for numpy).
        memory_budget: bytes for the (block, N) scores and their top-k.
        dtype: precision of the ranking scores, float32 (default) or float64.

    Returns:
        indices: (Q, k) int64 reference rows, nearest first.
        distances: (Q, k) float64, recomputed from the rows in float64 (1 - cosine similarity, or L2).
    """
    check_score_options(metric, dtype)
    ref = as_matrix(references, "references", device=device)
    qx = as_matrix(queries, "queries", device=ref.device)
    n = ref.shape[0]
    if qx.shape[1] != ref.shape[1]:
        raise DataError(f"queries: dimension {qx.shape[1]} is not the references' {ref.shape[1]}; embed both alike")
    if exclude_self and qx.shape[0] != n:
        raise ConfigError(f"exclude_self: {qx.shape[0]} queries are not the {n} references; pass the same rows")
    top = n - 1 if exclude_self else n
    if not 1 <= k <= top:
        raise ConfigError(f"k: {k} is outside 1..{top} (the number of candidate neighbours); lower it")
    scorer = make_scorer(ref, metric, dtype)
    per_row = scorer.ref.element_size() * n + (scorer.ref.element_size() + 8 + 8 * ref.shape[1]) * (k + 1)
    block = max(1, min(len(qx), memory_budget // per_row))
    buffer = torch.empty(min(block, len(qx)), n, dtype=scorer.ref.dtype, device=ref.device)
    indices = torch.empty(len(qx), k, dtype=torch.long, device=ref.device)
    for s in range(0, len(qx), block):
        rows = torch.arange(s, min(s + block, len(qx)), device=ref.device)
        out = scorer.scores(scorer.queries(qx[rows]), buffer[: len(rows)])
        if exclude_self:
            out[torch.arange(len(rows), device=out.device), rows] = -torch.inf
        indices[rows] = top_k_by_index(out, k)
    return indices, _distances(qx, ref, indices, metric, block)


def _distances(qx: torch.Tensor, ref: torch.Tensor, idx: torch.Tensor, metric: str, block: int) -> torch.Tensor:
    """(Q, k) float64 distances of each query to its neighbours idx (Q, k), from the float64 rows."""
    out = torch.empty(idx.shape, dtype=torch.float64, device=ref.device)
    for s in range(0, len(qx), block):
        q, nb = qx[s : s + block], ref[idx[s : s + block]]  # (b, D), (b, k, D)
        if metric == "cosine":
            unit = nb / nb.norm(dim=2, keepdim=True)  # no zero rows: make_scorer refused them
            out[s : s + block] = 1.0 - torch.einsum("bd,bkd->bk", _unit_rows(q, "queries"), unit)
        else:
            out[s : s + block] = (nb - q[:, None, :]).norm(dim=2)
    return out


def _unit_rows(x: torch.Tensor, name: str) -> torch.Tensor:
    """Rows of x divided by their norms (in x's dtype); all-zero rows have no direction and are refused."""
    norms = x.norm(dim=1, keepdim=True)
    if bool((norms == 0).any()):
        raise DataError(f"{name}: some rows are all zeros, so cosine is undefined; drop those rows")
    return x / norms
