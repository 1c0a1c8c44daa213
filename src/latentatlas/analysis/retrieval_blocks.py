"""Per-query retrieval values of a block of queries, from the ranks of each query's class members.

Every query of a block is scored against all N references once, the references stored in class order (a
class's members are one slice of the scores; `prepare`). For float32 scores, `retrieval_ranks.counted_ranks`
keeps the points scoring above a threshold at or below the depth-th score and sorts them: the members' ranks are
their places there, the nearest max(k, knn_k) the first. Float64 scores (whose keys cannot hold the index) and
the rare rows the threshold cannot settle take the nearest neighbours from `neighbours.top_k_by_index`, and the
members' ranks from their classes. Both order ties by index, so they give the same ranks. precision@1,
R-precision and MAP@R follow from the ranks, recall@k and the kNN vote from the nearest few.
"""

from __future__ import annotations

import numpy as np
import torch

from latentatlas.analysis.neighbours import Scorer, make_scorer, top_k_by_index
from latentatlas.analysis.retrieval_layout import UNRANKED, ClassLayout, class_layout
from latentatlas.analysis.retrieval_ranks import counted_ranks

# Column order of the per-query values; recall_at_{k} for each cut-off follows.
VALUE_KEYS = ("precision_at_1", "r_precision", "mean_average_precision_at_r", "knn_accuracy")
# float32 blocks whose largest R exceeds this fraction of N are counted, the others ranked by topk. 0: all, as
# counting beat topk at every class count bench_analysis measures (10 to 10,000 at N = 50,000). A huge value
# restores the former method, which bench_analysis runs side by side.
COUNTING_MIN_FRACTION = 0.0
RANK_VALUES_CHUNK = 2**18  # table entries per step of rank_values (the fastest per row, 100 to 5,000 columns)


def prepare(
    x: torch.Tensor,
    codes: torch.Tensor,
    counts: np.ndarray,
    metric: str,
    dtype: torch.dtype,
    sample_columns: int | None = None,
) -> tuple[Scorer, ClassLayout]:
    """The references (N, D) prepared for scoring in class order, and their ClassLayout (`class_layout`'s
    arguments codes, counts and sample_columns)."""
    layout = class_layout(codes, counts, sample_columns)
    return make_scorer(x, metric, dtype).take(layout.members), layout


def query_values(
    scorer: Scorer,
    layout: ClassLayout,
    rows: torch.Tensor,
    ks: list[int],
    knn_k: int,
    buffer: torch.Tensor,
    counting: bool | None = None,
) -> torch.Tensor:
    """Retrieval values of each query in `rows`, leave-one-out against every reference.

    Args:
        scorer: the references prepared in class order (`prepare`).
        layout: class of each reference and where each class's members are.
        rows: (B,) int64 query indices (references themselves), each with R >= 1 other member of its class.
        ks: ascending recall cut-offs; knn_k: neighbours voting in knn_accuracy.
        buffer: (>= B, N) scratch in the score dtype.
        counting: True ranks float32 scores by threshold and sort, False by `topk` (the former method), None
            (default) by COUNTING_MIN_FRACTION. Float64 scores are always ranked by `topk`.

    Returns:
        (B, 4 + len(ks)) float64, columns VALUE_KEYS then recall_at_{k} for each k.
    """
    codes = layout.codes
    q_codes = codes[rows]
    r = layout.counts[q_codes] - 1
    max_r = int(r.max())
    scores = _leave_one_out_scores(scorer, layout, rows, buffer)
    small = max(ks[-1], knn_k)
    depth = torch.clamp(r, min=small)  # (B,) places each query needs
    if counting is None:
        counting = COUNTING_MIN_FRACTION * scores.shape[1] < max_r
    if counting and scores.dtype == torch.float32:  # the members' ranks by threshold and sort
        ranks, first, exact = counted_ranks(scores, rows, layout, depth, small)  # scores left as they are
        ranks = ranks[:, :max_r]
    else:
        nn = top_k_by_index(scores, int(depth.max()), layout.members, layout.column)
        exact = torch.ones_like(rows, dtype=torch.bool)
        ranks, first = member_ranks(codes[nn] == q_codes[:, None], r, max_r), nn[:, :small]
    if not bool(exact.all()):
        slow = (~exact).nonzero().squeeze(1)
        again = top_k_by_index(scores[slow], int(depth[slow].max()), layout.members, layout.column)
        ranks[slow] = member_ranks(codes[again] == q_codes[slow, None], r[slow], max_r)
        first[slow] = again[:, :small]
    near = codes[first]  # (B, small) classes of the nearest, nearest first
    out = torch.empty(len(rows), 4 + len(ks), dtype=torch.float64, device=rows.device)
    out[:, :3] = rank_values(ranks, r)
    out[:, 3] = (knn_vote(near[:, :knn_k]) == q_codes).to(torch.float64)
    rel = near == q_codes[:, None]
    for i, kv in enumerate(ks):
        out[:, 4 + i] = rel[:, :kv].any(dim=1).to(torch.float64)
    return out


def _leave_one_out_scores(
    scorer: Scorer, layout: ClassLayout, rows: torch.Tensor, buffer: torch.Tensor
) -> torch.Tensor:
    """(B, N) scores of references `rows` (indices) against all references in class order, each query's own
    column -inf."""
    cols = layout.column[rows]
    out = scorer.scores(scorer.ref[cols], buffer[: len(rows)])
    out[torch.arange(len(rows), device=out.device), cols] = -torch.inf
    return out


def member_ranks(rel: torch.Tensor, r: torch.Tensor, width: int) -> torch.Tensor:
    """(B, width) int64 1-based ranks of each query's members within its first R places, nearest first, then
    UNRANKED: the table `counted_ranks` gives, from the relevance of the nearest neighbours.

    Args:
        rel: (B, depth) bool, whether the j-th nearest has the query's class; depth >= max(r) (it may be less
            than width: the fallback rows of a block are ranked to their own depth).
        r: (B,) relevant items per query; width >= max(r).
    """
    pos = torch.arange(1, min(width, rel.shape[1]) + 1, device=rel.device)
    hits = rel[:, : len(pos)] & (pos[None, :] <= r[:, None])
    slot = torch.where(hits, torch.cumsum(hits, dim=1) - 1, width)  # the t-th hit goes to column t - 1
    table = torch.full((len(rel), width + 1), UNRANKED, dtype=torch.long, device=rel.device)
    table.scatter_(1, slot, torch.where(hits, pos[None, :], UNRANKED))
    return table[:, :width]


def rank_values(ranks: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """(B, 3) float64 [P@1, R-precision, MAP@R] from the ranks of each query's members.

    Member t (1-based, nearest first) at rank rho_t <= R is a hit at rank rho_t with t hits up to there, so it adds
    t / rho_t to MAP@R's sum (precision counted within the first R, as PML does). Rows go RANK_VALUES_CHUNK table
    entries at a time, so that the float64 temporaries stay in cache (the whole (B, W) table at once was several
    times slower per row at R = 5,000).

    Args:
        ranks: (B, W) int64 1-based ranks of the members in increasing order (UNRANKED past the known ones);
            W >= max(r).
        r: (B,) relevant items per query, each >= 1.
    """
    rows = max(1, RANK_VALUES_CHUNK // ranks.shape[1])
    if len(r) > rows:
        return torch.cat([rank_values(ranks[s : s + rows], r[s : s + rows]) for s in range(0, len(r), rows)])
    t = torch.arange(1, ranks.shape[1] + 1, device=ranks.device, dtype=torch.float64)
    hits = ranks <= r[:, None]  # the members within the first R (a prefix of each row)
    rf = r.to(torch.float64)
    ap = torch.where(hits, t[None, :] / ranks.to(torch.float64), 0.0).sum(dim=1)
    return torch.stack([(ranks[:, 0] == 1).to(torch.float64), hits.sum(dim=1) / rf, ap / rf], dim=1)


def knn_vote(nn_codes: torch.Tensor) -> torch.Tensor:
    """Majority class of each row of (B, K) neighbour classes; ties go to the class with the nearest member.

    Compares the K classes of a row pairwise ((B, K, K), no (B, classes) table), so any number of classes is fine.
    """
    kk = nn_codes.shape[1]
    same = nn_codes[:, :, None] == nn_codes[:, None, :]  # (B, K, K)
    votes = same.sum(dim=2)  # (B, K): votes for the class of position j
    first = same.to(torch.uint8).argmax(dim=2)  # (B, K): nearest position of that class
    # More votes always wins (votes * (K + 1) dominates); among equal votes the nearer class wins.
    best = torch.argmax(votes * (kk + 1) - first, dim=1, keepdim=True)
    return nn_codes.gather(1, best).squeeze(1)
