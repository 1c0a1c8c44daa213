"""The base of the embedders: features -> global average pool -> Linear -> L2 normalization."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["PooledEmbedder"]


class PooledEmbedder(nn.Module):
    """Base of the embedders: `features` -> global average pool -> Linear -> L2 normalization.

    Subclasses build `self.features` and call `attach_head(width, embedding_dim, channels_last, flip_average)`.
    Shapes: `forward(x: (B, 3, H, W) float32) -> (B, D) float32` with unit-norm rows.

    With `flip_average`, eval mode (`model.eval()`) embeds each image and its horizontal mirror and returns their
    normalized mean: the flip test-time augmentation of the fast CIFAR-10 trainers, for every inference path.
    """

    features: nn.Module
    flip_average: bool = False
    normalize: bool = True  # False: the raw head output (a plain classifier's penultimate features)

    def attach_head(self, width: int, embedding_dim: int, channels_last: bool, flip_average: bool = False) -> None:
        self.head = nn.Linear(width, embedding_dim)
        self.embedding_dim = embedding_dim
        self.channels_last = channels_last
        self.flip_average = flip_average
        if channels_last:
            self.to(memory_format=torch.channels_last)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Un-normalized head output of `x` (B, 3, H, W) -> (B, D)."""
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.head(self.features(x).mean(dim=(2, 3)))  # global average pool, then linear

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.embed(x)
        if self.flip_average and not self.training:
            mirror = self.embed(x.flip(-1))
            out = F.normalize(out, dim=1) + F.normalize(mirror, dim=1) if self.normalize else (out + mirror) / 2
        return F.normalize(out, dim=1) if self.normalize else out
