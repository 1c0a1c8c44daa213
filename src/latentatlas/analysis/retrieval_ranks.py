"""Each query's class members' ranks among all points, from one threshold over its whole row (float32 scores).

A query's R-metrics (and recall@k, the kNN vote) need its first `depth` places. Every point among them scores at
least tau*, the depth-th highest score of the row. So with any threshold tau <= tau*, the M points scoring >= tau
(M >= depth) are the first M places, and sorted by rank key (score descending, then index ascending: distinct
float32 keys, `rank_keys`) they are those places in order: each member's rank is its position there, the nearest
`small` are the first, and a member scoring below tau ranks past M >= depth. One comparison over the row and one
sort of about depth keys: no member sort, no search, no selection among the N columns.

tau is the j-th highest score of K sampled columns (`ClassLayout.sample`), j the smallest for which a lower
confidence bound of the points above it, (N / K)(j - Z sqrt(j (1 - K / N))), reaches the depth. Exactness never
depends on the sample: a row with M < depth (tau too high) or more than `candidate_cap` points kept is marked
inexact and ranked by `topk` instead.

On CPU, NumPy does `SUB_ROWS` rows at a time in each of torch's threads (it releases the GIL inside its calls):
the comparison and its nonzero, the keys, one sort per row of its M keys, whose lowest bit flags the members (the
index above it differs between points, so the flag never decides an order). Other devices use the same steps in
torch on a padded table.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from latentatlas.analysis.rank_keys import EMPTY, key_columns, map_rows, rank_keys, sort_rows
from latentatlas.analysis.retrieval_layout import UNRANKED, ClassLayout, candidate_cap

LOW = np.int64(2**32 - 1)
HALF = np.int64(2**31 - 1)  # CPU keys: 32 bits of score, 31 of index (HALF - index), 1 of membership
LOWEST = float(np.finfo(np.float32).min)  # the threshold's floor: -inf (the query's own column) is never kept
SUB_ROWS = 16  # CPU rows done at once: their temporaries stay in cache, and few calls release the GIL per row


def sample_rank(depth: np.ndarray, n: int, k: int, z: float) -> np.ndarray:
    """(B,) the 1-based rank j among K sampled scores of each row's threshold: the smallest j whose lower bound
    (N / K)(j - Z sqrt(j (1 - K / N))) of the points scoring >= the j-th reaches the row's depth (K if none)."""
    j = np.arange(1, k + 1, dtype=np.float64)
    lower = np.maximum.accumulate((n / k) * (j - z * np.sqrt(j * (1.0 - k / n))))
    return np.minimum(np.searchsorted(lower, depth, side="left") + 1, k)


def counted_ranks(
    scores: torch.Tensor, rows: torch.Tensor, layout: ClassLayout, depth: torch.Tensor, small: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Each query's members' ranks among all points, and its nearest `small` neighbours (float32 scores).

    Args:
        scores: (B, N) float32 scores of queries `rows` against the references in class order (`layout`), larger
            = nearer, the query's own column -inf; read only.
        rows: (B,) int64 query indices (reference indices, not columns).
        layout: the references' ClassLayout.
        depth: (B,) int64 places each query needs, each >= its R and >= small, <= N - 1.
        small: neighbours wanted in order (recall@k, the kNN vote).

    Returns:
        ranks: (B, W) int64 1-based ranks of the members, nearest member first; UNRANKED past the members kept
            (they rank beyond the depth) and for the padding. W = largest class in the block.
        first: (B, small) int64 reference indices of the nearest `small`, ties by index.
        exact: (B,) bool, False for rows that must be ranked by `top_k_by_index` instead (their ranks and first
            are undefined).
    """
    cut = plan_cut(scores.shape[1], rows, layout, depth)
    if scores.device.type == "cpu":
        return _ranks_numpy(scores, rows, layout, depth, small, cut)
    return _ranks_torch(scores, rows, layout, depth, small, cut)


class Cut(NamedTuple):
    """A block's threshold plan: j (B,) each row's sample rank (`sample_rank`), cap the most points a row may
    keep (`candidate_cap`), width W the largest class in the block."""

    j: torch.Tensor
    cap: int
    width: int


def plan_cut(n: int, rows: torch.Tensor, layout: ClassLayout, depth: torch.Tensor) -> Cut:
    """The Cut of a block of queries `rows` needing `depth` places among n references."""
    k = len(layout.sample)
    j = torch.from_numpy(sample_rank(depth.cpu().numpy(), n, k, layout.z)).to(depth.device)
    return Cut(j, candidate_cap(int(depth.max()), n, k), int(layout.counts[layout.codes[rows]].max()))


def _ranks_numpy(
    scores: torch.Tensor, rows: torch.Tensor, layout: ClassLayout, depth: torch.Tensor, small: int, cut: Cut
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`counted_ranks` on CPU."""
    (j, cap, width), (b, n) = cut, scores.shape
    a, sample, dep = scores.numpy(), layout.sample.numpy(), depth.numpy()
    kth = (len(sample) - j.numpy()).tolist()  # the j-th highest is at this place of the ascending order
    low = -((HALF - layout.members.numpy()) << 1)  # each column's index part of the negated key
    c = layout.codes[rows]
    lo_flat = (layout.start[c] + torch.arange(b) * n).numpy()  # each row's members' flat positions in the block:
    hi_flat = lo_flat + layout.counts[c].numpy()  # lo_flat .. hi_flat - 1
    need, ranks = dep.tolist(), np.empty((b, width), dtype=np.int64)
    first, exact = np.zeros((b, small), dtype=np.int64), np.zeros(b, dtype=bool)

    def chunk(start: int, end: int) -> None:  # a thread's rows, a few at a time (their temporaries stay in cache)
        for s in range(start, end, SUB_ROWS):
            few(s, min(s + SUB_ROWS, end))

    def few(s: int, e: int) -> None:
        block, m = a[s:e], e - s
        u = np.take(block, sample, axis=1)
        if kth[s:e].count(kth[s]) == m:  # one depth (the usual block of one class): one partition
            tau = np.partition(u, kth[s], axis=1)[:, kth[s]]
        else:
            tau = np.array([np.partition(u[i], kth[s + i])[kth[s + i]] for i in range(m)], dtype=np.float32)
        flat = np.flatnonzero(block >= np.maximum(tau, LOWEST)[:, None])
        flat += s * n
        bounds = np.searchsorted(flat, np.arange(s, e + 1) * n)
        kept = np.diff(bounds)
        bits = a.ravel()[flat]
        bits += np.float32(0.0)  # -0.0 -> +0.0
        bits = bits.view(np.int32)  # its IEEE bits
        high = bits >> 31
        high &= 0x7FFFFFFF
        high ^= bits  # order-preserving
        neg = (-high).astype(np.int64)  # -high never overflows: high > INT32_MIN for every kept score
        neg <<= 32
        member_lo, member_hi = np.searchsorted(flat, lo_flat[s:e]), np.searchsorted(flat, hi_flat[s:e])
        flat -= np.repeat(np.arange(s, e) * n, kept)  # columns
        neg += low[flat]  # ascending = nearest first, then lower index
        good = [i for i in range(m) if need[s + i] <= kept[i] <= cap]  # the others: ranked by topk
        for i in good:
            neg[member_lo[i] : member_hi[i]] -= 1  # the member flag
            neg[bounds[i] : bounds[i + 1]].sort()
        hits = np.flatnonzero((neg & 1).astype(bool))  # a bool nonzero is branch-free (an int one 3x slower)
        row_hits = np.searchsorted(hits, bounds)  # row i's hits: hits[row_hits[i] : row_hits[i + 1]]
        for i in good:
            count = row_hits[i + 1] - row_hits[i]
            ranks[s + i, :count] = hits[row_hits[i] : row_hits[i + 1]] - (bounds[i] - 1)
            ranks[s + i, count:] = UNRANKED
            first[s + i] = HALF - ((-neg[bounds[i] : bounds[i] + small] & LOW) >> 1)
            exact[s + i] = True

    map_rows(chunk, b)
    return torch.from_numpy(ranks), torch.from_numpy(first), torch.from_numpy(exact)


def _ranks_torch(
    scores: torch.Tensor, rows: torch.Tensor, layout: ClassLayout, depth: torch.Tensor, small: int, cut: Cut
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`counted_ranks` on other devices: the same steps on a (B, most kept) table."""
    (j, cap, width), (b, n) = cut, scores.shape
    dev = scores.device
    u = torch.sort(scores.index_select(1, layout.sample), dim=1, descending=True).values
    tau = u.gather(1, (j - 1)[:, None]).clamp_(min=LOWEST)
    keep = scores >= tau
    kept = keep.sum(dim=1)
    exact = (kept >= depth) & (kept <= cap)
    keep &= exact[:, None]
    kept = kept * exact
    flat = keep.view(-1).nonzero().squeeze(1)
    row_of = flat // n
    slot = torch.arange(len(flat), device=dev) - (torch.cumsum(kept, 0) - kept)[row_of]
    table = torch.full((b, max(int(kept.max()), small)), EMPTY, dtype=torch.long, device=dev)
    ids = layout.members[flat - row_of * n]
    table[row_of, slot] = -rank_keys(scores.view(-1)[flat], ids)
    table = sort_rows(table)
    ids = key_columns(table, n)  # the reference index of each place
    hit = (layout.codes[ids] == layout.codes[rows][:, None]) & (table != EMPTY)
    place = torch.arange(1, table.shape[1] + 1, device=dev)
    t = torch.where(hit, torch.cumsum(hit, dim=1) - 1, width)  # member t goes to column t - 1, the rest to W
    ranks = torch.full((b, width + 1), UNRANKED, dtype=torch.long, device=dev)
    ranks.scatter_(1, t, torch.where(hit, place[None, :], UNRANKED))
    return ranks[:, :width], ids[:, :small], exact
