"""The references' class layout, and the column sample that sets each query's threshold (`retrieval_ranks`).

The references are scored in class order (`ClassLayout.members`: column j holds reference members[j]), so a
query's members are one contiguous slice of its row, found by two bounds instead of a gather. Ties are ordered by
the references' own index, never by column, so nothing of the results depends on this order.

The threshold comes from a fixed random sample of K columns: a lower confidence bound of the points above each
sampled score (the sample count scaled by N / K, less Z standard errors) tells how far down the row it may go.
Exactness never depends on the sample: a row whose threshold turns out too high, or that would keep too many
points (`candidate_cap`), is ranked by `topk` instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

SAMPLE_COLUMNS = 2048  # K, at most N / 8: columns sampled for the threshold (fewer = cheaper, more points kept)
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
    """Most points a row may keep: the depth plus the bound's margin, doubled, plus slack; beyond, inexact."""
    return min(n, 2 * depth + int(4 * Z_BOUND * math.sqrt(depth * n / max(k, 1))) + 1024)
