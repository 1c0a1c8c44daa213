"""A CIFAR-sized embedder with a patch-whitened first layer, in the spirit of the fastest CIFAR-10 trainers.

Keller Jordan's airbench (2024) and hlb-CIFAR10 reach 94% CIFAR-10 accuracy in a few GPU-seconds with three ideas
that also pay on a CPU: a first convolution whose weights are fixed to whiten small patches (computed from the
training images' patch covariance, so the network starts from decorrelated inputs), few wide stages of
`conv -> max-pool -> BatchNorm -> GELU -> conv -> BatchNorm -> GELU`, and little else. This is our own
implementation of that published design (not their code), with latentatlas' pooled, L2-normalized head.

Shapes: `forward(x: (B, 3, H, W) float32) -> (B, D)` unit-norm rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from latentatlas.errors import ConfigError, DataError
from latentatlas.models.pooled import PooledEmbedder

__all__ = ["WhitenedConvNet", "patch_whitening"]


def patch_whitening(images: torch.Tensor, patch: int = 2, eps: float = 5e-4) -> torch.Tensor:
    """Convolution weights that whiten `patch` x `patch` patches: (2 * 3 p^2, 3, p, p).

    Each eigenvector v of the patch covariance gives the filters `v / sqrt(lambda + eps)` and its negative, so that
    a following nonlinearity sees both signs of every whitened component.

    Args:
        images: (N, 3, H, W) float, normalized as the network will see them.
    """
    if images.ndim != 4 or len(images) < 2:
        raise DataError(f"patch whitening: need (N >= 2, C, H, W) images, got shape {tuple(images.shape)}")
    c = images.shape[1]
    patches = F.unfold(images.double(), patch).transpose(1, 2).reshape(-1, c * patch * patch)  # (N P, C p^2)
    patches = patches - patches.mean(dim=0)
    cov = patches.T @ patches / (len(patches) - 1)
    eigval, eigvec = torch.linalg.eigh(cov)  # ascending
    filters = (eigvec / torch.sqrt(eigval.clamp_min(0) + eps)).T.flip(0)  # (C p^2, C p^2), largest first
    filters = filters.reshape(-1, c, patch, patch)
    return torch.cat([filters, -filters]).float()


def conv_group(c_in: int, c_out: int) -> nn.Sequential:
    """`conv3x3 -> max-pool 2 -> BatchNorm -> GELU -> conv3x3 -> BatchNorm -> GELU` (halves the resolution)."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.MaxPool2d(2),
        nn.BatchNorm2d(c_out),
        nn.GELU(),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.GELU(),
    )


class WhitenedConvNet(PooledEmbedder):
    """Patch-whitened first layer, then one `conv_group` per width, global pool, linear head, L2 norm.

    Args:
        embedding_dim: output size D.
        widths: channels of each group (each halves the resolution).
        patch: side of the whitened patches (the first layer has 2 * 3 * patch^2 fixed filters, no padding).
        channels_last: channels-last weights and inputs (faster on CPU).
        flip_average: in eval mode, embed `x` and its horizontal mirror and average (flip test-time augmentation).

    Call `fit_whitening(images)` once on (normalized) training images before training; until then the first layer
    holds random filters. Its weights are a buffer-like frozen parameter: saved in checkpoints, never trained.
    """

    def __init__(
        self,
        embedding_dim: int = 128,
        widths: Sequence[int] = (64, 256, 256),
        patch: int = 2,
        channels_last: bool = True,
        flip_average: bool = False,
    ) -> None:
        super().__init__()
        if embedding_dim < 1 or not widths or min(widths) < 1 or patch < 1:
            raise ConfigError(f"whitened_cnn: embedding_dim {embedding_dim}, widths {tuple(widths)}, patch {patch}; "
                              "use positive sizes")  # fmt: skip
        whiten = nn.Conv2d(3, 2 * 3 * patch * patch, patch, bias=False)
        whiten.weight.requires_grad_(False)
        layers: list[nn.Module] = [whiten, nn.GELU()]
        c_in = whiten.out_channels
        for width in widths:
            layers.append(conv_group(c_in, width))
            c_in = width
        self.features = nn.Sequential(*layers)
        self.patch = patch
        self.attach_head(c_in, embedding_dim, channels_last, flip_average)

    def fit_whitening(self, images: torch.Tensor) -> None:
        """Set the first layer to whiten this model's patches of `images` (N, 3, H, W), as the network sees them."""
        weight = self.features[0].weight
        with torch.no_grad():
            weight.copy_(patch_whitening(images.to(weight.device), self.patch))
