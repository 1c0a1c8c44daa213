"""Separated Attribute Predictability (Kumar et al. 2018, "Variational Inference of Disentangled Latent
Concepts from Unlabeled Observations", sec. 3), as disentanglement_lib computes it (`sap_score.py`).

A score matrix S (L, K) rates how well each single latent predicts each factor; SAP is the mean over factors
of the gap between the best and the second-best latent. The reference scores a factor one of two ways:

- discrete: S_jk is the test accuracy of a linear SVM (`LinearSVC(C=0.01, class_weight="balanced")`) trained
  on latent j alone (standardised) to predict factor k's labels;
- continuous: S_jk is the R^2 of a 1-D linear regression of factor k on latent j,
  `Cov(z_j, v_k)^2 / (Var z_j Var v_k)` on the training part, 0 for a latent with variance <= 1e-12.

The reference picks one way for all factors (`continuous_factors`; False in its study, whose factors are all
discrete). Here the default (`continuous=None`) picks per factor: R^2 for a continuous factor, SVM accuracy for
a discrete one. Binning a continuous factor for the SVM would ask a single threshold on one latent to separate
the middle bins of 20, which no linear classifier on one number can do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.svm import LinearSVC

from latentatlas.latentmaps.disentanglement.discretize import DEFAULT_BINS
from latentatlas.latentmaps.disentanglement.factors import FactorsLike, FactorTable, prepare
from latentatlas.latentmaps.disentanglement.scoring import (
    DEFAULT_TRAIN_FRACTION,
    check_classes,
    known_classes,
    split_indices,
    top_two_gap,
)


@dataclass(frozen=True)
class SAPResult:
    """SAP, its per-factor gaps (K,) and the score matrix (L, K): R^2 where `by_r2[k]`, else SVM accuracy."""

    score: float
    per_factor: np.ndarray  # (K,)
    score_matrix: np.ndarray  # (L, K)
    by_r2: tuple[bool, ...]  # (K,)
    factor_names: tuple[str, ...]


def r2_matrix(codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """R^2 of the 1-D linear regression of every factor on every latent: (N, L), (N, K) -> (L, K)."""
    z = codes - codes.mean(axis=0)
    v = values - values.mean(axis=0)
    n = len(codes) - 1  # ddof = 1, as np.cov
    cov = z.T @ v / n  # (L, K)
    var_z, var_v = (z * z).sum(axis=0) / n, (v * v).sum(axis=0) / n
    out = cov**2 / np.outer(np.where(var_z > 1e-12, var_z, 1.0), var_v)
    out[var_z <= 1e-12] = 0.0
    return out


def svm_accuracy_matrix(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, seed: int = 0
) -> np.ndarray:
    """Test accuracy of a linear SVM on each single latent for each factor: (N, L), (N, K) labels -> (L, K).

    Two changes from the reference, both for codes whose units are arbitrary (an AE's): each latent is
    standardised with the training part's mean and std first, so the strong L2 penalty (C = 0.01) acts as it
    does on a VAE's unit-scale codes whatever the units; and the primal solver (`dual=False`) solves the same
    problem as the reference's liblinear dual, which stops at its iteration limit on unscaled codes
    (scikit-learn recommends the primal for n_samples > n_features; its `dual="auto"` picks it too).
    """
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    out = np.zeros((x_train.shape[1], y_train.shape[1]))
    for j in range(x_train.shape[1]):
        for k in range(y_train.shape[1]):
            svm = LinearSVC(C=0.01, class_weight="balanced", dual=False, random_state=seed)
            with known_classes():
                svm.fit(x_train[:, j : j + 1], y_train[:, k])
            out[j, k] = np.mean(svm.predict(x_test[:, j : j + 1]) == y_test[:, k])
    return out


def sap(
    codes: np.ndarray,
    factors: FactorsLike | FactorTable,
    names: Sequence[str] | None = None,
    num_bins: int = DEFAULT_BINS,
    continuous: bool | None = None,
    train_fraction: float = DEFAULT_TRAIN_FRACTION,
    seed: int = 0,
) -> SAPResult:
    """SAP of codes against known factors on a seeded train/test split.

    Args:
        codes: (N, L) latent codes. factors: (N, K) values or a dict of columns.
        num_bins: histogram bins of continuous factors scored by the SVM (`continuous=False`).
        continuous: None = per factor (R^2 if continuous, SVM accuracy if discrete); True = R^2 for every
            factor, even a class code taken as a number; False = SVM accuracy for every factor, continuous ones
            binned (the reference's study setting).
        train_fraction: share of the samples used to fit; the rest is the test set of the SVMs.
    """
    x, table = prepare(codes, factors, names, num_bins)
    train, test = split_indices(len(x), train_fraction, seed)
    by_r2 = np.array([not d if continuous is None else bool(continuous) for d in table.discrete])  # (K,)
    matrix = np.zeros((x.shape[1], table.num_factors))
    if by_r2.any():
        matrix[:, by_r2] = r2_matrix(x[train], table.values[train][:, by_r2])
    if not by_r2.all():
        labels = table.labels[:, ~by_r2]
        check_classes(labels[train], tuple(np.array(table.names)[~by_r2]))
        matrix[:, ~by_r2] = svm_accuracy_matrix(x[train], labels[train], x[test], labels[test], seed)
    per_factor = top_two_gap(matrix)
    return SAPResult(float(per_factor.mean()), per_factor, matrix, tuple(by_r2.tolist()), table.names)
