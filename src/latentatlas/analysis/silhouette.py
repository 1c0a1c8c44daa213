"""Exact mean silhouette (Rousseeuw 1987) of labelled embeddings, streamed over blocks of rows.

Cosine and squared euclidean mean distances to a class come from per-class sums (O(N C D)); euclidean ones from
blockwise distances (O(N^2 D): `spread_metrics` runs it on its subsample). No (N, C) table is ever held.
"""

from __future__ import annotations

from typing import Any

import torch

from latentatlas.analysis.inputs import CHUNK, DEFAULT_MEMORY_BUDGET, as_labels, as_matrix, check_metric
from latentatlas.analysis.spread_blocks import sq_dist_blocks, unit_rows
from latentatlas.errors import DataError


def silhouette(x: Any, labels: Any, metric: str = "cosine", memory_budget: int = DEFAULT_MEMORY_BUDGET) -> float:
    """Exact mean silhouette (Rousseeuw 1987): s_i = (b_i - a_i) / max(a_i, b_i), 0 for single-member classes.

    a_i: mean distance to the other members of i's class; b_i: smallest mean distance to another class.
    Cosine and sqeuclidean mean distances to a class come from class sums in O(N C D); euclidean is blockwise.
    Rows are taken a block at a time, so memory stays O(block x C + C x D) whatever N (no (N, C) table).

    Args:
        x: (N, D) embeddings; labels: (N,) integers with 2 <= C <= N - 1 classes.
        metric: "cosine", "sqeuclidean" or "euclidean".
    """
    check_metric(metric)
    xt = as_matrix(x, dtype=None)  # float32 stays float32: blocks are promoted to float64
    codes, classes, counts = as_labels(labels, xt.shape[0], device=xt.device)
    if not 2 <= len(classes) <= xt.shape[0] - 1:
        raise DataError(f"labels: silhouette needs 2..N-1 classes, got {len(classes)}; check the labels")
    n = torch.as_tensor(counts, dtype=torch.float64, device=xt.device)
    c = len(classes)
    if metric == "euclidean":
        blocks = ((s, e, d2.sqrt_()) for s, e, d2 in sq_dist_blocks(xt.to(torch.float64), memory_budget))
        total = sum(float(_silhouettes(_class_sums(d, codes, c), codes[s:e], n).sum()) for s, e, d in blocks)
        return total / xt.shape[0]
    mean = torch.zeros(xt.shape[1], dtype=torch.float64, device=xt.device)
    if metric == "sqeuclidean":
        for s in range(0, len(xt), CHUNK):
            mean += xt[s : s + CHUNK].to(torch.float64).sum(dim=0)
        mean /= len(xt)
    sum_x = torch.zeros(c, xt.shape[1], dtype=torch.float64, device=xt.device)  # per class: sum of rows
    sum_sq = torch.zeros(c, dtype=torch.float64, device=xt.device)  # per class: sum of squared norms
    for s in range(0, len(xt), CHUNK):
        rows = _rows(xt[s : s + CHUNK], metric, mean)
        sum_x.index_add_(0, codes[s : s + CHUNK], rows)
        sum_sq.index_add_(0, codes[s : s + CHUNK], (rows * rows).sum(dim=1))
    total = 0.0
    step = max(1, min(CHUNK, memory_budget // (8 * 4 * max(c, xt.shape[1]))))
    for s in range(0, len(xt), step):
        rows = _rows(xt[s : s + step], metric, mean)
        if metric == "cosine":
            sums = n - rows @ sum_x.T  # (B, C) sum of (1 - cos) to each class; self adds 0
        else:
            sq = (rows * rows).sum(dim=1, keepdim=True)
            sums = sq * n - 2.0 * rows @ sum_x.T + sum_sq[None, :]  # self adds 0
        total += float(_silhouettes(sums, codes[s : s + step], n).sum())
    return total / xt.shape[0]


def _rows(block: torch.Tensor, metric: str, mean: torch.Tensor) -> torch.Tensor:
    """A block of rows in float64: unit rows for cosine, centred rows for squared euclidean."""
    rows = block.to(torch.float64)
    return unit_rows(rows) if metric == "cosine" else rows - mean


def _class_sums(d: torch.Tensor, codes: torch.Tensor, n_classes: int) -> torch.Tensor:
    """(B, C) sums of the distances d (B, N) to each class's members (codes (N,))."""
    return torch.zeros(d.shape[0], n_classes, dtype=d.dtype, device=d.device).index_add_(1, codes, d)


def _silhouettes(sums: torch.Tensor, own_codes: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    """s_i of a block of rows from their (B, C) distance sums to each class (self-distance 0 included)."""
    rows = torch.arange(len(own_codes), device=sums.device)
    own = n[own_codes]
    a = sums[rows, own_codes] / (own - 1).clamp(min=1)
    others = sums / n
    others[rows, own_codes] = torch.inf
    b = others.min(dim=1).values
    s_i = (b - a) / torch.maximum(a, b)
    return torch.where((own > 1) & (torch.maximum(a, b) > 0), s_i, torch.zeros_like(s_i))
