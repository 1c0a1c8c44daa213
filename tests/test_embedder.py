"""CNN embedder: shapes, unit norm, memory formats, norms and configuration errors."""

import pytest
import torch

from latentatlas.errors import ConfigError
from latentatlas.models.build import build_embedder
from latentatlas.models.cnn import ConvEmbedder

TINY = dict(widths=(8, 16), stem_width=8)


@pytest.mark.parametrize("norm", ["batch", "group", "none"])
def test_output_shape_and_unit_norm(norm):
    torch.manual_seed(0)
    model = ConvEmbedder(24, norm=norm, **TINY)
    out = model(torch.randn(5, 3, 32, 32))
    assert out.shape == (5, 24)
    torch.testing.assert_close(out.norm(dim=1), torch.ones(5))


def test_channels_last_gives_same_function():
    torch.manual_seed(0)
    fast = ConvEmbedder(16, norm="group", channels_last=True, **TINY)
    plain = ConvEmbedder(16, norm="group", channels_last=False, **TINY)
    plain.load_state_dict(fast.state_dict())
    assert fast.features[0][0].weight.is_contiguous(memory_format=torch.channels_last)
    x = torch.randn(3, 3, 32, 32)
    torch.testing.assert_close(fast(x), plain(x), atol=1e-5, rtol=1e-4)


def test_group_norm_treats_images_independently():
    # Needed by exact GradCache: an image's embedding must not depend on the rest of the batch.
    torch.manual_seed(0)
    model = ConvEmbedder(16, norm="group", **TINY)
    x = torch.randn(6, 3, 32, 32)
    torch.testing.assert_close(model(x)[:2], model(x[:2]), atol=1e-5, rtol=1e-4)


def test_default_size_and_residual_identity_init():
    model = ConvEmbedder()
    n_params = sum(p.numel() for p in model.parameters())
    assert 0.5e6 <= n_params <= 2.0e6
    block = model.features[2]  # first residual block: zero-initialized last scale -> starts as identity
    x = torch.randn(2, 64, 16, 16).relu()
    torch.testing.assert_close(block.eval()(x), x)


def test_build_embedder_kinds_and_errors():
    assert isinstance(build_embedder("cnn", 32, norm="group"), ConvEmbedder)
    with pytest.raises(ConfigError, match="embedding_dim: must be >= 1, got 0"):
        build_embedder("cnn", 0)
    with pytest.raises(ConfigError, match="embedding_dim: must be >= 1, got -3"):
        ConvEmbedder(-3)
    with pytest.raises(ConfigError, match="model.kind: unknown embedder 'resnet'"):
        build_embedder("resnet", 8)
    with pytest.raises(ConfigError, match="norm: unknown value 'layer'"):
        build_embedder("cnn", 8, norm="layer")
    with pytest.raises(ConfigError, match="pretrained: the cnn embedder has no pretrained weights"):
        build_embedder("cnn", 8, pretrained="x.pth")
    with pytest.raises(ConfigError, match="norm: vgg11 has no normalization layers"):
        build_embedder("vgg11", 8, norm="group")


@pytest.mark.parametrize("channels_last", [True, False])
def test_embedder_from_config_follows_every_model_field(channels_last):
    from latentatlas.config import load_config
    from latentatlas.models.build import embedder_from_config

    overrides = ["data.kind=images", "model.kind=cnn", "model.cnn_widths=[8,16]", "model.cnn_stem=4",
                 "model.cnn_blocks=2", "model.norm=group", "model.embedding_dim=12",
                 f"model.channels_last={channels_last}"]  # fmt: skip
    model = embedder_from_config(load_config(None, overrides).model)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs][:1] == [4] and convs[-1].out_channels == 16
    assert sum(isinstance(m, torch.nn.GroupNorm) for m in model.modules()) > 0 and model.head.out_features == 12
    assert model.channels_last is channels_last
    w = convs[1].weight
    assert w.shape[1:] == (4, 3, 3) and w.is_contiguous(memory_format=torch.channels_last) is channels_last
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 12)
