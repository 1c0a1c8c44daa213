"""Each query's nearest neighbours down to depth R, exact, without selecting R of N: a threshold and a merge.

For a query q of class c with R = n_c - 1 other members, order every other point by (score descending, index
ascending). Member t (in that order among the members) is at rank rho_t = t + o_t, o_t the other-class points
ahead of it: the ranks of the class come from the members' own order and a count of the others above each.
The R-metrics only need the ranks up to R, and every point ranked within R scores at least tau* (the R-th
highest score of the row). So with a threshold tau, the "candidates" (other-class points scoring >= tau, C of
them) and T members scoring >= tau: if T + C >= R, then tau <= tau*, the first R places hold only members and
candidates, and merging the sorted members with the sorted candidates (the merge counts o_t) gives the first
T + C places exactly. No selection over the N columns is needed: one comparison with tau, a sort of the R
members and one of the C candidates (C is about the other-class points within the first R, plus a margin).

tau comes from a fixed random sample of K columns: the highest sampled score (on a grid of sample ranks) at which
the members above it plus a lower confidence bound of the candidates above it (the sample count scaled by N / K,
less Z standard errors) reach the depth. Exactness never depends on the sample: a row whose tau turns out
invalid, or that would keep too many candidates, is marked inexact and ranked by `topk` instead.

The references are scored in class order (`ClassLayout.members`: column j holds reference members[j]), so a
query's members are one contiguous slice of its row, read and cleared without a gather. Ties are ordered by the
references' own index exactly as `top_k_by_index`: the sorts compare `rank_keys` of the index (not the column),
which for float32 scores hold it, so no two keys are equal. Float64 keys cannot hold it: a row with two equal
keys among its first places (duplicated points, quantized values) is marked inexact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from latentatlas.analysis.rank_keys import (
    EMPTY,
    argsort_rows,
    flat_at_least,
    key_columns,
    merge_rows,
    rank_keys,
    sort_rows,
)

SAMPLE_COLUMNS = 2048  # K, at most N / 8: columns sampled for the threshold (fewer = cheaper, more candidates)
Z_BOUND = 4.0  # standard errors below the sampled count: a row falls back about once in 30,000
UNRANKED = 2**62  # the rank of a member past the depth (and of padding): beyond every cut-off


@dataclass(frozen=True)
class ClassLayout:
    """The references' class order (the order of the score columns), and the sampled columns.

    Attributes:
        codes: (N,) int64 class of each reference (by reference index).
        counts: (C,) int64 members per class.
        start: (C,) int64 first column of class c: its members are columns start[c] .. start[c] + counts[c] - 1.
        members: (N,) int64 the reference index of each column: sorted by class, ascending within a class.
        column: (N,) int64 the column of each reference (the inverse of members).
        sample: (K,) int64 sorted random columns for the threshold estimate.
        z: standard errors of the threshold's lower bound (Z_BOUND when the layout was made).
    """

    codes: torch.Tensor
    counts: torch.Tensor
    start: torch.Tensor
    members: torch.Tensor
    column: torch.Tensor
    sample: torch.Tensor
    z: float


def class_layout(codes: torch.Tensor, counts: np.ndarray, sample_columns: int | None = None) -> ClassLayout:
    """The ClassLayout of (N,) class codes with (C,) counts and K = sample_columns (default SAMPLE_COLUMNS)
    sampled columns; the sample is seeded, and results never depend on it."""
    dev, n = codes.device, len(codes)
    sample_columns = min(SAMPLE_COLUMNS, max(1, n // 8)) if sample_columns is None else sample_columns
    counts_t = torch.as_tensor(counts, dtype=torch.long, device=dev)
    start = torch.cumsum(counts_t, 0) - counts_t
    members = torch.argsort(codes, stable=True)
    column = torch.empty_like(members)
    column[members] = torch.arange(n, device=dev)
    sample = torch.randperm(n, generator=torch.Generator().manual_seed(0))[: min(n, sample_columns)]
    return ClassLayout(codes, counts_t, start, members, column, torch.sort(sample).values.to(dev), Z_BOUND)


def candidate_cap(depth: int, n: int, k: int) -> int:
    """Most candidates a row may keep: the depth plus the bound's margin, doubled, plus slack; beyond, inexact."""
    return min(n, 2 * depth + int(4 * Z_BOUND * math.sqrt(depth * n / max(k, 1))) + 1024)


def counted_top(
    scores: torch.Tensor, rows: torch.Tensor, layout: ClassLayout, depth: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The nearest `depth` neighbours of each query, by threshold and merge.

    Args:
        scores: (B, N) scores of queries `rows` against the references in class order (`layout`), larger =
            nearer, the query's own column -inf; overwritten.
        rows: (B,) int64 query indices (reference indices, not columns).
        layout: the references' ClassLayout.
        depth: (B,) int64 neighbours wanted per query, each >= its R and <= N - 1.

    Returns:
        nn: (B, max depth) int64 reference indices, nearest first, ties by index; right for exact rows up to
            their depth.
        exact: (B,) bool, False for rows that must be ranked by `top_k_by_index` instead.
    """
    d = int(depth.max())
    w = int(layout.counts[layout.codes[rows]].max())
    c = _candidates(scores, rows, layout, depth, d + 1 - w)  # the merge has at least d + 1 places
    members, cand, n = c.members, c.keys, scores.shape[1]
    if scores.dtype == torch.float32:  # keys hold the columns
        merged = merge_rows(members, sort_rows(cand))
        return key_columns(merged[:, :d], n), c.exact
    cols = torch.zeros(cand.shape, dtype=torch.long, device=scores.device)
    cols[c.rows, c.slot] = c.ids
    order = argsort_rows(cand)
    cand, cols = cand.gather(1, order), cols.gather(1, order)
    both, both_cols = torch.cat([members, cand], dim=1), torch.cat([c.member_cols, cols], dim=1)
    order = argsort_rows(both, stable=True)[:, : d + 1]
    merged = both.gather(1, order)  # one place past the depth: a tie across the cut matters too
    tie = ((merged[:, 1:] == merged[:, :-1]) & (merged[:, 1:] != EMPTY)).any(dim=1)  # order by index unknown
    return both_cols.gather(1, order[:, :d]), c.exact & ~tie


@dataclass(frozen=True)
class _Candidates:
    """A block's members and candidates (see the module docstring), before any merge.

    Attributes:
        members: (B, W) sorted negated member keys; member_cols: their reference indices (float64 scores) or
            None.
        above: (B,) T, the members scoring >= the row's threshold.
        keys: (B, width) negated candidate keys in column order, EMPTY after a row's last and in inexact rows.
        rows, slot, ids: (M,) row, place in `keys` and reference index of each kept candidate.
        exact: (B,) bool, False for rows that must be ranked by `top_k_by_index` instead.
    """

    members: torch.Tensor
    member_cols: torch.Tensor | None
    above: torch.Tensor
    keys: torch.Tensor
    rows: torch.Tensor
    slot: torch.Tensor
    ids: torch.Tensor
    exact: torch.Tensor


def _candidates(
    scores: torch.Tensor, rows: torch.Tensor, layout: ClassLayout, depth: torch.Tensor, min_width: int
) -> _Candidates:
    """The threshold, members and candidates of each row of `scores` (overwritten: members set to -inf);
    the candidate table has at least `min_width` columns."""
    b, n = scores.shape
    members, member_cols = _sorted_members(scores, rows, layout)  # (B, W) negated keys ascending: nearest first
    tau, found = _threshold(scores, members, layout.counts[layout.codes[rows]] - 1, depth, layout.sample)
    above = _at_least(members, tau)  # T: members scoring >= tau
    flat = flat_at_least(scores, tau)  # the candidates (members are -inf now), row-major
    cand_rows = flat // n
    n_cand = torch.bincount(cand_rows, minlength=b)  # a row without a threshold (tau = inf) has none
    exact = found & (above + n_cand >= depth) & (n_cand <= candidate_cap(int(depth.max()), n, len(layout.sample)))
    if not bool(exact.all()):
        keep = exact[cand_rows]
        flat, cand_rows, n_cand = flat[keep], cand_rows[keep], n_cand * exact
    cand_ids = layout.members.index_select(0, flat - cand_rows * n)
    slot = torch.arange(len(flat), device=flat.device) - (torch.cumsum(n_cand, 0) - n_cand).index_select(0, cand_rows)
    keys = torch.full((b, max(int(n_cand.max()) if b else 0, min_width)), EMPTY, dtype=torch.long, device=scores.device)
    keys[cand_rows, slot] = -rank_keys(scores.view(-1).index_select(0, flat), cand_ids)
    return _Candidates(members, member_cols, above, keys, cand_rows, slot, cand_ids, exact)


def _sorted_members(
    scores: torch.Tensor, rows: torch.Tensor, layout: ClassLayout
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Each query's same-class points as negated rank keys, sorted ascending (nearest first); then the members'
    (and the query's) scores in `scores` are set to -inf, so that they are not candidates.

    Returns:
        keys: (B, W) int64, W the largest class in the block; a row's first R entries are its members, then
            EMPTY for the query itself and the padding.
        ids: (B, W) int64 the members' reference indices in that order for float64 scores (float32 keys hold
            them), else None.
    """
    c = layout.codes[rows]
    n_c = layout.counts[c]
    w = int(n_c.max())
    if bool((c == c[0]).all()):  # one class (the usual block of a large class): one slice of every row
        first = int(layout.start[c[0]])
        ids = layout.members[first : first + w][None, :]  # (1, W)
        neg = -rank_keys(scores[:, first : first + w], ids)
        neg.masked_fill_(ids == rows[:, None], EMPTY)
        scores[:, first : first + w] = -torch.inf
    else:
        offset = torch.arange(w, device=rows.device)
        cols = layout.start[c][:, None] + torch.minimum(offset[None, :], n_c[:, None] - 1)  # padded by the last
        ids = layout.members[cols]  # (B, W)
        neg = -rank_keys(scores.gather(1, cols), ids)
        neg.masked_fill_((offset[None, :] >= n_c[:, None]) | (ids == rows[:, None]), EMPTY)
        scores.scatter_(1, cols, -torch.inf)
    if scores.dtype == torch.float32:
        return sort_rows(neg), None
    order = argsort_rows(neg)
    return neg.gather(1, order), ids.expand(len(rows), w).gather(1, order)


def _at_least(member_keys: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """(B, ...) number of members scoring >= each of values (B, ...) (one row of values per query)."""
    low = -rank_keys(values)  # the largest negated key of each score: members with -key <= it score >= it
    flat = low.reshape(len(low), -1)
    return torch.searchsorted(member_keys, flat, side="right").reshape(low.shape)


def _threshold(
    scores: torch.Tensor, member_keys: torch.Tensor, r: torch.Tensor, depth: torch.Tensor, sample: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-row threshold tau, likely <= the depth-th highest score, from the sampled columns.

    Args:
        scores: (B, N) scores, members and the query -inf.
        member_keys: (B, W) sorted negated member keys; r: (B,) members per query; depth: (B,) places wanted.
        sample: (K,) columns.

    Returns:
        tau: (B,) thresholds (inf where none was found); found: (B,) bool.
    """
    n, k = scores.shape[1], len(sample)
    u = sort_rows(scores.index_select(1, sample).neg_()).neg_()  # (B, K) descending
    # Positions j on a geometric grid (about 12% apart; all of them when K is small): the first that qualifies
    # is at most that much past the best one.
    j = torch.unique(torch.logspace(0, math.log10(k), 64, dtype=torch.float64).round()).to(scores.device)
    u = u.index_select(1, j.long() - 1)  # (B, G)
    members_above = torch.minimum(_at_least(member_keys, u), r[:, None])  # (B, G)
    # At least j sampled candidates score >= u_j; the candidates above u_j number about j N / K, and with
    # high probability more than this lower bound (finite-population standard error; exact when K = N).
    lower = (n / k) * (j - Z_BOUND * torch.sqrt(j * (1.0 - k / n)))
    ok = (members_above + lower[None, :] >= depth[:, None]) & (u > -torch.inf)
    found = ok.any(dim=1)
    tau = u.gather(1, ok.to(torch.uint8).argmax(dim=1, keepdim=True)).squeeze(1)  # first j that reaches the depth
    return torch.where(found, tau, torch.inf), found
