"""How embeddings fill their space: alignment, uniformity, KoLeo, nearest neighbours, effective rank, silhouette.

Pairwise quantities are exact and blockwise (a (block, N) matrix at a time). `spread_metrics` runs the O(N^2)
ones (uniformity, nearest neighbours / KoLeo, euclidean silhouette) on a seeded subsample of at most
`max_points` rows and says so in its output; NN distances of a subsample are larger than in the full set.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from latentatlas.analysis.inputs import (
    CHUNK,
    DEFAULT_MEMORY_BUDGET,
    as_labels,
    as_matrix,
    centred_gram,
    check_metric,
    row_block,
    scatter_matrix,
    symmetric_eigh,
)
from latentatlas.errors import DataError

SPREAD_SAMPLE = 20_000  # rows of the seeded subsample of the O(N^2) spread metrics (docs/analyze.md)


def _unit(x: torch.Tensor) -> torch.Tensor:
    norms = x.norm(dim=1, keepdim=True)
    if bool((norms == 0).any()):
        raise DataError("embeddings: some rows are all zeros and cannot be L2-normalized; drop those rows")
    return x / norms


def _sq_dist_blocks(x: torch.Tensor, memory_budget: int):
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


def alignment(x_a: Any, x_b: Any, alpha: float = 2.0) -> float:
    """Wang & Isola (2020) alignment E ||f(a) - f(b)||^alpha over positive pairs, on L2-normalized rows.

    Args:
        x_a, x_b: (N, D) embeddings, row i of each forming a positive pair.
    """
    a, b = _unit(as_matrix(x_a, "x_a")), _unit(as_matrix(x_b, "x_b"))
    if a.shape != b.shape:
        raise DataError(f"alignment: shapes {tuple(a.shape)} and {tuple(b.shape)} differ; pass paired rows")
    return float(((a - b).norm(dim=1) ** alpha).mean())


def uniformity(x: Any, t: float = 2.0, memory_budget: int = DEFAULT_MEMORY_BUDGET) -> float:
    """Wang & Isola (2020) uniformity log mean_{i<j} exp(-t ||x_i - x_j||^2) on L2-normalized rows, exactly.

    Args:
        x: (N, D) embeddings, N >= 2. Cost O(N^2 D); subsample large sets (see spread_metrics).
    """
    u = _unit(as_matrix(x))
    n = u.shape[0]
    if n < 2:
        raise DataError("embeddings: uniformity needs at least 2 rows")
    total = 0.0
    for _, _, d2 in _sq_dist_blocks(u, memory_budget):
        total += float(torch.exp(-t * d2).sum())
    # The full N x N sum counts each pair twice and adds N self-terms exp(0) = 1. On the unit sphere
    # d^2 <= 4, so every term is >= exp(-4t): no underflow for usual t and no log-sum-exp needed.
    return math.log((total - n) / (n * (n - 1)))


def nearest_neighbor_distances(
    x: Any, normalize: bool = True, memory_budget: int = DEFAULT_MEMORY_BUDGET
) -> np.ndarray:
    """Euclidean distance of each row to its nearest other row, exact and blockwise.

    Args:
        x: (N, D) embeddings, N >= 2.
        normalize: L2-normalize rows first (distances on the unit sphere, as KoLeo uses).

    Returns:
        (N,) float64.
    """
    xt = as_matrix(x)
    if xt.shape[0] < 2:
        raise DataError("embeddings: nearest neighbours need at least 2 rows")
    xt = _unit(xt) if normalize else xt
    out = torch.empty(xt.shape[0], dtype=torch.float64, device=xt.device)
    for s, e, d2 in _sq_dist_blocks(xt, memory_budget):
        rows = torch.arange(e - s, device=d2.device)
        d2[rows, rows + s] = torch.inf
        out[s:e] = d2.min(dim=1).values.sqrt()
    return out.cpu().numpy()


def koleo(x: Any, eps: float = 1e-8) -> float:
    """KoLeo entropy estimate (Sablayrolles et al. 2019; DINOv2's form): -mean_i log(min_{j != i} ||x_i - x_j|| + eps)
    on L2-normalized rows. Lower means points are spread more evenly."""
    return float(-np.mean(np.log(nearest_neighbor_distances(x, normalize=True) + eps)))


def koleo_by_batch(x: Any, batch: int, parts: int, n_batches: int = 200, seed: int = 0, eps: float = 1e-8) -> dict:
    """What KoLeo reads on batches of these embeddings, over the whole batch and per micro-batch.

    Draws `n_batches` seeded batches of `batch` distinct rows; for each, KoLeo over all `batch` rows (`whole`, the
    value `loss.koleo.scope=effective` optimizes) and the mean KoLeo of its `parts` consecutive micro-batches
    (`micro`, what gradient accumulation computes per micro-batch). Per point, the nearest neighbour within a
    micro-batch is never closer than within the whole batch, so `micro <= whole` on every batch (equal for
    `parts = 1`): the per-micro-batch loss sees fewer, farther neighbours.

    Returns:
        `{"batch", "parts", "n_batches", "whole", "micro", "whole_std", "micro_std"}` (means and sample stds over
        the batches).
    """
    xt = _unit(as_matrix(x, "embeddings"))
    n = xt.shape[0]
    if parts < 1 or batch < 2 * parts or batch % parts:
        raise DataError(f"koleo_by_batch: batch {batch} must be a multiple of parts {parts} with >= 2 rows per part")
    if batch > n:
        raise DataError(f"koleo_by_batch: batch {batch} > {n} embeddings; use a smaller batch")
    gen = torch.Generator().manual_seed(seed)
    size = batch // parts
    whole, micro = [], []
    for _ in range(n_batches):
        rows = xt[torch.randperm(n, generator=gen)[:batch]]
        d = torch.cdist(rows, rows)
        d.fill_diagonal_(torch.inf)
        whole.append(float(-torch.log(d.min(dim=1).values + eps).mean()))
        blocks = d.reshape(parts, size, parts, size).diagonal(dim1=0, dim2=2).permute(2, 0, 1)  # (parts, size, size)
        micro.append(float(-torch.log(blocks.min(dim=2).values + eps).mean()))
    w, m = np.array(whole), np.array(micro)
    ddof = 1 if n_batches > 1 else 0
    return {
        "batch": batch,
        "parts": parts,
        "n_batches": n_batches,
        "whole": float(w.mean()),
        "micro": float(m.mean()),
        "whole_std": float(w.std(ddof=ddof)),
        "micro_std": float(m.std(ddof=ddof)),
    }


def effective_rank(x: Any) -> float:
    """Roy & Vetterli (2007) effective rank exp(H(p)), p_k = sigma_k / sum sigma, of the centred (N, D) matrix.

    Singular values come from the eigenvalues (sigma_k^2) of the D x D scatter matrix when D <= N (O(N D^2)), else
    of the N x N Gram matrix of the centred rows (O(N^2 D)); both hold the same nonzero ones.
    """
    xt = as_matrix(x, dtype=None)
    _, square = scatter_matrix(xt) if xt.shape[1] <= xt.shape[0] else centred_gram(xt)
    sigma = symmetric_eigh(square, vectors=False)[0].clamp(min=0.0).sqrt()  # singular values of the centred x
    if float(sigma.sum()) == 0.0:
        return 0.0  # all rows identical: no direction carries variance
    p = sigma / sigma.sum()
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))


def mean_norm(x: Any) -> float:
    """Mean L2 norm of the rows of (N, D) embeddings."""
    xt = as_matrix(x, dtype=None)
    total = 0.0
    for s in range(0, len(xt), CHUNK):  # float64 sums, one chunk at a time
        total += float(torch.linalg.vector_norm(xt[s : s + CHUNK].to(torch.float64), dim=1).sum())
    return total / len(xt)


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
        blocks = ((s, e, d2.sqrt_()) for s, e, d2 in _sq_dist_blocks(xt.to(torch.float64), memory_budget))
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
    return _unit(rows) if metric == "cosine" else rows - mean


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


def subsample_rows(n: int, max_points: int, seed: int = 0) -> torch.Tensor:
    """(min(n, max_points),) sorted int64 rows: all n, or a seeded uniform sample of max_points of them."""
    if n <= max_points:
        return torch.arange(n)
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:max_points].sort().values


def spread_metrics(
    x: Any,
    labels: Any = None,
    metric: str = "cosine",
    max_points: int = SPREAD_SAMPLE,
    seed: int = 0,
    bins: int = 30,
) -> dict[str, Any]:
    """Bundle of spread metrics; O(N^2) ones run on a seeded subsample of at most `max_points` rows.

    Args:
        x: (N, D) embeddings. labels: optional (N,) integers, for the silhouette.
        metric: silhouette metric. max_points: subsample cap. seed: subsample seed. bins: NN histogram bins.

    Returns:
        dict: mean_norm, effective_rank (all rows), uniformity, koleo, nn_mean, nn_median, nn_hist_counts,
        nn_hist_edges (unit-sphere NN distances), n_subsample, subsampled, and silhouette (NaN unless
        2 <= C <= N - 1), silhouette_metric and silhouette_rows (all N for cosine and sqeuclidean, the subsample
        for euclidean) if labels are given.
    """
    check_metric(metric)
    xt = as_matrix(x, dtype=None)  # no float64 copy of all rows: only the subsample is promoted
    codes = as_labels(labels, xt.shape[0])[0] if labels is not None else None
    n = xt.shape[0]
    pick = subsample_rows(n, max_points, seed)
    sub = xt[pick.to(xt.device)]
    nn = nearest_neighbor_distances(sub, normalize=True)
    counts, edges = np.histogram(nn, bins=bins)
    out: dict[str, Any] = {
        "mean_norm": mean_norm(xt),
        "effective_rank": effective_rank(xt),
        "uniformity": uniformity(sub),
        "koleo": float(-np.mean(np.log(nn + 1e-8))),
        "nn_mean": float(nn.mean()),
        "nn_median": float(np.median(nn)),
        "nn_hist_counts": counts.tolist(),
        "nn_hist_edges": edges.tolist(),
        "n_subsample": int(len(pick)),
        "subsampled": bool(n > max_points),
    }
    if codes is not None:
        # cosine / sqeuclidean silhouettes are O(N C D): exact on all rows; euclidean uses the subsample.
        pts, own = (sub, codes[pick.to(codes.device)]) if metric == "euclidean" else (xt, codes)  # no copy of all
        n_classes = len(torch.unique(own))
        # Undefined unless 2 <= C <= N - 1 (e.g. a single class): NaN rather than failing the whole bundle.
        ok = 2 <= n_classes <= len(own) - 1
        out["silhouette"] = silhouette(pts, own.cpu().numpy(), metric) if ok else math.nan
        out["silhouette_rows"] = int(len(own))
        out["silhouette_metric"] = metric
    return out
