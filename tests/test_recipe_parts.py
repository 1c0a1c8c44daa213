"""The pieces of the CIFAR-10 recipe: patch whitening, flip-averaged embeddings, the learning-rate schedules, and
a whitened CNN trained through the metric task (its first layer fitted from the data, saved and reloaded)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from latentatlas.config import config_from_dict
from latentatlas.errors import ConfigError
from latentatlas.models.build import build_model
from latentatlas.models.cnn import ConvEmbedder
from latentatlas.models.whitened import WhitenedConvNet, patch_whitening
from latentatlas.train.optim import lr_at


def correlated_images(rng, n=300):
    x = torch.tensor(rng.normal(size=(n, 3, 12, 12)), dtype=torch.float32)
    x[:, 1] += 0.9 * x[:, 0]  # correlated channels
    x[:, :, :, 1:] += 0.7 * x[:, :, :, :-1].clone()  # and neighbouring pixels
    return x * torch.tensor([1.0, 3.0, 0.2]).view(1, 3, 1, 1)


@pytest.mark.parametrize("patch", [1, 2, 3])
def test_patch_whitening_makes_the_patch_covariance_the_identity(rng, patch):
    x = correlated_images(rng)
    w = patch_whitening(x, patch, eps=1e-9)
    k = 3 * patch * patch
    assert w.shape == (2 * k, 3, patch, patch)
    torch.testing.assert_close(w[k:], -w[:k])  # each filter and its negative
    z = F.conv2d(x.double(), w[:k].double()).permute(0, 2, 3, 1).reshape(-1, k)
    torch.testing.assert_close(torch.cov(z.T), torch.eye(k, dtype=torch.float64), atol=1e-4, rtol=0)


def test_flip_average_embeds_an_image_and_its_mirror_alike_in_eval_mode_only(rng):
    x = correlated_images(rng, 6)
    for model in (WhitenedConvNet(8, (4, 8), flip_average=True), ConvEmbedder(8, (4, 8), stem_width=4)):
        model.flip_average = True
        model.eval()
        a, b = model(x), model(x.flip(-1))
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0)
        torch.testing.assert_close(a.norm(dim=1), torch.ones(6))
        plain = F.normalize(model.embed(x), dim=1) + F.normalize(model.embed(x.flip(-1)), dim=1)
        torch.testing.assert_close(a, F.normalize(plain, dim=1))
        model.train()
        assert not torch.allclose(model(x), model(x.flip(-1)), atol=1e-4)  # training sees each view alone


def test_the_factory_builds_the_whitened_cnn_from_the_config():
    overrides = ["data.kind=images", "model.kind=whitened_cnn", "model.cnn_widths=[8, 16]", "model.whiten_patch=3",
                 "model.flip_average=true", "model.embedding_dim=5"]  # fmt: skip
    cfg = config_from_dict({}, overrides)
    model = build_model(cfg.model)
    assert isinstance(model, WhitenedConvNet) and model.flip_average and model.features[0].kernel_size == (3, 3)
    assert not model.features[0].weight.requires_grad
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 5)


@pytest.mark.parametrize("schedule", ["constant", "cosine", "linear"])
@pytest.mark.parametrize("warmup", [0.0, 0.2])
def test_learning_rate_schedules(schedule, warmup):
    cfg = config_from_dict({}, [f"train.schedule={schedule}", f"train.warmup={warmup}", "train.lr=0.5"])
    grid = np.linspace(0, 1, 101)
    lrs = np.array([lr_at(cfg, p) for p in grid])
    if warmup:
        np.testing.assert_allclose(lrs[grid < warmup], 0.5 * grid[grid < warmup] / warmup)
    after = grid >= warmup
    rest = (grid[after] - warmup) / (1 - warmup)
    want = {"constant": 0.5 + 0 * rest, "cosine": 0.25 * (1 + np.cos(math.pi * rest)), "linear": 0.5 * (1 - rest)}
    np.testing.assert_allclose(lrs[after], want[schedule], atol=1e-12)
    assert lr_at(cfg, 2.0) == lr_at(cfg, 1.0) and lr_at(cfg, -1.0) == lr_at(cfg, 0.0)  # clipped to the run


def test_bad_recipe_settings_are_refused():
    with pytest.raises(ConfigError, match="train.warmup: 1.0 is not a share"):
        config_from_dict({}, ["train.warmup=1.0"])
    with pytest.raises(ConfigError, match="model.whiten_patch: must be >= 1"):
        config_from_dict({}, ["model.whiten_patch=0"])
