"""Leave-one-out retrieval metrics with pytorch-metric-learning's definitions: exact, or on sampled queries.

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

How: queries are scored in blocks against all N points (float32 by default, as PML). Each query's neighbours
down to depth max(R, k, knn_k) are the points above a threshold at or below the depth-th score, sorted
(`retrieval_ranks`; float64 scores: `topk`); equal scores are ordered by the neighbour's index either way, so
results are deterministic. With `queries=Q`, a stratified
sample of Q queries is scored exactly against all N points and every metric comes with a 95% confidence
interval (`retrieval_sampling`). docs/analysis-math.md derives both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from latentatlas.analysis.inputs import DEFAULT_MEMORY_BUDGET, as_labels, as_matrix
from latentatlas.analysis.neighbours import Scorer, check_score_options
from latentatlas.analysis.retrieval_blocks import VALUE_KEYS, prepare, query_values
from latentatlas.analysis.retrieval_layout import ClassLayout
from latentatlas.analysis.retrieval_sampling import CONFIDENCE, interval_estimates, stratified_queries
from latentatlas.dist import all_gather_rows, check_shards, share
from latentatlas.errors import ConfigError, DataError
from latentatlas.heap import release_free_memory

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
    queries: int | None = None,
    seed: int = 0,
    shard: bool = False,
) -> dict[str, Any]:
    """Leave-one-out retrieval metrics over a labelled set, exact or estimated from sampled queries.

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
        memory_budget: bytes for the (block, N) similarities and the per-block tables.
        queries: None for every point a query; Q in 1..N for Q queries sampled by class (stratified), each
            scored exactly against all N points.
        seed: seed of the query sample.
        shard: under torchrun, every process calls this with the same arguments and scores a contiguous share of
            the queries; the per-query values are gathered (`torch.distributed`), so every process returns the
            values one process computes. More processes than queries is a ConfigError. No-op in one process.

    Returns:
        dict: precision_at_1, r_precision, mean_average_precision_at_r, recall_at_{k} for each k,
        knn_accuracy (python floats); metric, knn_k, n_queries (queries scored), n_lone_queries (left out).
        With `queries`, the values are estimates, each metric has a `{name}_ci` [low, high] 95% interval, and
        estimate=True, queries (Q), n_references (N), seed and confidence are added; n_queries and
        n_lone_queries count the sampled queries.
    """
    check_score_options(metric, dtype, "retrieval")
    xt = as_matrix(x, device=device)
    n = xt.shape[0]
    codes, classes, counts = as_labels(labels, n, device=xt.device)
    ks = sorted({int(v) for v in ((k,) if isinstance(k, int) else k)})
    for name, value in [("k", v) for v in ks] + [("knn_k", knn_k)]:
        if not 1 <= value <= n - 1:
            raise ConfigError(f"{name}: {value} is outside 1..{n - 1} (the number of other points); lower it")
    if int(counts.max()) < 2:
        raise DataError("labels: every class has a single member, so no query has a match; check the labels")
    codes_np = codes.cpu().numpy()
    sample = None if queries is None else stratified_queries(codes_np, queries, seed)
    scorer, layout = prepare(xt, codes, counts, metric, dtype)
    names = [*VALUE_KEYS, *(f"recall_at_{kv}" for kv in ks)]
    if sample is None:
        rows = np.argsort(codes_np, kind="stable")  # grouped by class: a block's rows share a few classes
        rows = rows[counts[codes_np[rows]] > 1]
        block = _block_size(scorer, layout, ks, knn_k, block_size, memory_budget)
        per_query = _values(scorer, layout, rows, ks, knn_k, block, shard)
        # Summed block by block in the same order whatever the number of processes: the same bits.
        totals = sum(per_query[s : s + block].sum(dim=0) for s in range(0, len(rows), block))
        values = dict(zip(names, (totals / len(rows)).tolist()))
        return _result(values, metric, knn_k, len(rows), n - len(rows))
    scored = counts[codes_np[sample.rows]] > 1
    if not scored.any():
        raise DataError(
            f"queries: none of the {queries} sampled queries has another member of its class; "
            "raise queries or check the labels"
        )
    per_query = np.zeros((len(sample.rows), len(names)))
    pos = np.flatnonzero(scored)
    pos = pos[np.argsort(codes_np[sample.rows[pos]], kind="stable")]
    block = _block_size(scorer, layout, ks, knn_k, block_size, memory_budget)
    per_query[pos] = _values(scorer, layout, sample.rows[pos], ks, knn_k, block, shard).cpu().numpy()
    estimate, low, high = interval_estimates(per_query, scored, sample)
    out = _result(dict(zip(names, estimate.tolist())), metric, knn_k, int(scored.sum()), int((~scored).sum()))
    out.update({f"{key}_ci": [float(lo), float(hi)] for key, lo, hi in zip(names, low, high)})
    out.update(estimate=True, queries=int(queries), n_references=n, seed=seed, confidence=CONFIDENCE)
    return out


def _values(
    scorer: Scorer, layout: ClassLayout, rows: np.ndarray, ks: list[int], knn_k: int, block: int, shard: bool
) -> torch.Tensor:
    """(len(rows), 4 + len(ks)) float64 values of the queries `rows` (grouped by class), scored `block` at a time.

    With `shard`, each process scores a contiguous share of the blocks and the shares are gathered in order. The
    blocks are those of one process (same rows, same shape), because a float product's rounding may depend on
    the block's shape, and near-ties would then break differently; processes beyond the number of blocks idle.
    """
    starts = range(0, len(rows), block)
    if shard:
        check_shards(len(rows), "scored queries")
        starts = starts[share(len(starts))]
    rows_t = torch.as_tensor(rows, dtype=torch.long, device=scorer.ref.device)
    buffer = torch.empty(min(block, len(rows)), scorer.ref.shape[0], dtype=scorer.ref.dtype, device=rows_t.device)
    parts = []
    for s in starts:
        parts.append(query_values(scorer, layout, rows_t[s : s + block], ks, knn_k, buffer))
        release_free_memory(min_interval=1.0)  # else the resident memory grows block after block (fragmentation)
    mine = torch.cat(parts) if parts else torch.empty(0, 4 + len(ks), dtype=torch.float64, device=rows_t.device)
    return all_gather_rows(mine) if shard else mine


def _block_size(
    scorer: Scorer, layout: ClassLayout, ks: list[int], knn_k: int, block_size: int | None, memory_budget: int
) -> int:
    """Queries per block: `block_size`, or as many as the memory budget holds (it depends on N, not the queries)."""
    n = scorer.ref.shape[0]
    w = int(layout.counts.max())
    elem = scorer.ref.element_size()
    # Per query row: its scores, then the top-R tables of a ranked row (float64 scores, fallback rows), which
    # also bound the counting tables (the members' ranks, W int64, and the few neighbours; the kept points' keys
    # live 16 rows at a time and the metrics' float64 rows in chunks, neither growing with the block).
    per_row = elem * n + (elem + 8 + 8 * 5) * min(max(ks[-1], knn_k, w - 1) + 1, n)
    return block_size or max(1, min(n, memory_budget // per_row))


def _result(values: dict[str, float], metric: str, knn_k: int, n_queries: int, n_lone: int) -> dict[str, Any]:
    """The result dict in its documented key order."""
    out: dict[str, Any] = {key: values[key] for key in VALUE_KEYS[:3]}
    out.update({key: v for key, v in values.items() if key.startswith("recall_at_")})
    out.update(knn_accuracy=values["knn_accuracy"], metric=metric, knn_k=knn_k)
    out.update(n_queries=n_queries, n_lone_queries=n_lone)
    return out
