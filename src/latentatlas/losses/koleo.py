"""KoLeo regularizer: spread embeddings by pushing each point away from its nearest neighbour.

Kozachenko-Leonenko differential-entropy estimator as a loss (Sablayrolles et al., "Spreading vectors for
similarity search", ICLR 2019), in DINOv2's form (Oquab et al., 2023, `dinov2/loss/koleo_loss.py`):

    L = -(1/n) sum_i log(min_{j != i} ||x_i - x_j|| + eps),   x L2-normalized.

Finite gradients with duplicates: the derivative of sqrt at 0 is infinite, so a naive `cdist(x, x).min()`
gives NaN gradients when two embeddings coincide. As in DINOv2, the nearest neighbour's index is found on
detached dot products (no gradient through the argmin), and the distance is recomputed with
`F.pairwise_distance(x, x[nn], eps=eps)` = `||x - x[nn] + eps||`, which is never exactly 0.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from latentatlas.errors import ConfigError, DataError


def nearest_neighbours(x: torch.Tensor) -> torch.Tensor:
    """Index of each row's nearest other row, x: (n, D) unit rows -> (n,) int64 (argmax of dot product)."""
    with torch.no_grad():
        dots = x @ x.T  # (n, n); for unit vectors, max dot product = min euclidean distance
        dots.fill_diagonal_(-float("inf"))
        return dots.argmax(dim=1)


def koleo_loss(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """KoLeo loss of a batch of embeddings.

    Args:
        x: (n, D) embeddings, n >= 2; normalized here (with `eps`) so any scale is accepted.
        eps: added inside the distance and the log; keeps loss and gradients finite for duplicates.

    Returns:
        Scalar tensor; lower means more spread out.
    """
    if x.ndim != 2 or len(x) < 2:
        raise DataError(f"koleo: expected (n >= 2, D) embeddings, got shape {tuple(x.shape)}; use a larger batch")
    x = F.normalize(x, p=2, dim=1, eps=eps)
    nn_index = nearest_neighbours(x)
    distances = F.pairwise_distance(x, x[nn_index], p=2, eps=eps)  # (n,)
    return -torch.log(distances + eps).mean()


class KoLeoLoss(nn.Module):
    """`weight * koleo_loss(x)` as a module. Args: weight (lambda, >= 0), eps."""

    def __init__(self, weight: float = 1.0, eps: float = 1e-8) -> None:
        super().__init__()
        if weight < 0:
            raise ConfigError(f"koleo weight: must be >= 0, got {weight}; use e.g. 0.1 as in the seed")
        self.weight = float(weight)
        self.eps = float(eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.weight * koleo_loss(x, self.eps)
