"""Leave-one-out retrieval metrics with pytorch-metric-learning's definitions, exact and blockwise.

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

Only a (block, N) similarity matrix and its top max(R, k) columns exist at any time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from latentatlas.analysis.distances import DEFAULT_MEMORY_BUDGET, as_labels, as_matrix
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
    dtype: torch.dtype = torch.float64,
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
        dtype: precision of the similarities; float64 keeps near-ties in their true order.
        memory_budget: bytes for the (block, N) temporaries when block_size is None.

    Returns:
        dict of python floats: precision_at_1, r_precision, mean_average_precision_at_r, recall_at_{k} for
        each k, knn_accuracy; and metric, knn_k, n_queries (queries scored), n_lone_queries (left out).
    """
    if metric not in RETRIEVAL_METRICS:
        raise ConfigError(f"metric: {metric!r} is not supported for retrieval; use cosine or euclidean")
    xt = as_matrix(x, device=device)
    n = xt.shape[0]
    codes, classes, counts = as_labels(labels, n, device=xt.device)
    ks = sorted({int(v) for v in ((k,) if isinstance(k, int) else k)})
    for name, value in [("k", v) for v in ks] + [("knn_k", knn_k)]:
        if not 1 <= value <= n - 1:
            raise ConfigError(f"{name}: {value} is outside 1..{n - 1} (the number of other points); lower it")
    r = torch.as_tensor(counts, device=xt.device)[codes] - 1  # (N,) relevant items per query
    max_r = int(r.max())
    if max_r == 0:
        raise DataError("labels: every class has a single member, so no query has a match; check the labels")
    if metric == "cosine":
        norms = xt.norm(dim=1, keepdim=True)
        if bool((norms == 0).any()):
            raise DataError("embeddings: some rows are all zeros, so cosine is undefined; drop those rows")
        ref = (xt / norms).to(dtype)
        sq = None
    else:
        ref = (xt - xt.mean(dim=0)).to(dtype)  # centering: distances unchanged, fewer cancelled digits
        sq = (ref * ref).sum(dim=1)
    depth = max(max_r, ks[-1], knn_k)
    # Per block: the (B, N) scores and about five (B, depth) float64 temporaries of the metrics.
    block = block_size or max(1, min(n, memory_budget // (ref.element_size() * 2 * n + 8 * 5 * depth)))
    totals = torch.zeros(4 + len(ks), dtype=torch.float64, device=xt.device)
    for s in range(0, n, block):
        e = min(s + block, n)
        scores = ref[s:e] @ ref.T  # (B, N) similarity; for euclidean -||a - b||^2 ranks the same as -||a - b||
        if sq is not None:
            scores = 2.0 * scores - sq[s:e, None] - sq[None, :]
        rows = torch.arange(e - s, device=scores.device)
        scores[rows, rows + s] = -torch.inf  # leave the query out
        idx = torch.topk(scores, depth, dim=1, sorted=True).indices  # (B, depth), nearest first
        totals += _block_totals(codes[idx], codes[s:e], r[s:e], ks, knn_k, len(classes))
    n_queries = int((r > 0).sum())
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


def _block_totals(
    nn_codes: torch.Tensor, q_codes: torch.Tensor, r: torch.Tensor, ks: list[int], knn_k: int, n_classes: int
) -> torch.Tensor:
    """Sums over the block's non-lone queries of [P@1, R-precision, MAP@R, kNN correct, recall@k...].

    Args:
        nn_codes: (B, depth) class index of each query's neighbours, nearest first.
        q_codes: (B,) class index of each query.
        r: (B,) relevant items per query (0 for lone queries, which are left out).
    """
    keep = r > 0
    nn_codes, q_codes, r = nn_codes[keep], q_codes[keep], r[keep]
    rel = nn_codes == q_codes[:, None]  # (B, depth)
    pos = torch.arange(1, rel.shape[1] + 1, device=rel.device)  # 1-based ranks
    hits = rel & (pos[None, :] <= r[:, None])  # relevant and within the first R
    rf = r.to(torch.float64)
    hits_f = hits.to(torch.float64)
    precision_at_j = torch.cumsum(hits_f, dim=1) / pos  # P@j counted within the first R, as PML does
    sums = [
        rel[:, 0].to(torch.float64).sum(),
        (hits_f.sum(dim=1) / rf).sum(),
        ((precision_at_j * hits_f).sum(dim=1) / rf).sum(),
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
