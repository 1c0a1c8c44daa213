"""The base of the embedders: features -> global average pool -> Linear -> L2 normalization."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["PooledEmbedder"]


class PooledEmbedder(nn.Module):
    """Base of the embedders: `features` -> global average pool -> Linear -> L2 normalization.

    Subclasses build `self.features` and call `attach_head(width, embedding_dim, channels_last)`.
    Shapes: `forward(x: (B, 3, H, W) float32) -> (B, D) float32` with unit-norm rows.
    """

    features: nn.Module

    def attach_head(self, width: int, embedding_dim: int, channels_last: bool) -> None:
        self.head = nn.Linear(width, embedding_dim)
        self.embedding_dim = embedding_dim
        self.channels_last = channels_last
        if channels_last:
            self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        h = self.features(x).mean(dim=(2, 3))  # (B, C) global average pool
        return F.normalize(self.head(h), dim=1)
