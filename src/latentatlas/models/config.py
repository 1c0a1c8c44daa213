"""The `model` section of a run's config: which network, and its sizes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from latentatlas.errors import ConfigError

__all__ = ["AUTOENCODERS", "EMBEDDERS", "ModelConfig"]

AUTOENCODERS = ("ae", "vae")
EMBEDDERS = ("cnn", "whitened_cnn", "vgg11")


@dataclass
class ModelConfig:
    """Model architecture.

    Autoencoders (`ae`, `vae`, for shapes): `latent_dim`, and `widths` = channels of the stride-2 stages (chosen by
    measurement on CPU). Embedders (`cnn`, `vgg11`, for images): `embedding_dim`, `norm` (`group` makes
    gradient accumulation exact), `pretrained` (a local file or URL of ImageNet VGG11 weights); the `cnn`'s
    stages: `cnn_widths` (one strided stage each), `cnn_stem` (full-resolution stem), `cnn_blocks` (residual blocks
    per stage). `whitened_cnn` (`latentatlas.models.whitened`): a fixed patch-whitening first layer over
    `whiten_patch` x `whiten_patch` patches, then one conv group per `cnn_widths` entry. `flip_average`: embeddings
    at evaluation average each image with its mirror. `normalize=false` keeps the embedders' raw head output
    (unit-norm rows otherwise), as a plain softmax classifier's penultimate features.
    """

    kind: Literal["ae", "vae", "cnn", "whitened_cnn", "vgg11"] = "vae"
    latent_dim: int = 2
    widths: list[int] = field(default_factory=lambda: [16, 32, 64, 128])
    channels_last: bool = True
    embedding_dim: int = 128
    norm: Literal["batch", "group", "none"] = "batch"
    pretrained: str | None = None
    cnn_widths: list[int] = field(default_factory=lambda: [64, 128, 256])
    cnn_stem: int = 32
    cnn_blocks: int = 1
    whiten_patch: int = 2
    flip_average: bool = False
    normalize: bool = True

    def validate(self, prefix: str) -> None:
        if self.latent_dim < 1:
            raise ConfigError(f"{prefix}.latent_dim: must be >= 1, got {self.latent_dim}")
        if self.embedding_dim < 1:
            raise ConfigError(f"{prefix}.embedding_dim: must be >= 1, got {self.embedding_dim}")
        if self.whiten_patch < 1:
            raise ConfigError(f"{prefix}.whiten_patch: must be >= 1 pixel, got {self.whiten_patch}")
        if not self.widths or min(self.widths) < 1:
            raise ConfigError(f"{prefix}.widths: need positive channel counts, got {self.widths}")
