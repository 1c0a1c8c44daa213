"""DCI: disentanglement and completeness of known importance matrices, the gradient-boosted importances
against scikit-learn fitted directly, and DCI on codes of known structure."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from sklearn.ensemble import GradientBoostingClassifier

from latentatlas.latentmaps.disentanglement import as_factor_table, completeness, dci, disentanglement
from latentatlas.latentmaps.disentanglement.scoring import split_indices

LOG2_10 = np.log(2) / np.log(10)


@pytest.mark.parametrize(
    "matrix, d, c",
    [
        (np.diag(np.full(5, 5.0)), 1.0, 1.0),
        (np.zeros((10, 10)), 0.0, 0.0),
        (np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), 1.0, 1.0),  # an unused code changes nothing
        (np.vstack([np.eye(5), np.eye(5)]), 1.0, 1.0 - LOG2_10),  # each factor split over 2 of 10 codes
        (np.hstack([np.eye(5), np.eye(5)]), 1.0 - LOG2_10, 1.0),  # each code split over 2 of 10 factors
        (np.eye(5)[:2], 1.0, 1.0),  # factors nobody predicts carry no weight
        (np.ones((4, 1)), 1.0, 0.0),  # one factor: nothing to spread a code over; spread evenly over 4 codes
        (np.ones((1, 3)), 0.0, 1.0),
    ],
)
def test_disentanglement_and_completeness_of_known_matrices(matrix, d, c):
    assert disentanglement(matrix) == pytest.approx(d, abs=1e-9)
    assert completeness(matrix) == pytest.approx(c, abs=1e-9)


def test_disentanglement_and_completeness_match_a_scipy_loop(rng):
    r = rng.uniform(0, 1, size=(6, 4)) * (rng.uniform(size=(6, 4)) > 0.3)
    d_code = [1 - scipy.stats.entropy(row, base=4) if row.sum() else 0.0 for row in r]
    c_factor = [1 - scipy.stats.entropy(col, base=6) if col.sum() else 0.0 for col in r.T]
    assert disentanglement(r) == pytest.approx(np.dot(d_code, r.sum(1) / r.sum()), abs=1e-12)
    assert completeness(r) == pytest.approx(np.dot(c_factor, r.sum(0) / r.sum()), abs=1e-12)


def _data(rng, n):
    factors = {"kind": rng.integers(0, 3, n), "size": rng.uniform(0, 1, n), "angle": rng.uniform(-1, 1, n)}
    f = np.stack([np.asarray(v, np.float64) for v in factors.values()], 1)
    z = (f - f.mean(0)) / f.std(0) + 0.01 * rng.normal(size=f.shape)
    return z, factors


def test_importance_matrix_is_sklearn_gradient_boosting_on_the_split(rng):
    z, factors = _data(rng, 300)
    result = dci(z, factors, num_bins=5, seed=3)
    table = as_factor_table(factors, num_bins=5)
    train, test = split_indices(300, 2 / 3, seed=3)
    for k in range(3):
        model = GradientBoostingClassifier(random_state=3).fit(z[train], table.labels[train, k])
        np.testing.assert_allclose(result.importance[:, k], model.feature_importances_, atol=1e-12)
        assert result.test_accuracy[k] == pytest.approx(np.mean(model.predict(z[test]) == table.labels[test, k]))
        assert result.train_accuracy[k] == pytest.approx(np.mean(model.predict(z[train]) == table.labels[train, k]))
    assert result.informativeness == pytest.approx(result.test_accuracy.mean())


def test_dci_near_one_for_a_disentangled_code_lower_rotated_zero_constant(rng):
    z, factors = _data(rng, 600)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    perfect, rotated = dci(z, factors, num_bins=5), dci(z @ q, factors, num_bins=5)
    assert perfect.disentanglement > 0.9 and perfect.completeness > 0.9 and perfect.informativeness > 0.9
    assert rotated.disentanglement < 0.6 * perfect.disentanglement
    assert rotated.completeness < 0.6 * perfect.completeness
    const = dci(np.zeros_like(z), factors, num_bins=5)
    assert const.disentanglement == 0.0 and const.completeness == 0.0
    # no feature to split on: each classifier predicts the training majority class
    table = as_factor_table(factors, num_bins=5)
    train, test = split_indices(600, 2 / 3, seed=0)
    for k in range(3):
        majority = np.bincount(table.labels[train, k]).argmax()
        assert const.test_accuracy[k] == pytest.approx(np.mean(table.labels[test, k] == majority))


def test_max_train_caps_the_training_samples(rng):
    z, factors = _data(rng, 300)
    capped = dci(z, factors, num_bins=5, max_train=60)
    assert capped.train_accuracy.shape == (3,)
    assert not np.allclose(capped.importance, dci(z, factors, num_bins=5, max_train=None).importance)
