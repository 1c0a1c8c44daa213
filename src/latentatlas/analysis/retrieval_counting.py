"""Exact precision@1, R-precision and MAP@R of a block of queries by counting, without a top-R selection.

For a query q of class c with R = n_c - 1 other members, order every other point by (score descending, index
ascending). Let v_1 >= ... >= v_R be the members' scores in that order and o_t the number of other-class
points ahead of member t. Member t's rank among all is rho_t = t + o_t, and (P@j counted inside the first R):

    precision_at_1 = [o_1 = 0],   r_precision = (1/R) #{t : rho_t <= R},
    mean_average_precision_at_r = (1/R) sum_{t : rho_t <= R} t / rho_t

Only members ranked within the first R count, and they all score at least tau* (the R-th highest score of the
row); so every other-class point that matters has score >= tau for any tau <= tau*. With a threshold tau, the
"candidates" are the other-class points with score >= tau; the members ranked ahead of candidate i are counted
by a binary search in the sorted members (p_i), and o_t = #{candidates with p_i < t}: a histogram of p and a
cumulative sum. tau is valid when at least R points score >= tau (T_tau members and C candidates, T_tau + C >= R);
then o_t is exact for every member t with v_t >= tau, and the members below tau rank after R anyway.

tau comes from a fixed random sample of K columns: the highest sampled score at which the members above it plus
a lower confidence bound of the candidates above it (the sample count scaled by N / K, less Z standard errors)
reach R. Exactness never depends on the sample: a row whose tau turns out invalid, or that would have too many
candidates, is ranked by the top-R path instead (`retrieval_blocks.ranked_values`).

Ties are ordered by index exactly as the top-R path: members and candidates are compared by `rank_keys`, which
for float32 scores hold the index, so no two keys are equal. Float64 keys cannot hold it: a row where a
candidate's score equals a member's (duplicated points, quantized values) is left to the top-R path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from latentatlas.analysis.rank_keys import EMPTY, rank_keys, sort_rows

SAMPLE_COLUMNS = 2048  # K: columns sampled for the threshold (fewer = cheaper sort, more candidates)
Z_BOUND = 4.0  # standard errors below the sampled count: a row falls back about once in 30,000


@dataclass(frozen=True)
class ClassLayout:
    """Where each class's members are, and the sampled columns.

    Attributes:
        codes: (N,) int64 class of each reference.
        counts: (C,) int64 members per class.
        start: (C,) int64 offset of class c in `members`.
        members: (N,) int64 reference indices sorted by class, ascending within a class.
        sample: (K,) int64 sorted random reference columns for the threshold estimate.
    """

    codes: torch.Tensor
    counts: torch.Tensor
    start: torch.Tensor
    members: torch.Tensor
    sample: torch.Tensor


def class_layout(codes: torch.Tensor, counts: np.ndarray, sample_columns: int = SAMPLE_COLUMNS) -> ClassLayout:
    """The ClassLayout of (N,) class codes with (C,) counts; the sample is seeded (results never depend on it)."""
    dev, n = codes.device, len(codes)
    counts_t = torch.as_tensor(counts, dtype=torch.long, device=dev)
    start = torch.cumsum(counts_t, 0) - counts_t
    members = torch.argsort(codes, stable=True)
    sample = torch.randperm(n, generator=torch.Generator().manual_seed(0))[: min(n, sample_columns)]
    return ClassLayout(codes, counts_t, start, members, torch.sort(sample).values.to(dev))


def candidate_cap(r_max: int, n: int, k: int) -> int:
    """Most candidates a row may keep: R plus the bound's margin, doubled, plus slack; larger rows fall back."""
    return min(n, 2 * r_max + int(4 * Z_BOUND * math.sqrt(r_max * n / max(k, 1))) + 1024)


def counted_values(scores: torch.Tensor, rows: torch.Tensor, layout: ClassLayout) -> tuple[torch.Tensor, torch.Tensor]:
    """Precision@1, R-precision and MAP@R of a block of queries, by counting.

    Args:
        scores: (B, N) scores of queries `rows`, larger = nearer, the query's own column -inf; overwritten.
        rows: (B,) int64 query indices, each with R >= 1.
        layout: the references' ClassLayout.

    Returns:
        values: (B, 3) float64 [precision_at_1, r_precision, mean_average_precision_at_r] (0 where not exact).
        exact: (B,) bool, False for rows that must be ranked by the top-R path instead.
    """
    b = len(rows)
    r = layout.counts[layout.codes[rows]] - 1  # (B,)
    member_keys = _member_keys(scores, rows, layout)  # (B, W) negated keys ascending: nearest member first
    tau, found = _threshold(scores, member_keys, r, layout.sample)
    above = _at_least(member_keys, tau)  # T_tau: members with score >= tau
    cand_rows, cand_cols = (scores >= tau[:, None]).nonzero(as_tuple=True)  # members are -inf now
    n_cand = torch.bincount(cand_rows, minlength=b)  # a row without a threshold (tau = inf) has none
    cap = candidate_cap(int(r.max()), scores.shape[1], len(layout.sample))
    exact = found & (above + n_cand >= r) & (n_cand <= cap)
    keep = exact[cand_rows]
    cand_rows, cand_cols, n_cand = cand_rows[keep], cand_cols[keep], n_cand * exact
    slot = torch.arange(len(cand_rows), device=rows.device) - (torch.cumsum(n_cand, 0) - n_cand)[cand_rows]
    neg = torch.full((b, int(n_cand.max()) if b else 0), EMPTY, dtype=torch.long, device=rows.device)
    neg[cand_rows, slot] = -rank_keys(scores[cand_rows, cand_cols], cand_cols)
    w = member_keys.shape[1]
    p = torch.searchsorted(member_keys, neg, side="left")  # (B, Cmax): members ranked ahead of each candidate
    tie = (member_keys.gather(1, p.clamp(max=w - 1)) == neg) & (p < w) & (neg != EMPTY)  # float64 only
    exact &= ~tie.any(dim=1)
    hist = torch.zeros(b, w + 1, dtype=torch.long, device=rows.device)
    hist.scatter_add_(1, p.masked_fill_(neg == EMPTY, w), torch.ones_like(p))
    return _from_counts(torch.cumsum(hist[:, :w], dim=1), above, r, exact)


def _from_counts(ahead: torch.Tensor, above: torch.Tensor, r: torch.Tensor, exact: torch.Tensor):
    """(B, 3) values and (B,) exact from o_t (B, W), T_tau (B,) and R (B,) (see the module docstring)."""
    w = ahead.shape[1]
    t = torch.arange(1, w + 1, device=ahead.device)
    rho = ahead + t  # (B, W) rank of member t among all, increasing in t
    t_star = torch.minimum(torch.searchsorted(rho, r[:, None], side="right").squeeze(1), above)
    width = max(int(t_star.max()), 1) if len(t_star) else 1
    ratio = t[:width].to(torch.float64) / rho[:, :width]  # P@rho_t, the precision at member t
    ratio.masked_fill_(t[None, :width] > t_star[:, None], 0.0)
    rf = r.to(torch.float64)
    first = (above >= 1) & (ahead[:, 0] == 0)
    values = torch.stack([first.to(torch.float64), t_star / rf, ratio.sum(dim=1) / rf], dim=1)
    return values * exact[:, None], exact


def _member_keys(scores: torch.Tensor, rows: torch.Tensor, layout: ClassLayout) -> torch.Tensor:
    """Each query's same-class points as negated rank keys, sorted ascending (nearest first); then the members'
    (and the query's) scores in `scores` are set to -inf, so that they are not candidates.

    Returns:
        (B, W) int64, W the largest class in the block; a row's first R entries are its members, then EMPTY
        for the query itself and the padding.
    """
    c = layout.codes[rows]
    n_c = layout.counts[c]
    w = int(n_c.max())
    if bool((c == c[0]).all()):  # one class (the usual block of a large class): one column list for all rows
        cols = layout.members[layout.start[c[0]] : layout.start[c[0]] + w][None, :]  # (1, W)
        neg = -rank_keys(scores.index_select(1, cols[0]), cols)
        neg.masked_fill_(cols == rows[:, None], EMPTY)
        scores.index_fill_(1, cols[0], -torch.inf)
        return sort_rows(neg)
    offset = torch.arange(w, device=rows.device)
    pos = layout.start[c][:, None] + torch.minimum(offset[None, :], n_c[:, None] - 1)
    cols = layout.members[pos]  # (B, W), padded by repeating the class's last member
    neg = -rank_keys(scores.gather(1, cols), cols)
    neg.masked_fill_((offset[None, :] >= n_c[:, None]) | (cols == rows[:, None]), EMPTY)
    scores.scatter_(1, cols, -torch.inf)
    return sort_rows(neg)


def _at_least(member_keys: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """(B, ...) number of members scoring >= each of values (B, ...) (one row of values per query)."""
    low = -rank_keys(values)  # the largest negated key of each score: members with -key <= it score >= it
    flat = low.reshape(len(low), -1)
    return torch.searchsorted(member_keys, flat, side="right").reshape(low.shape)


def _threshold(
    scores: torch.Tensor, member_keys: torch.Tensor, r: torch.Tensor, sample: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-row threshold tau, likely <= the R-th highest score, from the sampled columns.

    Args:
        scores: (B, N) scores, members and the query -inf.
        member_keys: (B, W) sorted negated member keys; r: (B,) members per query.
        sample: (K,) columns.

    Returns:
        tau: (B,) thresholds (inf where none was found); found: (B,) bool.
    """
    n, k = scores.shape[1], len(sample)
    u = sort_rows(-scores[:, sample]).neg_()  # (B, K) descending
    members_above = torch.minimum(_at_least(member_keys, u), r[:, None])  # (B, K)
    j = torch.arange(1, k + 1, dtype=torch.float64, device=scores.device)
    # At least j sampled candidates score >= u_j; the candidates above u_j number about j N / K, and with
    # high probability more than this lower bound (finite-population standard error; exact when K = N).
    lower = (n / k) * (j - Z_BOUND * torch.sqrt(j * (1.0 - k / n)))
    ok = (members_above + lower[None, :] >= r[:, None]) & (u > -torch.inf)
    found = ok.any(dim=1)
    tau = u.gather(1, ok.to(torch.uint8).argmax(dim=1, keepdim=True)).squeeze(1)  # first j that reaches R
    return torch.where(found, tau, torch.inf), found
