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
    scatter_matrix,
    symmetric_eigh,
)
from latentatlas.analysis.silhouette import silhouette
from latentatlas.analysis.spread_blocks import sq_dist_blocks, unit_rows
from latentatlas.errors import DataError

__all__ = ["SPREAD_SAMPLE", "alignment", "effective_rank", "koleo", "koleo_by_batch", "mean_norm",
           "nearest_neighbor_distances", "silhouette", "sphere_stats", "spread_metrics", "subsample_rows",
           "uniformity"]  # fmt: skip

SPREAD_SAMPLE = 20_000  # rows of the seeded subsample of the O(N^2) spread metrics (docs/analyze.md)


def alignment(x_a: Any, x_b: Any, alpha: float = 2.0) -> float:
    """Wang & Isola (2020) alignment E ||f(a) - f(b)||^alpha over positive pairs, on L2-normalized rows.

    Args:
        x_a, x_b: (N, D) embeddings, row i of each forming a positive pair.
    """
    a, b = unit_rows(as_matrix(x_a, "x_a")), unit_rows(as_matrix(x_b, "x_b"))
    if a.shape != b.shape:
        raise DataError(f"alignment: shapes {tuple(a.shape)} and {tuple(b.shape)} differ; pass paired rows")
    return float(((a - b).norm(dim=1) ** alpha).mean())


def uniformity(x: Any, t: float = 2.0, memory_budget: int = DEFAULT_MEMORY_BUDGET) -> float:
    """Wang & Isola (2020) uniformity log mean_{i<j} exp(-t ||x_i - x_j||^2) on L2-normalized rows, exactly.

    Args:
        x: (N, D) embeddings, N >= 2. Cost O(N^2 D); subsample large sets (see spread_metrics).
    """
    u = unit_rows(as_matrix(x))
    n = u.shape[0]
    if n < 2:
        raise DataError("embeddings: uniformity needs at least 2 rows")
    total = 0.0
    for _, _, d2 in sq_dist_blocks(u, memory_budget):
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
    xt = unit_rows(xt) if normalize else xt
    out = torch.empty(xt.shape[0], dtype=torch.float64, device=xt.device)
    for s, e, d2 in sq_dist_blocks(xt, memory_budget):
        rows = torch.arange(e - s, device=d2.device)
        d2[rows, rows + s] = torch.inf
        out[s:e] = d2.min(dim=1).values.sqrt()
    return out.cpu().numpy()


def sphere_stats(x: Any, t: float = 2.0, memory_budget: int = DEFAULT_MEMORY_BUDGET) -> tuple[float, np.ndarray]:
    """`uniformity(x, t)` and `nearest_neighbor_distances(x)` of L2-normalized rows in one blockwise pass over
    the pairs (the same blocks, so the same values as the two functions; half the O(N^2 D) work)."""
    u = unit_rows(as_matrix(x))
    n = u.shape[0]
    if n < 2:
        raise DataError("embeddings: uniformity and nearest neighbours need at least 2 rows")
    total = 0.0
    nn = torch.empty(n, dtype=torch.float64, device=u.device)
    for s, e, d2 in sq_dist_blocks(u, memory_budget):
        total += float(torch.exp(-t * d2).sum())
        rows = torch.arange(e - s, device=d2.device)
        d2[rows, rows + s] = torch.inf
        nn[s:e] = d2.min(dim=1).values.sqrt()
    return math.log((total - n) / (n * (n - 1))), nn.cpu().numpy()


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
    xt = unit_rows(as_matrix(x, "embeddings"))
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
    uniform, nn = sphere_stats(sub)
    counts, edges = np.histogram(nn, bins=bins)
    out: dict[str, Any] = {
        "mean_norm": mean_norm(xt),
        "effective_rank": effective_rank(xt),
        "uniformity": uniform,
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
