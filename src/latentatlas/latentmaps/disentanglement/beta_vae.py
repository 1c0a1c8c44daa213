"""The BetaVAE disentanglement score (Higgins et al. 2017, "beta-VAE: Learning Basic Visual Concepts with a
Constrained Variational Framework", sec. 3), as disentanglement_lib computes it (`beta_vae.py`, scikit-learn).

A point: draw a factor k and two batches of `batch_size` samples, the second copying factor k from the first
pair by pair; its feature is the mean over the batch of `|z1 - z2|` (L,), its label k. A logistic regression
learns k from the feature on `num_train` points; the score is its accuracy on `num_eval` fresh points. A
latent that holds factor k alone is 0 in the feature exactly when k is the label, so a disentangled code
scores 1; a constant code gives all-zero features, and the classifier can only guess one factor (1/K).

One change from the reference: the features are standardised (scikit-learn's `StandardScaler`, fitted on the
training points) before the logistic regression. Unscaled, lbfgs does not converge within its iterations on
features of an AE's scale (tens of units), and the L2-penalised score would depend on the code's units; scaled,
it is the same for any rescaling of the latents.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from latentatlas.latentmaps.disentanglement.sampling import FactorSampler, check_counts, fixed_factor_groups

REFERENCE = {"batch_size": 64, "num_train": 10_000, "num_eval": 5_000}  # disentanglement_lib's study (gin configs)
DEFAULTS = {**REFERENCE, "num_train": 400, "num_eval": 200}  # each point costs 2 x batch_size figures


@dataclass(frozen=True)
class BetaVAEResult:
    """Accuracies of the logistic regression on training and evaluation points."""

    eval_accuracy: float
    train_accuracy: float
    factor_names: tuple[str, ...]


def beta_vae_features(
    sampler: FactorSampler, num_points: int, batch_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Points of the BetaVAE score: features (P, L) = mean |z1 - z2| over each batch pair, labels (P,) = k."""
    feats, labels = [], []
    for ks, codes in fixed_factor_groups(sampler, num_points, batch_size, rng, pairs=True):  # (P, 2, B, L)
        feats.append(np.abs(codes[:, 0] - codes[:, 1]).mean(axis=1))
        labels.append(ks)
    return np.concatenate(feats), np.concatenate(labels)


def beta_vae_score(
    sampler: FactorSampler,
    seed: int = 0,
    batch_size: int = DEFAULTS["batch_size"],
    num_train: int = DEFAULTS["num_train"],
    num_eval: int = DEFAULTS["num_eval"],
) -> BetaVAEResult:
    """BetaVAE score of the sampler's codes.

    Args:
        sampler: draws factors and observes their codes (e.g. `ShapesSampler`).
        seed: seeds every draw and the classifier.
        batch_size: pairs per point (reference: 64).
        num_train, num_eval: training and evaluation points (reference: 10,000 and 5,000; 400 and 200 here,
            since each point costs 2 x `batch_size` rendered and encoded figures).
    """
    check_counts({"num_train": num_train, "num_eval": num_eval, "batch_size": batch_size})
    rng = np.random.default_rng(seed)
    x_train, y_train = beta_vae_features(sampler, num_train, batch_size, rng)
    x_eval, y_eval = beta_vae_features(sampler, num_eval, batch_size, rng)
    names = tuple(sampler.factor_names)
    if len(np.unique(y_train)) < 2:  # one factor, or too few points to draw two: a single class to predict
        return BetaVAEResult(float(np.mean(y_eval == y_train[0])), 1.0, names)
    model = make_pipeline(StandardScaler(), LogisticRegression(random_state=seed)).fit(x_train, y_train)
    return BetaVAEResult(float(model.score(x_eval, y_eval)), float(model.score(x_train, y_train)), names)
