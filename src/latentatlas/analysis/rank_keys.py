"""Order-preserving int64 keys of float32 scores (ties broken by index inside the key), and row sorts of them.

An IEEE float's bits, read as a signed integer, order the non-negative floats; flipping all bits but the sign
of the negative ones orders those too (the usual radix-sort trick). A float32 score then takes the high 32 bits
of an int64 key and 2^32 - 1 - index the low 32, so that larger key = higher score, then lower index: exactly the
order `neighbours.top_k_by_index` uses, every key distinct, and the index recoverable from the key. -0.0 is made
+0.0 first (they compare equal as scores). (A float64 score would fill all 64 bits, leaving no room for the index:
float64 retrieval is ranked by `topk`.)

The sorts use NumPy on CPU (its SIMD quicksort sorts int64 several times faster than `torch.sort`), on row chunks
in torch's number of threads (`map_rows`; NumPy releases the GIL while sorting), and torch elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

LOW_BITS = 2**32
EMPTY = torch.iinfo(torch.int64).max  # the negated key of padding: after every real key, ascending
_POOL: dict[int, ThreadPoolExecutor] = {}


def rank_keys(scores: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """int64 keys of float32 scores, larger = nearer: score descending, then column ascending; all distinct.

    Args:
        scores: float32 scores, finite or -inf.
        cols: int64 columns (< 2^32), broadcastable to scores.
    """
    bits = (scores + 0.0).view(torch.int32)  # -0.0 -> +0.0 first
    ordered = (bits ^ ((bits >> 31) & 0x7FFFFFFF)).to(torch.int64)
    return torch.add(LOW_BITS - 1 - cols, ordered, alpha=LOW_BITS)


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


def map_rows(fn: Callable[[int, int], object], n_rows: int) -> list:
    """fn(start, end) over row ranges, one per torch thread, in threads (NumPy releases the GIL in these calls)."""
    k = max(1, min(torch.get_num_threads(), n_rows // 64))
    edges = np.linspace(0, n_rows, k + 1).astype(int).tolist()
    if k == 1:
        return [fn(0, n_rows)]
    pool = _POOL.setdefault(k, ThreadPoolExecutor(k, thread_name_prefix="latentatlas-rows"))
    return list(pool.map(fn, edges[:-1], edges[1:]))
