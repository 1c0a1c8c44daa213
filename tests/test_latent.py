"""Latent maps: grids, samples, KL, active units, type separation and the end-to-end summary.

The reference model is a "perfect" autoencoder: its decoder renders a true cylinder whose height and radius are a
clamped affine function of z (so every decode is a valid figure) and its encoder inverts that map from the
oracle's reading of the image. A "noise" decoder must give validity 0.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from sklearn.metrics import silhouette_score

from latentatlas.data.oracle import ValidityOracle
from latentatlas.data.shapes import ShapesConfig, generate, render
from latentatlas.errors import ConfigError, DataError
from latentatlas.latentmaps import (
    active_units,
    decode_latents,
    empty_cell_fraction,
    encode_dataset,
    kl_per_dimension,
    latent_grid,
    latent_summary,
    prior_quantiles,
    prior_samples,
    reconstructions,
    silhouette,
    unit_activity,
)

CFG = ShapesConfig()


@pytest.fixture(scope="module")
def oracle() -> ValidityOracle:
    return ValidityOracle().fit()


class PerfectModel(torch.nn.Module):
    """height = clamp(22 + 5 z1), radius = clamp(10 + 2 z2) in the generator's ranges; z3 > 0 = lying (encoded +-3)."""

    def __init__(self, oracle: ValidityOracle, variational: bool, latent_dim: int = 3):
        super().__init__()
        self.oracle, self.variational, self.latent_dim = oracle, variational, latent_dim

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        z = z.double().numpy()
        factors = {
            "family": np.zeros(len(z), np.int64),
            "height": np.clip(22 + 5 * z[:, 0], *CFG.height),
            "radius": np.clip(10 + 2 * z[:, 1], *CFG.radius),
            "orientation": (z[:, 2] > 0).astype(np.int64) if self.latent_dim > 2 else np.zeros(len(z), np.int64),
        }
        images = render(factors, size=CFG.size, stroke=CFG.stroke)
        return torch.where(torch.from_numpy(images), 12.0, -12.0)[:, None].float()

    def encode(self, x: torch.Tensor):
        f = self.oracle.score(x[:, 0].numpy()).factors
        cols = [(f["height"] - 22) / 5, (f["radius"] - 10) / 2, 6.0 * f["orientation"] - 3][: self.latent_dim]
        mu = torch.from_numpy(np.stack(cols, 1)).float()
        return mu, (torch.full_like(mu, -2.0) if self.variational else None)


class NoiseModel(PerfectModel):
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        gen = torch.Generator().manual_seed(0)
        return torch.randn(len(z), 1, CFG.size, CFG.size, generator=gen) * 3


def _normal_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def test_prior_quantiles_are_finite_symmetric_and_invert_the_cdf():
    for n in (1, 2, 7, 10):
        q = prior_quantiles(n)
        assert np.all(np.isfinite(q)) and np.all(np.diff(q) > 0)
        np.testing.assert_allclose(q, -q[::-1], atol=1e-12)
        np.testing.assert_allclose([_normal_cdf(v) for v in q], (np.arange(n) + 0.5) / n, atol=1e-12)


def test_vae_grid_is_prior_quantiles_and_perfect_decodes_are_valid(oracle):
    grid = latent_grid(PerfectModel(oracle, variational=True), oracle, n=6)
    assert grid.z.shape == (36, 3) and np.all(np.isfinite(grid.z))
    np.testing.assert_allclose(grid.xs, prior_quantiles(6))
    np.testing.assert_allclose(grid.z[:, :2].mean(0), 0, atol=1e-12)  # symmetric about the prior's center
    assert np.all(grid.z[:, 2] == 0)  # dims beyond the plane at the prior median
    for i in range(6):
        for j in range(6):
            np.testing.assert_allclose(grid.z[i * 6 + j, :2], [grid.xs[j], grid.ys[i]])
    assert grid.validity == 1.0


def test_ae_grid_spans_exactly_the_bounding_box(oracle, rng):
    mu = rng.normal(size=(40, 2)) * [3.0, 0.5] + [1.0, -2.0]
    grid = latent_grid(PerfectModel(oracle, variational=False, latent_dim=2), oracle, n=5, train_mu=mu)
    np.testing.assert_allclose(grid.z.min(0), mu.min(0))
    np.testing.assert_allclose(grid.z.max(0), mu.max(0))
    assert grid.validity == 1.0


def test_ae_grid_in_higher_dims_uses_the_pca_plane(oracle, rng):
    mu = rng.normal(size=(60, 3)) @ rng.normal(size=(3, 3))
    grid = latent_grid(PerfectModel(oracle, variational=False), oracle, n=4, train_mu=mu)
    centered = mu - mu.mean(0)
    _, _, vt = np.linalg.svd(centered, full_matrices=False)  # reference PCA
    np.testing.assert_allclose(np.abs(grid.directions @ vt[:2].T), np.eye(2), atol=1e-8)
    coords = grid.plane_coords(mu)
    np.testing.assert_allclose([grid.xs[0], grid.xs[-1]], [coords[:, 0].min(), coords[:, 0].max()])
    np.testing.assert_allclose([grid.ys[0], grid.ys[-1]], [coords[:, 1].min(), coords[:, 1].max()])
    # the third principal coordinate of every grid point is the training median's
    np.testing.assert_allclose((grid.z - mu.mean(0)) @ vt[2], np.median(centered @ vt[2]), atol=1e-8)


def test_noise_decoder_is_never_valid(oracle):
    model = NoiseModel(oracle, variational=True)
    assert latent_grid(model, oracle, n=3).validity == 0.0
    assert prior_samples(model, oracle, 20, seed=1).validity == 0.0


def test_prior_samples(oracle, rng):
    seed = int(rng.integers(1 << 30))
    vae = prior_samples(PerfectModel(oracle, variational=True), oracle, 30, seed=seed)
    np.testing.assert_allclose(vae.z, np.random.default_rng(seed).standard_normal((30, 3)))
    assert vae.validity == 1.0
    mu = rng.normal(size=(25, 3))
    ae = prior_samples(PerfectModel(oracle, variational=False), oracle, 30, seed=seed, train_mu=mu)
    assert np.all(ae.z >= mu.min(0)) and np.all(ae.z <= mu.max(0)) and ae.validity == 1.0
    with pytest.raises(ConfigError, match="pass train_mu"):
        prior_samples(PerfectModel(oracle, variational=False), oracle, 5, seed=0)


def test_kl_per_dimension_matches_monte_carlo(rng):
    mu, logvar = rng.normal(size=(40, 3)), rng.normal(size=(40, 3)) * 0.7
    z = mu + np.exp(0.5 * logvar) * rng.standard_normal((20000, 40, 3))
    log_q = -0.5 * (((z - mu) ** 2) / np.exp(logvar) + logvar + np.log(2 * np.pi))
    log_p = -0.5 * (z**2 + np.log(2 * np.pi))
    mc = (log_q - log_p).mean(axis=(0, 1))
    np.testing.assert_allclose(kl_per_dimension(mu, logvar), mc, rtol=0.03, atol=0.01)
    with pytest.raises(DataError, match="must both be"):
        kl_per_dimension(mu, logvar[:, :2])


def test_active_units_counts_dims_above_threshold(rng):
    mu = rng.normal(size=(500, 4)) * [1.0, 0.5, 0.01, 0.0]
    ref = [sum((v - sum(col) / len(col)) ** 2 for v in col) / len(col) for col in mu.T.tolist()]
    np.testing.assert_allclose(unit_activity(mu), ref)
    assert active_units(mu) == 2
    assert active_units(mu, threshold=1e-6) == 3


def test_silhouette_matches_sklearn(rng):
    x = np.concatenate([rng.normal(size=(30, 3)), rng.normal(size=(20, 3)) + 2.0, rng.normal(size=(1, 3))])
    labels = np.repeat([5, 7, 9], [30, 20, 1])  # a singleton class scores 0, as in scikit-learn
    assert silhouette(x, labels) == pytest.approx(silhouette_score(x, labels), abs=1e-10)
    with pytest.raises(DataError, match="at least 2 classes"):
        silhouette(x, np.zeros(len(x)))


def test_empty_cell_fraction_matches_a_loop(oracle, rng):
    mu = rng.normal(size=(30, 2))
    grid = latent_grid(PerfectModel(oracle, variational=False, latent_dim=2), oracle, n=4, train_mu=mu)
    occupied = set()
    for p in mu:
        i = min(max(sum(p[1] >= e for e in grid.edges_y) - 1, 0), 3)
        j = min(max(sum(p[0] >= e for e in grid.edges_x) - 1, 0), 3)
        occupied.add((i, j))
    assert empty_cell_fraction(grid, mu) == pytest.approx(1 - len(occupied) / 16)


def test_encode_and_decode_are_batch_independent(oracle):
    images, factors = generate(CFG, 7, seed=3)
    model = PerfectModel(oracle, variational=True)
    mu_a, lv_a = encode_dataset(model, images, batch_size=2)
    mu_b, lv_b = encode_dataset(model, images.astype(np.float32)[:, None], batch_size=256)
    np.testing.assert_array_equal(mu_a, mu_b)
    np.testing.assert_array_equal(lv_a, lv_b)
    np.testing.assert_array_equal(decode_latents(model, mu_a, 3), decode_latents(model, mu_a, 100))
    x, out = reconstructions(model, images, 4)
    assert x.shape == out.shape == (4, 64, 64) and oracle.score(out).valid.all()
    with pytest.raises(DataError, match=r"scale them into \[0, 1\]"):
        encode_dataset(model, images * 2.0)
    with pytest.raises(DataError, match="square binary images"):
        encode_dataset(model, np.zeros((2, 64, 32)))


def test_grid_errors(oracle):
    with pytest.raises(ConfigError, match="grid_n: 1 is too small"):
        latent_grid(PerfectModel(oracle, variational=True), oracle, n=1)
    with pytest.raises(ConfigError, match="pass train_mu"):
        latent_grid(PerfectModel(oracle, variational=False), oracle, n=3)


@pytest.mark.parametrize("variational", [False, True])
def test_latent_summary_of_a_perfect_model(oracle, variational):
    train, factors = generate(CFG, 120, seed=11)
    val, _ = generate(CFG, 20, seed=12)
    model = PerfectModel(oracle, variational=variational)
    maps = latent_summary(model, train, factors, val, oracle, seed=0, grid_n=5, n_samples=40, n_morphs=6, morph_steps=6)
    s = maps.summary
    json.dumps(s, allow_nan=False)  # JSON-safe
    for key in ("grid_validity", "sample_validity", "val_recon_validity", "morph_validity", "morph_validity_slerp"):
        assert s[key] == 1.0, key
    assert s["morph_monotonicity"] == 1.0  # affine decoder: heights and radii move straight to the end values
    assert s["active_units"] == 3
    assert s["latent_type_separation"] == pytest.approx(silhouette(maps.train_mu, factors["orientation"]))
    assert s["latent_type_separation"] > 0.5  # z3 = +-3 by type: the two types are apart
    assert (s["kl_per_dim"] is not None) == variational
    if variational:
        np.testing.assert_allclose(s["kl_per_dim"], kl_per_dimension(maps.train_mu, maps.train_logvar))
    assert maps.morph_frames["lerp"].shape == (6, 64, 64)
