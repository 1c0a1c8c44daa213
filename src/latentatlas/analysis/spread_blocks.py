"""The pairwise building blocks of the spread metrics: unit rows and (block, N) squared distances."""

from __future__ import annotations

import torch

from latentatlas.analysis.inputs import row_block
from latentatlas.errors import DataError


def unit_rows(x: torch.Tensor) -> torch.Tensor:
    """Rows divided by their L2 norms; an all-zero row is refused."""
    norms = x.norm(dim=1, keepdim=True)
    if bool((norms == 0).any()):
        raise DataError("embeddings: some rows are all zeros and cannot be L2-normalized; drop those rows")
    return x / norms


def sq_dist_blocks(x: torch.Tensor, memory_budget: int):
    """Yield (start, end, (B, N) squared distances of rows start:end to all rows, self-pairs exactly 0)."""
    xc = x - x.mean(dim=0)  # translation-free, so ||a||^2 + ||b||^2 - 2 <a, b> keeps its digits
    sq = (xc * xc).sum(dim=1)
    block = row_block(x.shape[0], memory_budget)
    for s in range(0, x.shape[0], block):
        e = min(s + block, x.shape[0])
        d2 = (sq[s:e, None] + sq[None, :] - 2.0 * (xc[s:e] @ xc.T)).clamp_(min=0.0)
        rows = torch.arange(e - s, device=d2.device)
        d2[rows, rows + s] = 0.0
        yield s, e, d2
