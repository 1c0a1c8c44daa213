"""Inputs of the disentanglement scores: histogram discretization, factor tables, and one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

from latentatlas.errors import ConfigError, DataError
from latentatlas.latentmaps.disentanglement import as_factor_table, dci, histogram_discretize, mig, sap
from latentatlas.latentmaps.disentanglement.discretize import as_labels, is_discrete


def test_histogram_bins_match_numpy_histogram_counts_and_edges(rng):
    x = np.concatenate([rng.normal(size=(500, 3)), rng.uniform(-5, 5, size=(500, 3))])
    for bins in (2, 7, 20):
        labels = histogram_discretize(x, bins)
        assert labels.min() >= 0 and labels.max() <= bins - 1
        for d in range(x.shape[1]):
            counts, edges = np.histogram(x[:, d], bins)
            np.testing.assert_array_equal(np.bincount(labels[:, d], minlength=bins), counts)
            inner = labels[:, d] < bins - 1  # half-open bins, the last one closed
            assert np.all(edges[labels[:, d]] <= x[:, d])
            assert np.all(x[inner, d] < edges[labels[inner, d] + 1])


def test_constant_column_falls_into_bin_zero():
    np.testing.assert_array_equal(histogram_discretize(np.full((5, 2), 3.0), 20), 0)


def test_discrete_or_continuous_by_dtype_and_distinct_values(rng):
    assert is_discrete(rng.integers(0, 100, 50))  # integer dtype: classes, however many
    assert is_discrete(np.array([0.0, 1.0, 2.0, 1.0]))  # whole numbers, few values
    assert not is_discrete(rng.uniform(0, 1, 50))
    assert not is_discrete(np.arange(30, dtype=np.float64), num_bins=20)  # whole numbers but more than 20 values
    np.testing.assert_array_equal(as_labels(np.array([7, 2, 5, 2])), [2, 0, 1, 0])


def test_factor_table_keeps_classes_and_bins_continuous_factors(rng):
    fam = rng.integers(0, 5, 200) * 3  # codes 0, 3, 6, 9, 12
    height = rng.uniform(12, 32, 200).astype(np.float32)
    table = as_factor_table({"family": fam, "height": height}, num_bins=10)
    assert table.names == ("family", "height") and table.discrete == (True, False)
    np.testing.assert_array_equal(table.labels[:, 0], fam // 3)
    np.testing.assert_array_equal(table.labels[:, 1], histogram_discretize(height[:, None], 10)[:, 0])
    np.testing.assert_allclose(table.values[:, 1], height)
    forced = as_factor_table(np.stack([fam, height], 1), names=["f", "h"], discrete=[False, False], num_bins=10)
    assert forced.discrete == (False, False)


SCORES = [mig, lambda c, f, **kw: dci(c, f, max_train=50, **kw), sap]


def _good(rng, n=100):
    codes = rng.normal(size=(n, 3))
    return codes, {"a": rng.integers(0, 3, n), "b": rng.uniform(0, 1, n)}


def _one_line(excinfo) -> None:
    assert "\n" not in str(excinfo.value)


@pytest.mark.parametrize("score", SCORES, ids=["mig", "dci", "sap"])
def test_bad_inputs_raise_one_line_errors(score, rng):
    codes, factors = _good(rng)
    few = {k: v[:12] for k, v in factors.items()}
    cases = [
        (DataError, "factors have 100 rows for 99 codes", codes[:-1], factors),
        (DataError, "factor 'b' has 99 values", codes, {"a": factors["a"], "b": factors["b"][:-1]}),
        (DataError, "factor 'c' is constant", codes, {**factors, "c": np.full(100, 0.3)}),
        (DataError, "factor 'b' has 1 NaN", codes, {**factors, "b": np.where(np.arange(100) == 5, np.nan, 1.0)}),
        (DataError, "latent dim 2 has 1 NaN", np.where(np.arange(300).reshape(100, 3) == 5, np.nan, codes), factors),
        (DataError, "12 samples are fewer than the 20 histogram bins", codes[:12], few),
        (DataError, "no factor columns", codes, {}),
    ]
    for error, message, c, f in cases:
        with pytest.raises(error, match=message) as excinfo:
            score(c, f)
        _one_line(excinfo)
    with pytest.raises(ConfigError, match="num_bins: 1") as excinfo:
        score(codes, factors, num_bins=1)
    _one_line(excinfo)
    with pytest.raises(ConfigError, match="2 names for 1 factor columns"):
        score(codes, factors["b"], names=["x", "y"])
