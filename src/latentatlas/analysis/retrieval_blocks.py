"""Per-query retrieval values of a block of queries, from each query's neighbours down to depth max(R, k).

Every query of a block is scored against all N references once. Its nearest neighbours down to depth
max(R, k, knn_k) come from a threshold and a merge (`retrieval_counting.counted_top`), or, for blocks of small
classes (R <= N / 64, where torch's `topk` keeps a small heap and is cheap) and for the rare rows the threshold
cannot settle, from `neighbours.top_k_by_index`; both order ties by index, so they give the same neighbours.
Then precision@1, R-precision and MAP@R, recall@k and the kNN vote follow from the neighbours' classes.
"""

from __future__ import annotations

import torch

from latentatlas.analysis.neighbours import Scorer, top_k_by_index
from latentatlas.analysis.retrieval_counting import ClassLayout, counted_top

# Column order of the per-query values; recall_at_{k} for each cut-off follows.
VALUE_KEYS = ("precision_at_1", "r_precision", "mean_average_precision_at_r", "knn_accuracy")
# Blocks whose largest R exceeds this fraction of N are counted: below it torch's topk keeps a small heap and
# is cheap; above it topk selects and sorts R of N per row (the cost counting removes). A benchmark choice.
COUNTING_MIN_FRACTION = 1 / 64


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
        scorer: the prepared references.
        layout: class of each reference and where each class's members are.
        rows: (B,) int64 query indices (references themselves), each with R >= 1 other member of its class.
        ks: ascending recall cut-offs; knn_k: neighbours voting in knn_accuracy.
        buffer: (>= B, N) scratch in the score dtype.
        counting: True selects by threshold and merge, False by `topk` (the former method, faster for small R),
            None (default) picks by depth (COUNTING_MIN_FRACTION).

    Returns:
        (B, 4 + len(ks)) float64, columns VALUE_KEYS then recall_at_{k} for each k.
    """
    codes = layout.codes
    q_codes = codes[rows]
    r = layout.counts[q_codes] - 1
    scores = _leave_one_out_scores(scorer, rows, buffer)
    small = max(ks[-1], knn_k)
    depth = torch.clamp(r, min=small)  # (B,) places each query needs
    if counting is None:  # counting pays where topk is slow: past torch's heap selection (depth > N / 64)
        counting = COUNTING_MIN_FRACTION * scores.shape[1] < int(r.max())
    if counting:
        nn, exact = counted_top(scores, rows, layout, depth)  # overwrites scores
    else:
        nn, exact = top_k_by_index(scores, int(depth.max())), torch.ones_like(rows, dtype=torch.bool)
    if not bool(exact.all()):
        slow = (~exact).nonzero().squeeze(1)
        again = top_k_by_index(_leave_one_out_scores(scorer, rows[slow], buffer), int(depth[slow].max()))
        nn[slow, : again.shape[1]] = again
    near = codes[nn]  # (B, depth) classes of the nearest, nearest first
    rel = near == q_codes[:, None]
    out = torch.empty(len(rows), 4 + len(ks), dtype=torch.float64, device=rows.device)
    out[:, :3] = ranked_values(rel, r)
    out[:, 3] = (knn_vote(near[:, :knn_k]) == q_codes).to(torch.float64)
    for i, kv in enumerate(ks):
        out[:, 4 + i] = rel[:, :kv].any(dim=1).to(torch.float64)
    return out


def _leave_one_out_scores(scorer: Scorer, rows: torch.Tensor, buffer: torch.Tensor) -> torch.Tensor:
    """(B, N) scores of reference rows `rows` against all references, each query's own column -inf."""
    out = scorer.scores(scorer.ref[rows], buffer[: len(rows)])
    out[torch.arange(len(rows), device=out.device), rows] = -torch.inf
    return out


def ranked_values(rel: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """(B, 3) float64 [P@1, R-precision, MAP@R] from the relevance of each query's nearest neighbours.

    Args:
        rel: (B, depth) bool, whether the j-th nearest has the query's class; depth >= max(r).
        r: (B,) relevant items per query, each >= 1.
    """
    max_r = int(r.max())
    pos = torch.arange(1, max_r + 1, device=rel.device)  # 1-based ranks
    hits = (rel[:, :max_r] & (pos[None, :] <= r[:, None])).to(torch.float64)  # relevant and within the first R
    rf = r.to(torch.float64)
    precision_at_j = torch.cumsum(hits, dim=1) / pos  # P@j counted within the first R, as PML does
    return torch.stack(
        [rel[:, 0].to(torch.float64), hits.sum(dim=1) / rf, (precision_at_j * hits).sum(dim=1) / rf], dim=1
    )


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
