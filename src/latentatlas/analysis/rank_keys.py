"""Order-preserving int64 keys of scores (ties broken by index inside the key), and fast row sorts of them.

An IEEE float's bits, read as a signed integer, order the non-negative floats; flipping all bits but the sign
of the negative ones orders those too (the usual radix-sort trick). A float32 score then takes the high 32 bits
of an int64 key and 2^32 - 1 - index the low 32, so that larger key = higher score, then lower index: exactly the
order `neighbours.top_k_by_index` uses, every key distinct, and the index recoverable from the key. A float64
score fills the 64 bits, so its key has no room for the index and equal scores give equal keys. -0.0 is made
+0.0 first (they compare equal as scores).

The sorts use NumPy on CPU (its SIMD quicksort sorts int64 several times faster than `torch.sort`, and its
stable sort merges two sorted runs in one pass) and torch elsewhere.
"""

from __future__ import annotations

import numpy as np
import torch

LOW_BITS = 2**32
EMPTY = torch.iinfo(torch.int64).max  # the negated key of padding: after every real key, ascending


def rank_keys(scores: torch.Tensor, cols: torch.Tensor | None = None) -> torch.Tensor:
    """int64 keys, larger = nearer: (score descending, then column ascending) for float32 scores.

    Args:
        scores: float32 or float64 scores, finite or -inf.
        cols: int64 columns (< 2^32), broadcastable to scores, or None for the smallest key of each score (below
            every column's key of that score: `key >= rank_keys(s)` means "score >= s").

    Returns:
        int64 keys of scores' shape (float64: the column is not part of the key).
    """
    s = scores + 0.0  # -0.0 -> +0.0
    if s.dtype == torch.float64:
        bits = s.view(torch.int64)
        return bits ^ ((bits >> 63) & 0x7FFFFFFFFFFFFFFF)
    bits = s.view(torch.int32)
    ordered = (bits ^ ((bits >> 31) & 0x7FFFFFFF)).to(torch.int64)
    return ordered * LOW_BITS if cols is None else torch.add(LOW_BITS - 1 - cols, ordered, alpha=LOW_BITS)


def key_columns(neg_keys: torch.Tensor, n: int) -> torch.Tensor:
    """The columns held by negated float32 keys (padding gives column 0)."""
    cols = (LOW_BITS - 1) - (-neg_keys & (LOW_BITS - 1))
    return cols.masked_fill_(neg_keys == EMPTY, 0).clamp_(max=n - 1)


def sort_rows(x: torch.Tensor) -> torch.Tensor:
    """Each row of x (B, W) sorted ascending, values only."""
    if x.device.type == "cpu":
        return torch.from_numpy(np.sort(x.numpy(), axis=1))
    return torch.sort(x, dim=1).values


def argsort_rows(x: torch.Tensor, stable: bool = False) -> torch.Tensor:
    """(B, W) int64 positions that sort each row of x ascending (stable: equal values keep their order)."""
    if x.device.type == "cpu":
        return torch.from_numpy(np.argsort(x.numpy(), axis=1, kind="stable" if stable else None))
    return torch.sort(x, dim=1, stable=stable).indices


def merge_rows(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Rows of a (B, W) and b (B, V), each sorted ascending, merged into (B, W + V) sorted rows."""
    if a.device.type == "cpu":
        both = np.concatenate([a.numpy(), b.numpy()], axis=1)
        both.sort(axis=1, kind="stable")  # timsort: one merge of the two runs
        return torch.from_numpy(both)
    return torch.sort(torch.cat([a, b], dim=1), dim=1).values


def flat_nonzero(mask: torch.Tensor) -> torch.Tensor:
    """(M,) int64 flat positions of the True entries of a contiguous mask, in row-major order."""
    if mask.device.type == "cpu":
        return torch.from_numpy(np.flatnonzero(mask.numpy()))
    return mask.view(-1).nonzero().squeeze(1)
