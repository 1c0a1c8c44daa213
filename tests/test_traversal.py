"""Latent traversals: the swept latents, the oracle's verdict per frame, factor labels from MIG, and the figure.

The model decodes a true cylinder whose height follows z1 and radius z2 (so every frame is a valid figure)
and ignores z3, a collapsed dim whose traversal must not change the picture.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from latentatlas.data.oracle import ValidityOracle
from latentatlas.data.shapes import ShapesConfig, generate, render
from latentatlas.errors import ConfigError, DataError
from latentatlas.latentmaps.disentanglement import latent_traversals, mig
from latentatlas.report.traversal_figure import plot_traversals, row_label

CFG = ShapesConfig(p_lying=0.0)


class RenderModel(torch.nn.Module):
    """height = clamp(22 + 5 z1), radius = clamp(10 + 2 z2); z3 unused. encode inverts it via the oracle."""

    latent_dim = 3

    def __init__(self, variational: bool, oracle: ValidityOracle | None = None):
        super().__init__()
        self.variational, self.oracle = variational, oracle

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        z = z.double().numpy()
        factors = {
            "family": np.zeros(len(z), np.int64),
            "orientation": np.zeros(len(z), np.int64),
            "height": np.clip(22 + 5 * z[:, 0], *CFG.height),
            "radius": np.clip(10 + 2 * z[:, 1], *CFG.radius),
        }
        return torch.where(torch.from_numpy(render(factors)), 12.0, -12.0)[:, None].float()  # fmt: skip

    def encode(self, x: torch.Tensor):
        f = self.oracle.score(x[:, 0].numpy()).factors
        mu = np.stack([(f["height"] - 22) / 5, (f["radius"] - 10) / 2, np.zeros(len(x))], 1)
        return torch.from_numpy(mu).float(), None


class NoiseModel(RenderModel):
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.randn(len(z), 1, 64, 64, generator=torch.Generator().manual_seed(0)) * 3


@pytest.fixture(scope="module")
def oracle() -> ValidityOracle:
    return ValidityOracle(shapes_cfg=CFG, bank_steps=(21, 9)).fit()


def test_vae_traversal_sweeps_the_prior_from_the_mean_code(oracle, rng):
    codes = rng.normal(size=(200, 3)) * [1.0, 0.5, 0.01] + [0.2, -0.1, 0.0]
    t = latent_traversals(RenderModel(True), oracle, codes, steps=5)
    assert t.kind == "prior"
    np.testing.assert_allclose(t.values, np.tile(np.linspace(-2, 2, 5), (3, 1)))
    np.testing.assert_allclose(t.center, codes.mean(0))
    for d in range(3):
        expected = np.tile(codes.mean(0), (5, 1))
        expected[:, d] = t.values[d]
        np.testing.assert_allclose(t.z[d], expected)
    assert t.probs.shape == (3, 5, 64, 64) and t.valid.shape == (3, 5)
    assert t.valid.all() and np.all(t.validity == 1.0)  # the renderer draws true cylinders everywhere
    np.testing.assert_array_equal(t.probs[2], np.broadcast_to(t.probs[2, 0], t.probs[2].shape))  # z3 is ignored
    assert np.abs(t.probs[0, 0] - t.probs[0, -1]).sum() > 0  # z1 changes the figure


def test_ae_traversal_spans_two_standard_deviations_of_the_codes(oracle, rng):
    codes = rng.normal(size=(100, 3)) * [0.3, 2.0, 1.0] + 5
    t = latent_traversals(RenderModel(False), oracle, codes, steps=3, span=1.5)
    assert t.kind == "data"
    mean, std = codes.mean(0), codes.std(0)
    np.testing.assert_allclose(t.values, np.stack([mean - 1.5 * std, mean, mean + 1.5 * std], 1))


def test_noise_decodes_are_invalid(oracle, rng):
    t = latent_traversals(NoiseModel(True), oracle, rng.normal(size=(50, 3)), steps=4)
    assert not t.valid.any()


def test_each_dim_is_labelled_with_the_factor_mig_finds_in_it(oracle):
    # 3,000 figures: the plug-in MI of an independent 20-bin pair is biased up by ~(20-1)^2 / (2 N) nats
    images, factors = generate(CFG, 3000, seed=3)
    model = RenderModel(True, oracle)
    mu, _ = model.encode(torch.from_numpy(images[:, None].astype(np.float32)))
    codes = mu.numpy().astype(np.float64)
    codes[:, 2] = np.random.default_rng(0).normal(size=3000) * 0.01  # an unused dim: noise
    result = mig(codes, {"height": factors["height"], "radius": factors["radius"]})
    t = latent_traversals(model, oracle, codes, info=result.normalized, factor_names=result.factor_names, steps=4)
    assert t.factors == ("height", "radius", None)
    assert t.info[0] > 0.5 and t.info[1] > 0.5 and t.info[2] < 0.05
    assert row_label(t, 0).startswith("z1: height (") and row_label(t, 2).startswith("z3: no factor")


def test_traversal_figure_is_written(oracle, rng, tmp_path):
    t = latent_traversals(RenderModel(True), oracle, rng.normal(size=(50, 3)), info=np.eye(3)[:, :2],
                          factor_names=["height", "radius"], steps=6)  # fmt: skip
    path = plot_traversals(t, tmp_path / "traversals.png")
    with Image.open(path) as image:
        width, height = image.size
    assert width > height > 100  # 6 frames wide, 3 rows high
    assert row_label(t, 1) == "z2: radius (1.00)\n100% valid"


def test_bad_traversal_inputs(oracle, rng):
    model = RenderModel(True)
    with pytest.raises(DataError, match=r"need \(N >= 2, 3\) latent codes"):
        latent_traversals(model, oracle, rng.normal(size=(10, 2)))
    with pytest.raises(DataError, match="NaN/inf"):
        latent_traversals(model, oracle, np.full((10, 3), np.nan))
    with pytest.raises(ConfigError, match="steps=1"):
        latent_traversals(model, oracle, rng.normal(size=(10, 3)), steps=1)
    with pytest.raises(ConfigError, match="without factor_names"):
        latent_traversals(model, oracle, rng.normal(size=(10, 3)), info=np.eye(3))
    with pytest.raises(DataError, match="2 rows for 3 latent dims"):
        latent_traversals(model, oracle, rng.normal(size=(10, 3)), info=np.eye(2), factor_names=["a", "b"])
