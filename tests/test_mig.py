"""MIG: mutual information against brute-force counts and scikit-learn, and MIG on codes of known structure."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

from latentatlas.latentmaps.disentanglement import entropy, mig, mutual_information
from latentatlas.latentmaps.disentanglement.information import joint_counts


def _brute_force_mi(a: np.ndarray, b: np.ndarray) -> float:
    """Plug-in mutual information by counting pairs in a plain loop (nats)."""
    n = len(a)
    pab, pa, pb = Counter(zip(a.tolist(), b.tolist())), Counter(a.tolist()), Counter(b.tolist())
    return sum(c / n * np.log((c / n) / (pa[x] / n * pb[y] / n)) for (x, y), c in pab.items())


def _factors(rng, n):
    """Four factors: two discrete (5 and 2 classes), two continuous."""
    return {
        "family": rng.integers(0, 5, n),
        "orientation": rng.integers(0, 2, n),
        "height": rng.uniform(12, 32, n),
        "radius": rng.uniform(6, 14, n),
    }


def _perfect(factors, rng, noise=0.01):
    """Each latent = one standardised factor + small noise: (N, K)."""
    f = np.stack([np.asarray(v, np.float64) for v in factors.values()], 1)
    z = (f - f.mean(0)) / f.std(0)
    return z + noise * rng.normal(size=z.shape)


def test_mutual_information_matches_brute_force_counts_and_sklearn(rng):
    n = 400
    a = rng.integers(0, 6, size=(n, 3))
    b = np.stack([(a[:, 0] + rng.integers(0, 2, n)) % 6, rng.integers(0, 4, n)], 1)  # one dependent, one not
    mi = mutual_information(a, b)
    assert mi.shape == (3, 2)
    for i in range(3):
        for j in range(2):
            assert mi[i, j] == pytest.approx(_brute_force_mi(a[:, i], b[:, j]), abs=1e-12)
            assert mi[i, j] == pytest.approx(mutual_info_score(b[:, j], a[:, i]), abs=1e-12)
    assert mi[0, 0] > 0.5 > mi[1, 0]
    np.testing.assert_array_equal(joint_counts(a[:, 0], b[:, 1]).sum(), n)


def test_entropy_is_self_information(rng):
    y = rng.integers(0, 7, size=(300, 2))
    h = entropy(y)
    for j in range(2):
        assert h[j] == pytest.approx(mutual_info_score(y[:, j], y[:, j]), abs=1e-12)
        p = np.bincount(y[:, j]) / 300
        assert h[j] == pytest.approx(-sum(q * np.log(q) for q in p if q > 0), abs=1e-12)


def test_mig_equals_an_independent_recomputation(rng):
    n = 1000
    factors = _factors(rng, n)
    codes = _perfect(factors, rng, noise=0.5) @ rng.normal(size=(4, 5))  # entangled, 5 latents
    result = mig(codes, factors)
    # reference path: numpy's histogram edges + digitize, scikit-learn's mutual information
    binned = [np.digitize(codes[:, j], np.histogram(codes[:, j], 20)[1][:-1]) for j in range(5)]
    labels = [factors["family"], factors["orientation"]]
    labels += [np.digitize(factors[k], np.histogram(factors[k], 20)[1][:-1]) for k in ("height", "radius")]
    m = np.array([[mutual_info_score(y, z) for y in labels] for z in binned])  # (L, K)
    h = np.array([mutual_info_score(y, y) for y in labels])
    top = np.sort(m, axis=0)[::-1]
    np.testing.assert_allclose(result.mutual_information, m, atol=1e-12)
    np.testing.assert_allclose(result.factor_entropy, h, atol=1e-12)
    assert result.score == pytest.approx(np.mean((top[0] - top[1]) / h), abs=1e-12)
    np.testing.assert_allclose(result.normalized, m / h)


def test_mig_near_one_for_a_disentangled_code_lower_rotated_zero_constant_or_duplicated(rng):
    n = 3000
    factors = _factors(rng, n)
    z = _perfect(factors, rng)
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    perfect, rotated = mig(z, factors).score, mig(z @ q, factors).score
    assert perfect > 0.9
    assert rotated < 0.5 * perfect
    assert mig(np.zeros_like(z), factors).score == 0.0
    assert mig(np.hstack([z, z]), factors).score == 0.0  # two equally informative latents: no gap


def test_mig_with_one_latent_counts_the_missing_runner_up_as_zero(rng):
    factors = {"height": rng.uniform(0, 1, 500)}
    result = mig(factors["height"][:, None] * 2.0, factors)
    assert result.score == pytest.approx(1.0)
