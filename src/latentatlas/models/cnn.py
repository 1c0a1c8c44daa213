"""A CPU-efficient residual CNN that maps 32x32 RGB images to L2-normalized embeddings.

The layout (stem, strided stages of basic residual blocks, global average pool, linear head) follows
ResNet (He et al., 2016) scaled down for CIFAR-10. Widths and strides were chosen by timing every
convolution shape forward+backward on a 2-core CPU (see `docs/losses.md`, "Choosing the CNN"):
3x3 convolutions with 64 to 256 channels at 16x16 to 4x4 run near the machine's matmul speed, whereas
narrow (32-channel) convolutions at full 32x32 resolution run at a third of it, so the network leaves
the 32x32 grid after a single stem convolution.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from latentatlas.errors import ConfigError
from latentatlas.models.pooled import PooledEmbedder

NORMS = ("batch", "group", "none")


def make_norm(kind: str, channels: int) -> nn.Module:
    """Normalization layer for `channels` feature maps.

    `group` uses up to 8 groups (Wu & He, 2018): unlike BatchNorm it is independent of the other images in
    the batch, which exact gradient caching needs (see `latentatlas.train.gradcache`).
    """
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "group":
        groups = next(g for g in (8, 4, 2, 1) if channels % g == 0)
        return nn.GroupNorm(groups, channels)
    if kind == "none":
        return nn.Identity()
    raise ConfigError(f"norm: unknown value {kind!r}; use one of {', '.join(NORMS)}")


def conv_norm_relu(c_in: int, c_out: int, stride: int, norm: str) -> nn.Sequential:
    """3x3 convolution (no bias when a norm follows) + norm + ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride, 1, bias=norm == "none"),
        make_norm(norm, c_out),
        nn.ReLU(inplace=True),
    )


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with an identity shortcut: `relu(x + norm(conv(relu(norm(conv(x))))))`."""

    def __init__(self, channels: int, norm: str) -> None:
        super().__init__()
        self.conv1 = conv_norm_relu(channels, channels, 1, norm)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=norm == "none")
        self.norm2 = make_norm(norm, channels)
        if isinstance(self.norm2, (nn.BatchNorm2d, nn.GroupNorm)):
            # Zero-init the last scale so each block starts as the identity (Goyal et al., 2017).
            nn.init.zeros_(self.norm2.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.norm2(self.conv2(self.conv1(x))))


class ConvEmbedder(PooledEmbedder):
    """Residual CNN embedder for 32x32 RGB images.

    Args:
        embedding_dim: size D of the output embedding.
        widths: channels of each stage; every stage halves the resolution with a strided 3x3 conv.
        blocks: residual blocks per stage.
        stem_width: channels of the single full-resolution stem convolution.
        norm: `batch`, `group` (batch-independent) or `none`.
        channels_last: convert the weights to channels-last memory format (faster on CPU) and feed the
            input in that format.

    Shapes: `forward(x: (B, 3, H, W) float32) -> (B, D) float32`, rows of unit L2 norm.
    """

    def __init__(
        self,
        embedding_dim: int = 128,
        widths: Sequence[int] = (64, 128, 256),
        blocks: int = 1,
        stem_width: int = 32,
        norm: str = "batch",
        channels_last: bool = True,
    ) -> None:
        super().__init__()
        if embedding_dim < 1:
            raise ConfigError(f"embedding_dim: must be >= 1, got {embedding_dim}; pass a positive size")
        if not widths or min(widths) < 1 or blocks < 0 or stem_width < 1:
            raise ConfigError(f"widths/blocks: got {tuple(widths)}/{blocks}; use positive widths and blocks >= 0")
        make_norm(norm, 8)  # validates the name before any layer is built
        layers: list[nn.Module] = [conv_norm_relu(3, stem_width, 1, norm)]
        c_in = stem_width
        for width in widths:
            layers.append(conv_norm_relu(c_in, width, 2, norm))
            layers.extend(BasicBlock(width, norm) for _ in range(blocks))
            c_in = width
        self.features = nn.Sequential(*layers)
        self.attach_head(c_in, embedding_dim, channels_last)
