"""Leave-one-out retrieval metrics with pytorch-metric-learning's definitions, exact, blockwise and class-grouped.

Every point is a query against all the others ("A Metric Learning Reality Check", Musgrave et al. 2020). For a
query of class c, R = n_c - 1 is the number of other members of its class; with its neighbours sorted by
similarity and rel_j = 1 when the j-th one has class c:

    precision_at_1              = rel_1
    r_precision                 = (1 / R) sum_{j <= R} rel_j
    mean_average_precision_at_r = (1 / R) sum_{j <= R} rel_j * P@j,   P@j = (1 / j) sum_{i <= j} rel_i

averaged over the queries whose class has another member (PML leaves out such "lone" queries; so do we, for
every metric). These equal PML's `AccuracyCalculator(k="max_bin_count").get_accuracy(x, labels)`.
PML has no recall@k; ours is the fraction of queries with at least one same-class item among their k nearest
(the usual recall@k of image retrieval papers, e.g. Oh Song et al. 2016). knn_accuracy is a majority vote of
the knn_k nearest, a tie going to the tied class that has the nearest member.

Speed: queries are grouped by class and lone queries skipped, so a block of queries needs only the top
max(R, k, knn_k) neighbours over its own rows (PML's "max_bin_count" takes the largest R for every query);
similarities are float32 by default (as PML), written into one preallocated (block, N) buffer. The cost is
the (block, N) product plus `torch.topk` (docs/analysis-math.md has the measured split). Equal similarities
are ordered by the neighbour's index (a stable sort), so results are deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from latentatlas.analysis.inputs import DEFAULT_MEMORY_BUDGET, as_labels, as_matrix
from latentatlas.errors import ConfigError, DataError

RETRIEVAL_METRICS = ("cosine", "euclidean")


def retrieval_metrics(
    x: Any,
    labels: Any,
    metric: str = "cosine",
    k: int | Sequence[int] = (1, 5, 10),
    device: Any = None,
    block_size: int | None = None,
    knn_k: int = 10,
    dtype: torch.dtype = torch.float32,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
) -> dict[str, Any]:
    """Exact leave-one-out retrieval metrics over a labelled set.

    Args:
        x: (N, D) float embeddings (numpy or torch).
        labels: (N,) integer labels.
        metric: "cosine" (rank by cosine similarity) or "euclidean" (rank by L2 distance of the raw vectors).
        k: cut-off(s) for recall_at_k, each in 1..N-1.
        device: torch device (default: x's device, CPU for numpy).
        block_size: queries per block (default: from memory_budget).
        knn_k: neighbours voting in knn_accuracy.
        dtype: precision of the similarities: float32 (PML's, twice as fast) or float64 (keeps near-ties
            closer than float32 rounding in their true order).
        memory_budget: bytes for the (block, N) similarities and the (block, depth) neighbour tables.

    Returns:
        dict of python floats: precision_at_1, r_precision, mean_average_precision_at_r, recall_at_{k} for
        each k, knn_accuracy; and metric, knn_k, n_queries (queries scored), n_lone_queries (left out).
    """
    if metric not in RETRIEVAL_METRICS:
        raise ConfigError(f"metric: {metric!r} is not supported for retrieval; use cosine or euclidean")
    if dtype not in (torch.float32, torch.float64):
        raise ConfigError(f"dtype: {dtype} is not supported for retrieval; use torch.float32 or torch.float64")
    xt = as_matrix(x, device=device)
    n = xt.shape[0]
    codes, classes, counts = as_labels(labels, n, device=xt.device)
    ks = sorted({int(v) for v in ((k,) if isinstance(k, int) else k)})
    for name, value in [("k", v) for v in ks] + [("knn_k", knn_k)]:
        if not 1 <= value <= n - 1:
            raise ConfigError(f"{name}: {value} is outside 1..{n - 1} (the number of other points); lower it")
    if int(counts.max()) < 2:
        raise DataError("labels: every class has a single member, so no query has a match; check the labels")
    ref, bias = _prepare(xt, metric, dtype)
    # Queries grouped by class (index order within a class), lone queries dropped: a block's rows share a
    # few values of R, so its top-k depth is the largest R among them, not the largest R of the whole set.
    r_all = torch.as_tensor(counts, device=xt.device)[codes] - 1  # (N,) relevant items per query
    order = torch.argsort(codes, stable=True)
    order = order[r_all[order] > 0]
    depth_max = max(int(counts.max()) - 1, ks[-1], knn_k)
    per_row = ref.element_size() * n + (ref.element_size() + 8 + 8 * 5) * min(depth_max + 1, n - 1)
    block = block_size or max(1, min(n, memory_budget // per_row))
    buffer = torch.empty(min(block, len(order)), n, dtype=ref.dtype, device=ref.device)  # reused: no page faults
    totals = torch.zeros(4 + len(ks), dtype=torch.float64, device=xt.device)
    for s in range(0, len(order), block):
        rows = order[s : s + block]
        r = r_all[rows]
        scores = _scores(ref, bias, rows, buffer[: len(rows)])
        idx = _ranked_neighbours(scores, max(int(r.max()), ks[-1], knn_k))  # (B, depth), ties by index
        totals += _block_totals(codes[idx], codes[rows], r, ks, knn_k, len(classes))
    n_queries = int(counts[counts > 1].sum())
    out: dict[str, Any] = {
        "precision_at_1": float(totals[0] / n_queries),
        "r_precision": float(totals[1] / n_queries),
        "mean_average_precision_at_r": float(totals[2] / n_queries),
    }
    out.update({f"recall_at_{kv}": float(totals[4 + i] / n_queries) for i, kv in enumerate(ks)})
    out.update(
        knn_accuracy=float(totals[3] / n_queries),
        metric=metric,
        knn_k=knn_k,
        n_queries=n_queries,
        n_lone_queries=n - n_queries,
    )
    return out


def _prepare(xt: torch.Tensor, metric: str, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Reference rows in `dtype` and, for euclidean, the (1, N) column term of the score."""
    if metric == "cosine":
        norms = xt.norm(dim=1, keepdim=True)  # float64: the normalization itself is not rounded to float32
        if bool((norms == 0).any()):
            raise DataError("embeddings: some rows are all zeros, so cosine is undefined; drop those rows")
        return (xt / norms).to(dtype), None
    ref = xt - xt.mean(dim=0)  # centring: distances unchanged, fewer cancelled digits
    return ref.to(dtype), -(ref * ref).sum(dim=1).to(dtype)[None, :]


def _scores(ref: torch.Tensor, bias: torch.Tensor | None, rows: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """(B, N) scores of queries `rows` against every point, larger = nearer, the query's own column -inf.

    Euclidean ranks by 2 <q, x> - ||x||^2 = ||q||^2 - ||q - x||^2: the row constant ||q||^2 does not change a
    row's order, so it is left out, and the product and the column term fuse into one addmm.
    """
    q = ref[rows]
    if bias is None:
        torch.mm(q, ref.T, out=out)
    else:
        torch.addmm(bias, q, ref.T, beta=1.0, alpha=2.0, out=out)
    out[torch.arange(len(rows), device=out.device), rows] = -torch.inf  # leave the query out
    return out


def _ranked_neighbours(scores: torch.Tensor, depth: int) -> torch.Tensor:
    """Indices of the `depth` highest scores of each row, highest first, equal scores by ascending index.

    `topk` orders equal scores arbitrarily. Float32 scores of distinct points tie now and then (a few times
    per thousand neighbours), almost always in pairs: a tied pair is swapped into index order in place. Rows
    with a run of three or more equal scores, or a tie across the cut (which tied points are kept depends
    on their index), are rare unless points are duplicated; they get a stable sort of the whole row.

    Args:
        scores: (B, N) scores, the query's own column -inf.

    Returns:
        (B, depth) int64 column indices.
    """
    n = scores.shape[1]
    width = min(depth + 1, n - 1)  # one extra column shows ties that straddle the cut
    vals, idx = torch.topk(scores, width, dim=1, sorted=True)
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
        idx[rows, :depth] = torch.sort(scores[rows], dim=1, descending=True, stable=True).indices[:, :depth]
    return idx[:, :depth]


def _block_totals(
    nn_codes: torch.Tensor, q_codes: torch.Tensor, r: torch.Tensor, ks: list[int], knn_k: int, n_classes: int
) -> torch.Tensor:
    """Sums over a block of queries of [P@1, R-precision, MAP@R, kNN correct, recall@k...].

    Args:
        nn_codes: (B, depth) class index of each query's neighbours, nearest first; depth >= max(r).
        q_codes: (B,) class index of each query.
        r: (B,) relevant items per query, each >= 1.
    """
    rel = nn_codes == q_codes[:, None]  # (B, depth)
    max_r = int(r.max())
    pos = torch.arange(1, max_r + 1, device=rel.device)  # 1-based ranks
    hits = (rel[:, :max_r] & (pos[None, :] <= r[:, None])).to(torch.float64)  # relevant and within the first R
    rf = r.to(torch.float64)
    precision_at_j = torch.cumsum(hits, dim=1) / pos  # P@j counted within the first R, as PML does
    sums = [
        rel[:, 0].to(torch.float64).sum(),
        (hits.sum(dim=1) / rf).sum(),
        ((precision_at_j * hits).sum(dim=1) / rf).sum(),
        (_knn_vote(nn_codes[:, :knn_k], n_classes) == q_codes).to(torch.float64).sum(),
    ]
    sums += [rel[:, :kv].any(dim=1).to(torch.float64).sum() for kv in ks]
    return torch.stack(sums)


def _knn_vote(nn_codes: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Majority class of each row of (B, K) neighbour classes; ties go to the class with the nearest member."""
    b, kk = nn_codes.shape
    votes = torch.zeros(b, n_classes, dtype=torch.long, device=nn_codes.device)
    votes.scatter_add_(1, nn_codes, torch.ones_like(nn_codes))
    first = torch.full((b, n_classes), kk, dtype=torch.long, device=nn_codes.device)
    rank = torch.arange(kk, device=nn_codes.device).expand(b, kk)
    first.scatter_reduce_(1, nn_codes, rank, reduce="amin")
    # More votes always wins (votes * (K + 1) dominates); among equal votes the smaller first rank wins.
    return torch.argmax(votes * (kk + 1) - first, dim=1)
