"""Order-preserving int64 keys of scores (ties broken by index inside the key), and a fast sort of rows.

An IEEE float's bits, read as a signed integer, order the non-negative floats; flipping all bits but the sign
of the negative ones orders those too (Knuth, TAOCP vol. 4A, 7.1.3; the usual radix-sort trick). A float32
score then takes the high 32 bits of an int64 key and 2^32 - 1 - index the low 32, so that larger key = higher
score, then lower index: exactly the order `neighbours.top_k_by_index` uses, with every key distinct. A
float64 score fills the 64 bits, so its key has no room for the index and equal scores give equal keys.
-0.0 is made +0.0 first (they compare equal as scores).
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
        cols: int64 columns (< 2^32) of the same shape, or None for the smallest key of each score (below
            every column's key of that score: `key >= rank_keys(s)` means "score >= s").

    Returns:
        int64 keys of scores' shape (float64: the column is not part of the key).
    """
    s = scores + 0.0  # -0.0 -> +0.0
    if s.dtype == torch.float64:
        bits = s.view(torch.int64)
        return torch.where(bits < 0, bits ^ 0x7FFFFFFFFFFFFFFF, bits)
    bits = s.view(torch.int32).to(torch.int64)
    key = torch.where(bits < 0, bits ^ 0x7FFFFFFF, bits) * LOW_BITS
    return key if cols is None else key + (LOW_BITS - 1 - cols)


def sort_rows(x: torch.Tensor) -> torch.Tensor:
    """Each row of x (B, W) sorted ascending, values only (NumPy's SIMD sort on CPU, several times torch's)."""
    if x.device.type == "cpu":
        return torch.from_numpy(np.sort(x.numpy(), axis=1))
    return torch.sort(x, dim=1).values
