"""FactorVAE and BetaVAE scores with synthetic samplers whose "encoder" is known, and their fixed-factor batches.

The identity encoder (code = factors) is disentangled by construction; an "entangled" encoder shows only the
sum of two identically distributed factors, so fixing either of them looks the same and half of those points
must be misread: accuracy 3/4 in expectation.
"""

from __future__ import annotations

import numpy as np
import pytest

from latentatlas.errors import ConfigError
from latentatlas.latentmaps.disentanglement import FactorSampler, beta_vae_score, factor_vae_score
from latentatlas.latentmaps.disentanglement.sampling import fixed_factor_groups


class Synthetic:
    """Four factors (one with 3 classes, three uniform) observed through `encoder(factors) -> codes`."""

    factor_names = ("kind", "a", "b", "c")

    def __init__(self, encoder):
        self.encoder = encoder

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        f = rng.uniform(0, 1, size=(n, 4))
        f[:, 0] = rng.integers(0, 3, n)
        return f

    def observe(self, factors: np.ndarray) -> np.ndarray:
        return self.encoder(factors)


def identity(f):
    return f.copy()


def entangled(f):
    """a and b (both uniform) only through their sum, in two latents; kind and c in their own."""
    s = f[:, 1] + f[:, 2]
    return np.stack([f[:, 0], s, s, f[:, 3]], 1)


def test_synthetic_sampler_is_a_factor_sampler():
    assert isinstance(Synthetic(identity), FactorSampler)


def test_groups_share_the_fixed_factor_and_vary_in_the_others(rng):
    sampler = Synthetic(identity)
    for ks, codes in fixed_factor_groups(sampler, 50, 8, rng):  # identity: codes are the factors
        assert codes.shape == (len(ks), 8, 4)
        for k, group in zip(ks, codes):
            assert np.all(group[:, k] == group[0, k])
            assert np.all(np.delete(group, k, axis=1).std(axis=0) > 0)
    for ks, codes in fixed_factor_groups(sampler, 50, 8, rng, pairs=True):
        assert codes.shape == (len(ks), 2, 8, 4)
        for k, (first, second) in zip(ks, codes):
            np.testing.assert_array_equal(first[:, k], second[:, k])
            others = [j for j in (1, 2, 3) if j != k]  # continuous factors not fixed: differ pair by pair
            assert np.all(first[:, others] != second[:, others])


def test_factor_vae_is_one_for_the_identity_lower_entangled_zero_constant():
    perfect = factor_vae_score(Synthetic(identity), num_train=300, num_eval=300)
    assert perfect.eval_accuracy == 1.0 and perfect.train_accuracy == 1.0 and perfect.num_active == 4
    np.testing.assert_array_equal(np.argmax(perfect.train_votes, axis=0), np.arange(4))
    mixed = factor_vae_score(Synthetic(entangled), num_train=300, num_eval=300)
    assert mixed.eval_accuracy == pytest.approx(0.75, abs=0.08)  # a and b are told apart by chance only
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    assert factor_vae_score(Synthetic(lambda f: f @ q), num_train=300, num_eval=300).eval_accuracy < 0.99
    const = factor_vae_score(Synthetic(lambda f: np.zeros_like(f)), num_train=50, num_eval=50)
    assert const.eval_accuracy == 0.0 and const.num_active == 0


def test_factor_vae_prunes_collapsed_latents_and_votes_by_majority():
    def with_collapsed(f):  # a fifth latent of std 0.01 < 0.05 (collapsed)
        return np.hstack([f, 0.01 * np.random.default_rng(len(f)).normal(size=(len(f), 1))])

    result = factor_vae_score(Synthetic(with_collapsed), num_train=200, num_eval=100)
    assert result.num_active == 4 and not result.active[4]
    assert result.train_votes[:, 4].sum() == 0 and result.eval_votes[:, 4].sum() == 0
    votes = result.train_votes
    assert result.train_accuracy == pytest.approx(votes.max(axis=0).sum() / votes.sum())


def test_beta_vae_is_one_for_the_identity_lower_entangled_chance_for_constant():
    assert beta_vae_score(Synthetic(identity), num_train=300, num_eval=300).eval_accuracy == 1.0
    mixed = beta_vae_score(Synthetic(entangled), num_train=400, num_eval=400)
    assert mixed.eval_accuracy == pytest.approx(0.75, abs=0.08)
    const = beta_vae_score(Synthetic(lambda f: np.zeros_like(f)), num_train=100, num_eval=400)
    assert const.eval_accuracy < 0.35  # all features 0: one factor guessed for every point, 1/4 expected


def test_both_scores_ignore_the_units_of_each_latent():
    """FactorVAE divides by the global variances, BetaVAE standardises its features: rescaling latents (an AE's
    arbitrary units) changes neither score; lbfgs converges on features in the tens (warnings are errors)."""
    units = np.array([1.0, 10.0, 100.0, 1000.0])

    def noisy(e):  # independent noise per latent, so no two latents tie exactly
        return lambda f: e(f) + 0.2 * np.random.default_rng(len(f)).normal(size=f.shape)

    for encoder in (noisy(entangled), noisy(identity)):
        plain, scaled = Synthetic(encoder), Synthetic(lambda f, e=encoder: e(f) * units)
        a, b = beta_vae_score(plain, num_train=200, num_eval=200), beta_vae_score(scaled, num_train=200, num_eval=200)
        assert a.eval_accuracy == b.eval_accuracy and a.train_accuracy == b.train_accuracy
        fa = factor_vae_score(plain, num_train=100, num_eval=100, num_variance_estimate=500)
        fb = factor_vae_score(scaled, num_train=100, num_eval=100, num_variance_estimate=500)
        np.testing.assert_array_equal(fa.eval_votes, fb.eval_votes)


def test_beta_vae_is_blind_to_a_rotation():
    """Known weakness (Kim & Mnih 2018, sec. 4): a linear classifier reads the factor off mean |z1 - z2| of any
    invertible linear mixing, so a rotated code still scores ~1; FactorVAE's score does not share it."""
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(4, 4)))
    assert beta_vae_score(Synthetic(lambda f: f @ q), num_train=300, num_eval=300).eval_accuracy > 0.9


def test_sample_counts_are_checked():
    with pytest.raises(ConfigError, match="num_train: 0; use at least 1"):
        factor_vae_score(Synthetic(identity), num_train=0)
    with pytest.raises(ConfigError, match="batch_size: 1; use at least 2"):
        factor_vae_score(Synthetic(identity), batch_size=1)
    with pytest.raises(ConfigError, match="num_eval: 0; use at least 1"):
        beta_vae_score(Synthetic(identity), num_eval=0)
