"""Triplet losses: the seed's fixed triplets and three online mining strategies on labelled batches.

For a triplet (anchor a, positive p, negative n) and a distance d, the hinge loss is
`max(d(a, p) - d(a, n) + margin, 0)` (Weinberger & Saul, 2009; Schroff et al., 2015). Mining picks the
triplets from a batch of labelled embeddings through its B x B distance matrix, without Python loops:

- `all`: every valid triplet; the loss averages those with a positive loss (Hermans et al., 2017, "batch all").
- `hard`: per anchor, its farthest positive and closest negative (Hermans et al., 2017, "batch hard").
- `semi_hard`: per (anchor, positive) pair, the closest negative farther than the positive but within the
  margin (Schroff et al., 2015, FaceNet); when there is none, the closest negative.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from latentatlas.errors import ConfigError, DataError

MININGS = ("none", "all", "hard", "semi_hard")


def _safe_sqrt(sq: torch.Tensor) -> torch.Tensor:
    """sqrt with a zero (not infinite) gradient at 0: identical points get distance 0 and finite grads."""
    positive = sq > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, sq, torch.ones_like(sq))), torch.zeros_like(sq))


class Distance:
    """A distance between embeddings; subclasses define `pairwise` and `paired`."""

    name = "distance"

    def pairwise(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """x: (N, D), y: (M, D) -> (N, M) distances."""
        raise NotImplementedError

    def paired(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """x: (N, D), y: (N, D) -> (N,) distances between matching rows."""
        raise NotImplementedError


class CosineDistance(Distance):
    """`1 - cos(x, y)`, in [0, 2]; rows are L2-normalized first."""

    name = "cosine"

    def pairwise(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return 1 - F.normalize(x, dim=1) @ F.normalize(y, dim=1).T

    def paired(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return 1 - (F.normalize(x, dim=1) * F.normalize(y, dim=1)).sum(dim=1)


class EuclideanDistance(Distance):
    """`||x - y||_2`, with a finite gradient where x = y."""

    name = "euclidean"

    def pairwise(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # ||x||^2 + ||y||^2 - 2 x.y: one matmul instead of an (N, M, D) difference tensor.
        sq = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2 * x @ y.T
        return _safe_sqrt(sq.clamp_min(0))

    def paired(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return _safe_sqrt(((x - y) ** 2).sum(dim=1))


DISTANCES: dict[str, type[Distance]] = {"cosine": CosineDistance, "euclidean": EuclideanDistance}


def get_distance(distance: str | Distance) -> Distance:
    """A `Distance` instance from a name (`cosine`, `euclidean`) or an instance (returned as is)."""
    if isinstance(distance, Distance):
        return distance
    if distance not in DISTANCES:
        raise ConfigError(f"distance: unknown value {distance!r}; use one of {', '.join(DISTANCES)}")
    return DISTANCES[distance]()


def triplet_loss(
    a: torch.Tensor, p: torch.Tensor, n: torch.Tensor, margin: float = 0.4, distance: str | Distance = "cosine"
) -> torch.Tensor:
    """The seed's loss on fixed triplets: `mean(max(d(a, p) - d(a, n) + margin, 0))`.

    Args:
        a, p, n: (T, D) anchors, positives, negatives.
    """
    dist = get_distance(distance)
    return F.relu(dist.paired(a, p) - dist.paired(a, n) + margin).mean()


def _masks(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """labels: (B,) -> positive mask (same label, not itself) and negative mask (other label), (B, B) bool."""
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    return same & ~eye, ~same


def _zero(dist: torch.Tensor) -> torch.Tensor:
    """A zero loss still attached to the graph, so `backward()` works on a batch without triplets."""
    return dist.sum() * 0


def batch_all_loss(dist: torch.Tensor, labels: torch.Tensor, margin: float) -> tuple[torch.Tensor, dict]:
    """Mean over valid triplets with positive loss. dist: (B, B), labels: (B,). Memory O(B^3)."""
    pos, neg = _masks(labels)
    valid = pos[:, :, None] & neg[:, None, :]  # (B, B, B): [anchor, positive, negative]
    losses = dist[:, :, None] - dist[:, None, :] + margin
    active = valid & (losses > 0)
    n_valid, n_active = int(valid.sum()), int(active.sum())
    loss = losses[active].mean() if n_active else _zero(dist)
    return loss, {"triplets": n_valid, "active_fraction": n_active / max(n_valid, 1)}


def batch_hard_loss(dist: torch.Tensor, labels: torch.Tensor, margin: float) -> tuple[torch.Tensor, dict]:
    """Per anchor: farthest positive, closest negative; mean over anchors having both. dist: (B, B)."""
    pos, neg = _masks(labels)
    inf = torch.finfo(dist.dtype).max
    hardest_pos = dist.masked_fill(~pos, -inf).amax(dim=1)  # (B,)
    hardest_neg = dist.masked_fill(~neg, inf).amin(dim=1)  # (B,)
    valid = pos.any(dim=1) & neg.any(dim=1)
    losses = F.relu(hardest_pos - hardest_neg + margin)[valid]
    if not len(losses):
        return _zero(dist), {"triplets": 0, "active_fraction": 0.0}
    return losses.mean(), {"triplets": len(losses), "active_fraction": float((losses > 0).float().mean())}


def semi_hard_loss(dist: torch.Tensor, labels: torch.Tensor, margin: float) -> tuple[torch.Tensor, dict]:
    """Per (anchor, positive): closest negative with d(a,p) < d(a,n) < d(a,p) + margin, else the closest
    negative; mean over all pairs whose anchor has a negative. dist: (B, B)."""
    pos, neg = _masks(labels)
    inf = torch.finfo(dist.dtype).max
    d_ap = dist[:, :, None]  # (B, B, 1): [anchor, positive, -]
    d_an = dist[:, None, :]  # (B, 1, B): [anchor, -, negative]
    semi = neg[:, None, :] & (d_an > d_ap) & (d_an < d_ap + margin)  # (B, B, B)
    semi_neg = d_an.expand_as(semi).masked_fill(~semi, inf).amin(dim=2)  # (B, B)
    hardest_neg = dist.masked_fill(~neg, inf).amin(dim=1, keepdim=True).expand_as(semi_neg)  # (B, B)
    chosen = torch.where(semi.any(dim=2), semi_neg, hardest_neg)
    pairs = pos & neg.any(dim=1, keepdim=True)
    losses = F.relu(dist - chosen + margin)[pairs]
    if not len(losses):
        return _zero(dist), {"triplets": 0, "active_fraction": 0.0}
    return losses.mean(), {"triplets": len(losses), "active_fraction": float((losses > 0).float().mean())}


_MINERS = {"all": batch_all_loss, "hard": batch_hard_loss, "semi_hard": semi_hard_loss}


class TripletLoss(nn.Module):
    """Triplet loss with optional online mining, returning `(loss, stats)`.

    Args:
        margin: hinge margin (the seed uses 0.4 with the cosine distance).
        distance: `cosine`, `euclidean` or a `Distance` instance.
        mining: `none` (fixed triplets: `embeddings` is `(3T, D)` = anchors, positives, negatives stacked,
            as produced by one forward pass over `torch.cat([a, p, n])`), or `all`, `hard`, `semi_hard`
            (mined from `embeddings (B, D)` with `labels (B,)`).

    `stats` holds `triplets` (number used) and `active_fraction` (share with a positive loss).
    """

    def __init__(self, margin: float = 0.4, distance: str | Distance = "cosine", mining: str = "none") -> None:
        super().__init__()
        if mining not in MININGS:
            raise ConfigError(f"mining: unknown value {mining!r}; use one of {', '.join(MININGS)}")
        if margin < 0:
            raise ConfigError(f"margin: must be >= 0, got {margin}; use a non-negative margin such as 0.4")
        self.margin = float(margin)
        self.distance = get_distance(distance)
        self.mining = mining

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, dict]:
        if embeddings.ndim != 2:
            raise DataError(f"embeddings: expected (N, D), got shape {tuple(embeddings.shape)}; flatten them")
        if self.mining == "none":
            if len(embeddings) % 3:
                raise DataError(f"embeddings: {len(embeddings)} rows is not 3T; stack anchors, positives, negatives")
            a, p, n = embeddings.chunk(3)
            losses = F.relu(self.distance.paired(a, p) - self.distance.paired(a, n) + self.margin)
            return losses.mean(), {"triplets": len(a), "active_fraction": float((losses > 0).float().mean())}
        if labels is None or labels.shape != (len(embeddings),):
            got = None if labels is None else tuple(labels.shape)
            raise DataError(f"labels: expected shape ({len(embeddings)},), got {got}; pass one label per row")
        dist = self.distance.pairwise(embeddings, embeddings)
        return _MINERS[self.mining](dist, labels, self.margin)
