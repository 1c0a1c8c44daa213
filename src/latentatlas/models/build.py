"""The one model factory: the network a run's `model` config describes, for training and for loading runs."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from latentatlas.errors import ConfigError
from latentatlas.models.autoencoder import build_autoencoder
from latentatlas.models.cnn import ConvEmbedder
from latentatlas.models.config import AUTOENCODERS, ModelConfig
from latentatlas.models.vgg import VGG11Embedder, load_vgg11_imagenet
from latentatlas.models.whitened import WhitenedConvNet

__all__ = ["build_embedder", "build_model", "embedder_from_config"]


def build_embedder(
    kind: str,
    embedding_dim: int = 128,
    pretrained: str | None = None,
    norm: str = "batch",
    widths: Sequence[int] = (64, 128, 256),
    stem_width: int = 32,
    blocks: int = 1,
    channels_last: bool = True,
) -> nn.Module:
    """Build an embedder by name.

    Args:
        kind: `cnn` (`ConvEmbedder`) or `vgg11` (`latentatlas.models.vgg.VGG11Embedder`).
        embedding_dim: output size D (>= 1).
        pretrained: for `vgg11` only, a local `.pth`/`.safetensors` file or URL of ImageNet VGG11 weights.
        norm: `batch`, `group` or `none` for `cnn`; `vgg11` has no normalization layers and requires `batch`
            (the default, meaning "as published") or `none`.
        widths, stem_width, blocks: the `cnn`'s stages (see `ConvEmbedder`).
        channels_last: channels-last weights and inputs (faster convolutions on CPU).
    """
    if embedding_dim < 1:
        raise ConfigError(f"embedding_dim: must be >= 1, got {embedding_dim}; pass a positive size")
    if kind == "cnn":
        if pretrained is not None:
            raise ConfigError("pretrained: the cnn embedder has no pretrained weights; use kind='vgg11' or drop it")
        return ConvEmbedder(
            embedding_dim, widths=widths, blocks=blocks, stem_width=stem_width, norm=norm, channels_last=channels_last
        )
    if kind == "vgg11":
        if norm == "group":
            raise ConfigError("norm: vgg11 has no normalization layers; use norm='batch' (default) or 'none'")
        model = VGG11Embedder(embedding_dim, channels_last=channels_last)
        if pretrained is not None:
            load_vgg11_imagenet(model, pretrained)
        return model
    raise ConfigError(f"model.kind: unknown embedder {kind!r}; use 'cnn' or 'vgg11'")


def embedder_from_config(model_cfg: ModelConfig, pretrained: str | None = None) -> nn.Module:
    """The embedder a run's `model` config describes (every field), with `pretrained` weights if given."""
    m = model_cfg
    if m.kind == "whitened_cnn":
        if pretrained is not None:
            raise ConfigError("pretrained: whitened_cnn has no pretrained weights; use kind='vgg11' or drop it")
        model = WhitenedConvNet(m.embedding_dim, m.cnn_widths, m.whiten_patch, m.channels_last, m.flip_average)
        model.normalize = m.normalize
        return model
    model = build_embedder(
        m.kind, m.embedding_dim, pretrained, m.norm, m.cnn_widths, m.cnn_stem, m.cnn_blocks, m.channels_last
    )
    model.flip_average, model.normalize = m.flip_average, m.normalize
    return model


def build_model(model_cfg: ModelConfig, image_size: int = 64, pretrained: str | None = None) -> nn.Module:
    """The network of `model_cfg`: an AE/VAE for `image_size`-pixel figures, or an embedder.

    Training passes `model_cfg.pretrained`; loading a trained run passes None: its checkpoint holds every weight
    (and re-reading ImageNet weights could download). With `channels_last` the weights are stored channels-last.
    """
    if model_cfg.kind in AUTOENCODERS:
        model = build_autoencoder(model_cfg.kind, model_cfg.latent_dim, model_cfg.widths, image_size)
        if model_cfg.channels_last:
            model = model.to(memory_format=torch.channels_last)
        return model
    return embedder_from_config(model_cfg, pretrained)
