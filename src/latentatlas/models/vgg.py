"""VGG11 convolutional features + Linear(512, D) + L2 normalization, the seed's Siamese embedder.

The feature extractor uses torchvision's VGG11 layout (configuration "A" of Simonyan & Zisserman, 2015),
so ImageNet checkpoints in the usual PyTorch key layout (`features.0.weight` ...) load directly. On a
32x32 input the five max-pools leave a 1x1x512 map, hence the Linear(512, D) head (about 9.29 M
parameters for D = 128).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from latentatlas.errors import ConfigError, DataError
from latentatlas.models.pooled import PooledEmbedder
from latentatlas.models.weights import VGG11_IMAGENET_URL, download_weights, is_url

# torchvision `cfgs["A"]`: an int is a 3x3 conv + ReLU with that many channels, "M" a 2x2 max-pool.
VGG11_CFG: tuple[int | str, ...] = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")


def make_vgg_features(cfg: tuple[int | str, ...] = VGG11_CFG) -> nn.Sequential:
    """torchvision-compatible `features` block: indices match `features.N.weight` of the checkpoints."""
    layers: list[nn.Module] = []
    c_in = 3
    for item in cfg:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c_in, int(item), 3, padding=1), nn.ReLU(inplace=True)]
            c_in = int(item)
    return nn.Sequential(*layers)


class VGG11Embedder(PooledEmbedder):
    """VGG11 features -> global average pool -> Linear(512, D) -> L2 normalization.

    Args:
        embedding_dim: output size D.
        channels_last: use channels-last memory format (faster convolutions on CPU).

    Shapes: `forward(x: (B, 3, H, W) float32) -> (B, D) float32` with unit-norm rows. At 32x32 the
    pooled map is 1x1, so the average pool is the seed's flatten.
    """

    def __init__(self, embedding_dim: int = 128, channels_last: bool = True) -> None:
        super().__init__()
        if embedding_dim < 1:
            raise ConfigError(f"embedding_dim: must be >= 1, got {embedding_dim}; pass a positive size")
        self.features = make_vgg_features()
        self.attach_head(512, embedding_dim, channels_last)


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors of a `.safetensors` file or a `.pth` state dict (loaded with `weights_only=True`)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"weights file {path} not found; give an existing .pth/.safetensors file or a URL")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling / header errors come in many types
        raise DataError(f"cannot read weights {path}: {exc}; give a PyTorch state dict or safetensors file") from exc
    if not isinstance(state, dict):
        raise DataError(f"weights {path} hold a {type(state).__name__}, not a state dict; save model.state_dict()")
    return state


def load_vgg11_imagenet(
    model: VGG11Embedder, source: str | Path = VGG11_IMAGENET_URL, cache_dir: str | Path | None = None
) -> VGG11Embedder:
    """Load ImageNet VGG11 convolution weights into `model.features` (classifier keys are ignored).

    Args:
        model: the embedder to fill; its head keeps its random initialization.
        source: local `.pth`/`.safetensors` file, or a URL (downloaded once, SHA-256 checked, see
            `latentatlas.models.weights.download_weights`). Default: torchvision's official file.
        cache_dir: download cache for URLs.

    Raises:
        DataError: unreadable file, failed checksum, or a missing key / shape mismatch (named).
    """
    path = download_weights(str(source), cache_dir) if is_url(str(source)) else Path(source)
    state = read_state_dict(path)
    wanted = model.features.state_dict()
    for key, param in wanted.items():
        full = f"features.{key}"
        if full not in state:
            raise DataError(f"weights {path.name}: missing key {full!r}; use a torchvision VGG11 state dict")
        if tuple(state[full].shape) != tuple(param.shape):
            raise DataError(
                f"weights {path.name}: {full!r} has shape {tuple(state[full].shape)}, expected "
                f"{tuple(param.shape)}; use VGG11 (not VGG11-BN or another depth)"
            )
    with torch.no_grad():
        for key, param in wanted.items():
            param.copy_(state[f"features.{key}"])  # copy_ keeps the channels-last layout of `param`
    return model
