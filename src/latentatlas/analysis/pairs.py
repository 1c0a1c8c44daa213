"""Validation metrics of triplet embeddings (anchor, positive, negative), as the seed reports them each epoch."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from latentatlas.analysis.inputs import as_matrix
from latentatlas.errors import DataError

PAIR_METRICS = ("pair_auc", "mean_cos_ap", "mean_cos_an", "mean_dist_ap", "mean_dist_an", "good_triplet_ratio")


def roc_auc(scores: Any, targets: Any) -> float:
    """Exact ROC AUC via the Mann-Whitney U statistic, ties counted 1/2.

    AUC = P(score of a random positive > score of a random negative) + 0.5 P(equal)
        = (sum of the positives' average ranks - n_pos (n_pos + 1) / 2) / (n_pos n_neg)
    (Hanley & McNeil 1982). Average ranks give tied pairs exactly half a point.

    Args:
        scores: (M,) float, higher means "more likely positive".
        targets: (M,) binary {0, 1} or bool.

    Returns:
        AUC in [0, 1].
    """
    s = torch.as_tensor(np.asarray(scores), dtype=torch.float64).reshape(-1)
    t = torch.as_tensor(np.asarray(targets)).reshape(-1)
    if s.shape != t.shape:
        raise DataError(f"roc_auc: {s.numel()} scores but {t.numel()} targets; pass one target per score")
    if not bool(torch.isfinite(s).all()):
        raise DataError("roc_auc: scores contain NaN or inf; drop or fix them first")
    if not bool(((t == 0) | (t == 1)).all()):
        raise DataError("roc_auc: targets must be 0/1 (or bool); map the positive class to 1")
    pos = t == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        raise DataError("roc_auc: targets hold a single class; AUC needs at least one positive and one negative")
    order = torch.argsort(s)
    sorted_s = s[order]
    # Average rank of each tie group: ranks first..last (1-based) average to (first + last) / 2.
    _, inverse, group_size = torch.unique_consecutive(sorted_s, return_inverse=True, return_counts=True)
    last = torch.cumsum(group_size, 0).to(torch.float64)
    avg_rank = last - (group_size.to(torch.float64) - 1.0) / 2.0  # (G,)
    ranks = torch.empty_like(s)
    ranks[order] = avg_rank[inverse]
    u = float(ranks[pos].sum()) - n_pos * (n_pos + 1) / 2.0
    return u / (n_pos * n_neg)


def pair_metrics(a: Any, p: Any, n: Any) -> dict[str, float]:
    """The seed's per-epoch validation metrics on triplets.

    Args:
        a: (T, D) anchor embeddings.
        p: (T, D) positive embeddings (same class as the anchor).
        n: (T, D) negative embeddings (other class).

    Returns:
        dict with pair_auc (ROC AUC of cos similarity, (a, p) positive, (a, n) negative), mean_cos_ap,
        mean_cos_an, mean_dist_ap, mean_dist_an (euclidean on the vectors as given) and good_triplet_ratio
        (share of triplets with cos(a, p) > cos(a, n)).
    """
    a, p, n = (as_matrix(v, name) for v, name in ((a, "anchors"), (p, "positives"), (n, "negatives")))
    if not (a.shape == p.shape == n.shape):
        raise DataError(
            f"triplets: shapes {tuple(a.shape)}, {tuple(p.shape)}, {tuple(n.shape)} differ; "
            "pass anchors, positives and negatives of the same shape (T, D)"
        )
    unit = [v / v.norm(dim=1, keepdim=True) for v in (a, p, n)]
    if any(bool(torch.isnan(u).any()) for u in unit):
        raise DataError("triplets: some rows are all zeros, so cosine is undefined; drop those triplets")
    cos_ap = (unit[0] * unit[1]).sum(dim=1)  # (T,)
    cos_an = (unit[0] * unit[2]).sum(dim=1)
    scores = torch.cat([cos_ap, cos_an]).cpu().numpy()
    targets = np.r_[np.ones(len(cos_ap)), np.zeros(len(cos_an))]
    return {
        "pair_auc": roc_auc(scores, targets),
        "mean_cos_ap": float(cos_ap.mean()),
        "mean_cos_an": float(cos_an.mean()),
        "mean_dist_ap": float((a - p).norm(dim=1).mean()),
        "mean_dist_an": float((a - n).norm(dim=1).mean()),
        "good_triplet_ratio": float((cos_ap > cos_an).to(torch.float64).mean()),
    }
