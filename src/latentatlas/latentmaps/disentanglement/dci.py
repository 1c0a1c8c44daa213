"""Disentanglement, Completeness and Informativeness (Eastwood & Williams 2018, "A Framework for the
Quantitative Evaluation of Disentangled Representations"), as disentanglement_lib computes it (`dci.py`).

One scikit-learn `GradientBoostingClassifier` (its defaults: 100 stages of depth-3 trees, learning rate 0.1)
per factor predicts the factor's labels from all codes; the absolute `feature_importances_` of factor k's
model fill column k of the importance matrix R (L, K). With `P = R` normalised per row (code) or per column
(factor) and entropies in base K or L:

    D = sum_j rho_j (1 - H_K(P_j.)),  rho_j = sum_k R_jk / sum R     (each code matters for one factor)
    C = sum_k rho_k (1 - H_L(P_.k)),  rho_k = sum_j R_jk / sum R     (each factor is held by one code)
    I = mean over factors of the test accuracy of its classifier

A code with no importance at all counts as fully spread (score 0, weight 0); an all-zero R scores D = C = 0.
With a single factor (K = 1) D is 1, with a single code (L = 1) C is 1, since there is nothing to spread over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier

from latentatlas.errors import ConfigError
from latentatlas.latentmaps.disentanglement.discretize import DEFAULT_BINS
from latentatlas.latentmaps.disentanglement.factors import FactorsLike, FactorTable, prepare
from latentatlas.latentmaps.disentanglement.scoring import (
    DEFAULT_TRAIN_FRACTION,
    check_classes,
    known_classes,
    split_indices,
)

DEFAULT_MAX_TRAIN = 2000  # disentanglement_lib: 10,000; gradient boosting's cost grows with samples x classes


@dataclass(frozen=True)
class DCIResult:
    """DCI scores and what they come from. `importance` is (L, K); accuracies are per factor (K,)."""

    disentanglement: float
    completeness: float
    informativeness: float  # mean test accuracy
    informativeness_train: float
    importance: np.ndarray  # (L, K)
    train_accuracy: np.ndarray  # (K,)
    test_accuracy: np.ndarray  # (K,)
    factor_names: tuple[str, ...]


def importance_matrix(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradient-boosted importances of codes for factors, and each classifier's accuracy.

    Args:
        x_train, x_test: (N, L) codes; y_train, y_test: (N, K) int labels of the factors.
        seed: `random_state` of the classifiers (the reference leaves it unset; fixed here for reproducibility).

    Returns:
        importance (L, K), train accuracy (K,), test accuracy (K,).
    """
    num_factors = y_train.shape[1]
    importance = np.zeros((x_train.shape[1], num_factors))
    train_acc, test_acc = np.zeros(num_factors), np.zeros(num_factors)
    for k in range(num_factors):
        with known_classes():
            model = GradientBoostingClassifier(random_state=seed).fit(x_train, y_train[:, k])
        importance[:, k] = np.abs(model.feature_importances_)
        train_acc[k] = np.mean(model.predict(x_train) == y_train[:, k])
        test_acc[k] = np.mean(model.predict(x_test) == y_test[:, k])
    return importance, train_acc, test_acc


def _one_minus_entropy(rows: np.ndarray) -> np.ndarray:
    """1 - H(p) in base C of each row of a non-negative (R, C) matrix normalised to sum 1; 0 for an empty row."""
    total = rows.sum(axis=1)
    out = np.zeros(len(rows))
    used = total > 0
    if rows.shape[1] == 1:
        out[used] = 1.0
        return out
    p = rows[used] / total[used, None]
    plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    out[used] = 1.0 + plogp.sum(axis=1) / np.log(rows.shape[1])
    return out


def _weighted(rows: np.ndarray) -> float:
    total = rows.sum()
    weights = rows.sum(axis=1) / total if total > 0 else np.full(len(rows), 1.0 / len(rows))
    return float(np.sum(_one_minus_entropy(rows) * weights))


def disentanglement(importance: np.ndarray) -> float:
    """D of an importance matrix (L, K): importance-weighted mean over codes of 1 - H_K(code's row)."""
    return _weighted(np.asarray(importance, dtype=np.float64))


def completeness(importance: np.ndarray) -> float:
    """C of an importance matrix (L, K): importance-weighted mean over factors of 1 - H_L(factor's column)."""
    return _weighted(np.asarray(importance, dtype=np.float64).T)


def dci(
    codes: np.ndarray,
    factors: FactorsLike | FactorTable,
    names: Sequence[str] | None = None,
    num_bins: int = DEFAULT_BINS,
    train_fraction: float = DEFAULT_TRAIN_FRACTION,
    max_train: int | None = DEFAULT_MAX_TRAIN,
    seed: int = 0,
) -> DCIResult:
    """DCI of codes against known factors, on a seeded train/test split of the samples.

    Args:
        codes: (N, L) latent codes. factors: (N, K) values or a dict of columns (continuous ones are binned).
        num_bins: histogram bins of continuous factors.
        train_fraction: share of the samples the classifiers train on; the rest is the test set.
        max_train: at most this many of the training samples are used (None = all): the one default changed
            from disentanglement_lib's 10,000, because 100 boosting stages fit one tree per class of every
            factor (20 for a binned factor) and the cost grows linearly with the samples.
        seed: split and classifier seed.
    """
    if max_train is not None and max_train < 2:
        raise ConfigError(f"max_train: {max_train}; train on at least 2 samples, or None for all")
    x, table = prepare(codes, factors, names, num_bins)
    train, test = split_indices(len(x), train_fraction, seed)
    train = train[:max_train] if max_train is not None else train
    check_classes(table.labels[train], table.names)
    imp, acc_train, acc_test = importance_matrix(x[train], table.labels[train], x[test], table.labels[test], seed)
    return DCIResult(
        disentanglement(imp), completeness(imp), float(acc_test.mean()), float(acc_train.mean()), imp,
        acc_train, acc_test, table.names,
    )  # fmt: skip
