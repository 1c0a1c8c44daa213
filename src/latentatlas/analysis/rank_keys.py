"""Order-preserving int64 keys of scores (ties broken by index inside the key), and fast row sorts of them.

An IEEE float's bits, read as a signed integer, order the non-negative floats; flipping all bits but the sign
of the negative ones orders those too (the usual radix-sort trick). A float32 score then takes the high 32 bits
of an int64 key and 2^32 - 1 - index the low 32, so that larger key = higher score, then lower index: exactly the
order `neighbours.top_k_by_index` uses, every key distinct, and the index recoverable from the key. A float64
score fills the 64 bits, so its key has no room for the index and equal scores give equal keys. -0.0 is made
+0.0 first (they compare equal as scores).

The sorts use NumPy on CPU (its SIMD quicksort sorts int64 several times faster than `torch.sort`, and its
stable sort merges two sorted runs in one pass), on row chunks in torch's number of threads (NumPy releases the
GIL while sorting), and torch elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

LOW_BITS = 2**32
EMPTY = torch.iinfo(torch.int64).max  # the negated key of padding: after every real key, ascending
_POOL: dict[int, ThreadPoolExecutor] = {}


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
    if x.device.type != "cpu":
        return torch.sort(x, dim=1).values
    out = x.numpy().copy()
    map_rows(lambda s, e: out[s:e].sort(axis=1), len(out))  # in place, chunk by chunk
    return torch.from_numpy(out)


def argsort_rows(x: torch.Tensor, stable: bool = False) -> torch.Tensor:
    """(B, W) int64 positions that sort each row of x ascending (stable: equal values keep their order)."""
    if x.device.type != "cpu":
        return torch.sort(x, dim=1, stable=stable).indices
    a, out = x.numpy(), np.empty(tuple(x.shape), dtype=np.int64)

    def chunk(s: int, e: int) -> None:
        out[s:e] = np.argsort(a[s:e], axis=1, kind="stable" if stable else None)

    map_rows(chunk, len(a))
    return torch.from_numpy(out)


def merge_rows(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Rows of a (B, W) and b (B, V), each sorted ascending, merged into (B, W + V) sorted rows."""
    if a.device.type != "cpu":
        return torch.sort(torch.cat([a, b], dim=1), dim=1).values
    both = np.concatenate([a.numpy(), b.numpy()], axis=1)
    map_rows(lambda s, e: both[s:e].sort(axis=1, kind="stable"), len(both))  # timsort: one merge of the two runs
    return torch.from_numpy(both)


def flat_at_least(scores: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
    """(M,) int64 flat positions of the entries of contiguous scores (B, N) that are >= their row's tau (B,), in
    row-major order.

    On CPU, NumPy compares and finds them chunk by chunk in torch's threads: torch's broadcast comparison
    `scores >= tau[:, None]` was several times slower than NumPy's in a one-thread micro-benchmark here.
    """
    if scores.device.type != "cpu":
        return (scores >= tau[:, None]).view(-1).nonzero().squeeze(1)
    a, t, width = scores.numpy(), tau.numpy(), scores.shape[1]
    parts = map_rows(lambda s, e: np.flatnonzero(a[s:e] >= t[s:e, None]) + s * width, len(a))
    return torch.from_numpy(np.concatenate(parts))


def map_rows(fn: Callable[[int, int], object], n_rows: int) -> list:
    """fn(start, end) over row ranges, one per torch thread, in threads (NumPy releases the GIL in these calls)."""
    k = max(1, min(torch.get_num_threads(), n_rows // 64))
    edges = np.linspace(0, n_rows, k + 1).astype(int).tolist()
    if k == 1:
        return [fn(0, n_rows)]
    pool = _POOL.setdefault(k, ThreadPoolExecutor(k, thread_name_prefix="latentatlas-rows"))
    return list(pool.map(fn, edges[:-1], edges[1:]))
