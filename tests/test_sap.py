"""SAP: the R^2 and linear-SVM score matrices against scikit-learn fitted directly, and SAP on known codes."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.svm import LinearSVC

from latentatlas.latentmaps.disentanglement import as_factor_table, sap
from latentatlas.latentmaps.disentanglement.sap import r2_matrix
from latentatlas.latentmaps.disentanglement.scoring import split_indices


def _data(rng, n, noise=0.01):
    factors = {"kind": rng.integers(0, 3, n), "size": rng.uniform(0, 1, n), "angle": rng.uniform(-1, 1, n)}
    f = np.stack([np.asarray(v, np.float64) for v in factors.values()], 1)
    z = (f - f.mean(0)) / f.std(0) + noise * rng.normal(size=f.shape)
    return z, factors


def test_r2_matrix_is_the_score_of_a_1d_linear_regression(rng):
    z, v = rng.normal(size=(200, 3)), rng.normal(size=(200, 2))
    v[:, 0] += 2 * z[:, 1]
    r2 = r2_matrix(z, v)
    for j in range(3):
        for k in range(2):
            fit = LinearRegression().fit(z[:, [j]], v[:, k])
            assert r2[j, k] == pytest.approx(fit.score(z[:, [j]], v[:, k]), abs=1e-10)
    assert np.all(r2_matrix(np.zeros((200, 1)), v) == 0.0)  # a constant latent explains nothing


def test_discrete_factors_are_scored_by_a_balanced_linear_svm_on_each_latent(rng):
    z, factors = _data(rng, 300, noise=0.5)
    result = sap(z, factors, seed=2)
    assert result.by_r2 == (False, True, True)
    table = as_factor_table(factors)
    train, test = split_indices(300, 2 / 3, seed=2)
    mean, std = z[train].mean(0), z[train].std(0)
    for j in range(3):
        svm = LinearSVC(C=0.01, class_weight="balanced", dual=False, random_state=2)
        svm.fit((z[train, j : j + 1] - mean[j]) / std[j], table.labels[train, 0])
        acc = np.mean(svm.predict((z[test, j : j + 1] - mean[j]) / std[j]) == table.labels[test, 0])
        assert result.score_matrix[j, 0] == pytest.approx(acc)
    np.testing.assert_allclose(result.score_matrix[:, 1:], r2_matrix(z[train], table.values[train, 1:]))
    top = np.sort(result.score_matrix, axis=0)
    assert result.score == pytest.approx(np.mean(top[-1] - top[-2]))


def test_svm_scores_do_not_depend_on_the_units_of_a_latent(rng):
    z, factors = _data(rng, 2000, noise=0.3)
    units = np.array([300.0, 0.01, 7.0])  # an AE's arbitrary scales; a ConvergenceWarning would fail the test
    result = sap(z * units + 5.0, factors, continuous=False)
    np.testing.assert_allclose(result.score_matrix, sap(z, factors, continuous=False).score_matrix, atol=2e-3)


def test_reference_modes_score_every_factor_one_way(rng):
    z, factors = _data(rng, 300)
    assert sap(z, factors, continuous=True).by_r2 == (True, True, True)
    assert sap(z, factors, continuous=False).by_r2 == (False, False, False)


def test_sap_near_one_for_a_disentangled_code_lower_rotated_zero_constant_or_duplicated(rng):
    z, factors = _data(rng, 1000)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    perfect = sap(z, factors, continuous=True).score
    assert perfect > 0.9
    assert sap(z @ q, factors, continuous=True).score < 0.6 * perfect
    assert sap(np.zeros_like(z), factors).score == 0.0
    assert sap(np.hstack([z, z]), factors).score == pytest.approx(0.0, abs=1e-12)
