"""The shapes-lab adapter: which factors vary, draws as `generate` makes them, figures with one factor fixed,
and every score of a model end to end into JSON-safe summary numbers."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from latentatlas.data.oracle import ValidityOracle
from latentatlas.data.shapes import FAMILIES, ShapesConfig, draw_factors, generate
from latentatlas.errors import ConfigError
from latentatlas.latentmaps.disentanglement import (
    ShapesSampler,
    beta_vae_score,
    factor_vae_score,
    scores_summary,
    shapes_factor_names,
    shapes_factors,
    shapes_scores,
)
from latentatlas.models.autoencoder import ConvVAE

FIVE = ShapesConfig(family=list(FAMILIES), height=(14.0, 24.0), radius=(6.0, 10.0), shift=(-2.0, 2.0),
                    tilt=(0.2, 0.4))  # fmt: skip


def test_factor_names_follow_what_the_config_varies():
    assert shapes_factor_names(ShapesConfig()) == ("orientation", "height", "radius")
    assert shapes_factor_names(FIVE) == ("family", "orientation", "height", "radius", "cx", "cy", "tilt")
    fixed = ShapesConfig(p_lying=0.0, height=(20.0, 20.0), radius=(8.0, 8.0))
    assert shapes_factor_names(fixed) == ()
    with pytest.raises(ConfigError, match="no factor varies"):
        ShapesSampler(torch.nn.Identity(), fixed)
    with pytest.raises(ConfigError, match="no factor varies"):
        shapes_factors({}, fixed)


def test_draws_follow_generate_and_render_the_same_figures():
    for cfg in (ShapesConfig(), FIVE):
        images, factors = generate(cfg, 300, seed=7)
        drawn = draw_factors(cfg, 300, np.random.default_rng(7))
        not_sphere = factors["family"] != FAMILIES.index("sphere")
        for name, values in factors.items():
            keep = not_sphere if name == "height" else slice(None)  # generate records 2 r for a sphere
            np.testing.assert_array_equal(drawn[name][keep], values[keep])
        sampler = ShapesSampler(torch.nn.Identity(), cfg)
        rows = sampler.sample(300, np.random.default_rng(7))
        assert rows.shape == (300, len(sampler.factor_names))
        np.testing.assert_array_equal(sampler.render(rows), images)  # a sphere's drawing ignores its height


class OracleEncoder(torch.nn.Module):
    """A disentangled 'encoder' of cylinders: (height, radius, type) read off by the oracle, standardised.
    `mix=True` shows height and radius only through their sum, in two latents."""

    variational, latent_dim = False, 3

    def __init__(self, oracle: ValidityOracle, mix: bool = False):
        super().__init__()
        self.oracle, self.mix = oracle, mix

    def encode(self, x: torch.Tensor):
        f = self.oracle.score(x[:, 0].numpy()).factors
        h, r, o = (f["height"] - 22) / 5.8, (f["radius"] - 10) / 2.3, f["orientation"] * 2.0 - 1
        cols = [h + r, h + r, o] if self.mix else [h, r, o]
        return torch.from_numpy(np.stack(cols, 1)).float(), None


@pytest.fixture(scope="module")
def oracle() -> ValidityOracle:
    return ValidityOracle(bank_steps=(21, 9)).fit()  # a coarse bank: 1 px steps are enough to read factors


def test_fixed_factor_scores_of_a_disentangled_encoder_beat_an_entangled_one(oracle):
    kw = dict(batch_size=16, num_train=60, num_eval=60)
    perfect = ShapesSampler(OracleEncoder(oracle), ShapesConfig())
    mixed = ShapesSampler(OracleEncoder(oracle, mix=True), ShapesConfig())
    fv_perfect = factor_vae_score(perfect, num_variance_estimate=300, **kw)
    fv_mixed = factor_vae_score(mixed, num_variance_estimate=300, **kw)
    assert fv_perfect.eval_accuracy > 0.9 and fv_perfect.num_active == 3
    assert fv_mixed.eval_accuracy < fv_perfect.eval_accuracy - 0.15
    bv_perfect, bv_mixed = beta_vae_score(perfect, **kw), beta_vae_score(mixed, **kw)
    assert bv_perfect.eval_accuracy > 0.9
    assert bv_mixed.eval_accuracy < bv_perfect.eval_accuracy - 0.1


def test_scores_summary_is_json_safe_and_factor_by_latent(rng):
    n = 300
    factors = {"family": rng.integers(0, 3, n), "height": rng.uniform(12, 32, n)}
    codes = np.stack([factors["family"] + 0.1 * rng.normal(size=n), factors["height"], rng.normal(size=n)], 1)
    summary = scores_summary(codes, factors, num_bins=5, dci_max_train=100)
    json.dumps(summary, allow_nan=False)
    for key in ("mig", "dci_disentanglement", "dci_completeness", "dci_informativeness", "sap"):
        assert 0.0 <= summary[key] <= 1.0
    assert summary["factor_vae_score"] is None and summary["beta_vae_score"] is None  # no sampler
    assert summary["disentanglement_factors"] == ["family", "height"]
    mi = np.array(summary["factor_latent_mutual_information"])
    assert mi.shape == (2, 3) and mi[0].argmax() == 0 and mi[1].argmax() == 1
    assert np.array(summary["factor_latent_normalized_mi"]).max() <= 1.0 + 1e-9


def test_shapes_scores_of_a_model_end_to_end():
    torch.manual_seed(0)
    model = ConvVAE(latent_dim=3, widths=[4, 8], image_size=32)
    cfg = dataclasses.replace(ShapesConfig(), size=32, height=(8.0, 14.0), radius=(4.0, 7.0))
    small = dict(batch_size=8, num_train=20, num_eval=20)
    fv_kwargs = {**small, "num_variance_estimate": 100}
    scores = shapes_scores(
        model, cfg, n=200, num_bins=5, dci_max_train=100, factor_vae_kwargs=fv_kwargs, beta_vae_kwargs=small
    )
    summary = scores.summary()
    json.dumps(summary, allow_nan=False)
    assert scores.factor_names == ("orientation", "height", "radius")
    assert 0.0 <= summary["factor_vae_score"] <= 1.0 and 0.0 <= summary["beta_vae_score"] <= 1.0
    assert summary["disentanglement_settings"]["factor_vae"]["num_train"] == 20
    assert summary["disentanglement_settings"]["beta_vae"]["batch_size"] == 8
    assert np.array(summary["factor_latent_dci_importance"]).shape == (3, 3)
    with pytest.raises(ConfigError, match="n: 0"):
        shapes_scores(model, cfg, n=0)
