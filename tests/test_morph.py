"""Interpolation paths and morph metrics against brute-force references and known invariants."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from latentatlas.errors import ConfigError, LatentAtlasError
from latentatlas.latentmaps.morph import (
    interpolate,
    lerp,
    monotonicity,
    morph,
    morph_latents,
    morph_metrics,
    oracle_resolution,
    pixel_changes,
    slerp,
    smoothness,
)


def test_lerp_endpoints_and_even_spacing(rng):
    z0, z1 = rng.normal(size=5), rng.normal(size=5)
    path = lerp(z0, z1, 7)
    assert path.shape == (7, 5)
    np.testing.assert_allclose(path[0], z0)
    np.testing.assert_allclose(path[-1], z1)
    np.testing.assert_allclose(np.diff(path, axis=0), np.tile((z1 - z0) / 6, (6, 1)), atol=1e-12)


def test_slerp_endpoints_and_constant_norm(rng):
    z0, z1 = rng.normal(size=8), rng.normal(size=8)
    z1 *= np.linalg.norm(z0) / np.linalg.norm(z1)  # equal norms
    path = slerp(torch.from_numpy(z0), torch.from_numpy(z1), 9)
    np.testing.assert_allclose(path[0], z0, atol=1e-12)
    np.testing.assert_allclose(path[-1], z1, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), np.linalg.norm(z0), rtol=1e-10)


def test_slerp_moves_at_constant_angular_speed(rng):
    z0, z1 = rng.normal(size=4), rng.normal(size=4)
    path = slerp(z0, z1 * np.linalg.norm(z0) / np.linalg.norm(z1), 6)  # a great circle needs equal norms
    unit = path / np.linalg.norm(path, axis=1, keepdims=True)
    angles = [np.arccos(np.clip(unit[k] @ unit[k + 1], -1, 1)) for k in range(5)]
    np.testing.assert_allclose(angles, angles[0], rtol=1e-8)


def test_slerp_falls_back_to_lerp_for_parallel_and_zero_vectors(rng):
    z = rng.normal(size=3)
    np.testing.assert_allclose(slerp(z, 2.5 * z, 5), lerp(z, 2.5 * z, 5))
    np.testing.assert_allclose(slerp(z, -z, 5), lerp(z, -z, 5))
    np.testing.assert_allclose(slerp(np.zeros(3), z, 4), lerp(np.zeros(3), z, 4))
    assert np.all(np.isfinite(slerp(z, z, 4)))


def test_interpolate_errors():
    with pytest.raises(ConfigError, match="mode: 'cubic' is not one of lerp, slerp"):
        interpolate(np.zeros(2), np.ones(2), 4, "cubic")
    with pytest.raises(ConfigError, match="steps: 1 is too few"):
        lerp(np.zeros(2), np.ones(2), 1)
    with pytest.raises(LatentAtlasError, match="same shape"):
        slerp(np.zeros(2), np.ones(3), 4)


def test_smoothness_is_one_for_linear_fade_and_large_for_a_step(rng):
    a, b = rng.random((16, 16)), rng.random((16, 16))
    t = np.linspace(0, 1, 10)[:, None, None]
    assert smoothness((1 - t) * a + t * b) == pytest.approx(1.0)
    step = np.stack([a] * 5 + [b] * 5)
    assert smoothness(step) == pytest.approx(9.0)  # one jump out of T - 1 = 9 steps
    assert smoothness(np.stack([a] * 4)) == 1.0  # nothing changes: perfectly even


def test_pixel_changes_match_a_loop(rng):
    frames = rng.random((6, 5, 5))
    ref = [sum(abs(frames[k + 1, i, j] - frames[k, i, j]) for i in range(5) for j in range(5)) / 25 for k in range(5)]
    np.testing.assert_allclose(pixel_changes(frames), ref)


def _monotone_loop(values, start, end):
    ok = []
    for k in range(len(values) - 1):
        step = values[k + 1] - values[k]
        if end > start:
            ok.append(step >= 0)
        elif end < start:
            ok.append(step <= 0)
        else:
            ok.append(step == 0)
    return sum(ok) / len(ok)


def test_monotonicity_matches_a_loop(rng):
    for _ in range(20):
        values = np.round(rng.normal(size=8), 1)
        start, end = (float(v) for v in rng.choice([-1.0, 0.0, 1.0], 2))
        assert monotonicity(values, start, end) == pytest.approx(_monotone_loop(values, start, end))
    assert monotonicity([10, 12, 12, 15], 10, 15) == 1.0
    assert monotonicity([15, 12, 14, 10], 15, 10) == pytest.approx(2 / 3)


@dataclass
class _Scores:
    iou: np.ndarray
    valid: np.ndarray
    factors: dict


class _ScriptedOracle:
    """Returns given per-frame verdicts, so morph_metrics' bookkeeping is tested apart from any real oracle."""

    def __init__(self, valid, height, radius):
        self.valid, self.height, self.radius = np.asarray(valid), np.asarray(height), np.asarray(radius)

    def score(self, images):
        assert len(images) == len(self.valid)
        return _Scores(np.where(self.valid, 0.9, 0.1), self.valid, {"height": self.height, "radius": self.radius})


def test_morph_metrics_combines_validity_smoothness_monotonicity(rng):
    frames = rng.random((5, 8, 8))
    oracle = _ScriptedOracle([1, 1, 0, 1, 1], [10, 12, 11, 14, 16], [8, 8, 8, 7, 6])
    m = morph_metrics(frames, oracle, {"height": 10, "radius": 8}, {"height": 16, "radius": 6})
    assert m.validity == pytest.approx(0.8)
    assert m.valid.tolist() == [True, True, False, True, True]
    assert m.monotonicity == pytest.approx((3 / 4 + 4 / 4) / 2)
    assert m.smoothness == pytest.approx(smoothness(frames))
    assert set(m.to_dict()) == {"validity", "smoothness", "monotonicity"}
    with pytest.raises(ConfigError, match=r"frames must be \(T >= 2, S, S\)"):
        morph_metrics(frames[:1], oracle, {"height": 1, "radius": 1}, {"height": 1, "radius": 1})


class _LinearAE(torch.nn.Module):
    """encode = mean pixel per half-image; decode = fixed linear map: end frames equal decode(encode(x))."""

    latent_dim, variational = 2, False

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Linear(2, 36)

    def encode(self, x):
        return torch.stack([x[:, 0, :3].mean((1, 2)), x[:, 0, 3:].mean((1, 2))], 1), None

    def decode(self, z):
        return self.w(z).view(-1, 1, 6, 6)


def test_morph_decodes_the_interpolated_latents(rng):
    model = _LinearAE()
    x0, x1 = rng.random((6, 6)) > 0.5, rng.random((6, 6)) > 0.5
    frames = morph(model, x0, x1, steps=5, mode="lerp")
    mu = model.encode(torch.from_numpy(np.stack([x0, x1]).astype(np.float32))[:, None])[0].detach().numpy()
    expected = torch.sigmoid(model.decode(torch.from_numpy(lerp(mu[0], mu[1], 5)).float())).detach().numpy()[:, 0]
    np.testing.assert_allclose(frames, expected, atol=1e-6)
    assert morph_latents(model, mu[0], mu[1], 4, "slerp").shape == (4, 6, 6)
    assert model.training  # the model's mode is restored after the eval-mode decode


def test_monotonicity_tolerates_the_oracle_resolution():
    class Banked(_ScriptedOracle):
        bank_factors_ = {"height": np.array([12.0, 12.5, 13.0]), "radius": np.array([6.0, 7.0, 6.0])}

    assert oracle_resolution(Banked([1], [0], [0])) == 1.0  # the coarser of the two bank spacings
    assert oracle_resolution(_ScriptedOracle([1], [0], [0])) == 0.0
    oracle = Banked([1] * 4, [20, 19, 20.5, 21], [8, 8, 8, 8])  # one step back by 1 px, within resolution
    m = morph_metrics(np.zeros((4, 4, 4)), oracle, {"height": 20, "radius": 8}, {"height": 21, "radius": 8})
    assert m.monotonicity == 1.0
    strict = morph_metrics(np.zeros((4, 4, 4)), oracle, {"height": 20, "radius": 8}, {"height": 21, "radius": 8}, tol=0)
    assert strict.monotonicity == pytest.approx((2 / 3 + 1) / 2)
