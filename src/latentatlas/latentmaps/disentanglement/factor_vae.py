"""The FactorVAE disentanglement score (Kim & Mnih 2018, "Disentangling by Factorising", sec. 4), as
disentanglement_lib computes it (`factor_vae.py`).

1. The global variance of each latent over `num_variance_estimate` fresh samples (ddof = 1); latents whose
   standard deviation is below `prune_threshold` (0.05 in the study) have collapsed and are left out.
2. A training point: draw a factor k, a batch of `batch_size` samples with factor k fixed to one value, and
   take the active latent with the smallest variance in the batch divided by its global variance. The pair
   (k, that latent) is one vote.
3. The classifier is a majority vote: each latent predicts the factor that voted for it most often. The
   score is its accuracy on `num_eval` fresh points (`train_accuracy` on the training votes).

A perfectly disentangled code sends factor k's votes to its own latent (accuracy 1); with no active latent the
score is 0, as in the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latentatlas.latentmaps.disentanglement.sampling import (
    FactorSampler,
    check_counts,
    fixed_factor_groups,
    observe_all,
)

REFERENCE = {  # disentanglement_lib's study (its gin configs)
    "batch_size": 64,
    "num_train": 10_000,
    "num_eval": 5_000,
    "num_variance_estimate": 10_000,
    "prune_threshold": 0.05,
}
DEFAULTS = {**REFERENCE, "num_train": 800, "num_eval": 400}  # each point costs batch_size figures


@dataclass(frozen=True)
class FactorVAEResult:
    """Accuracies of the majority-vote classifier, the vote matrices (K, L) and the active latents (L,)."""

    eval_accuracy: float
    train_accuracy: float
    num_active: int
    active: np.ndarray  # (L,) bool
    train_votes: np.ndarray  # (K, L) int64
    eval_votes: np.ndarray  # (K, L) int64
    factor_names: tuple[str, ...]


def _votes(sampler, num_points, batch_size, rng, global_var, active) -> np.ndarray:
    """(K, L) counts of (fixed factor, active latent of least normalised batch variance)."""
    votes = np.zeros((len(sampler.factor_names), len(global_var)), dtype=np.int64)
    idx = np.flatnonzero(active)
    for ks, codes in fixed_factor_groups(sampler, num_points, batch_size, rng):  # codes (P, B, L)
        local = codes.var(axis=1, ddof=1)[:, idx] / global_var[idx]  # (P, A)
        np.add.at(votes, (ks, idx[local.argmin(axis=1)]), 1)
    return votes


def _accuracy(votes: np.ndarray, predicted: np.ndarray) -> float:
    total = votes.sum()
    return float(votes[predicted, np.arange(votes.shape[1])].sum() / total) if total else 0.0


def factor_vae_score(
    sampler: FactorSampler,
    seed: int = 0,
    batch_size: int = DEFAULTS["batch_size"],
    num_train: int = DEFAULTS["num_train"],
    num_eval: int = DEFAULTS["num_eval"],
    num_variance_estimate: int = DEFAULTS["num_variance_estimate"],
    prune_threshold: float = DEFAULTS["prune_threshold"],
) -> FactorVAEResult:
    """FactorVAE score of the sampler's codes.

    Args:
        sampler: draws factors and observes their codes (e.g. `ShapesSampler`).
        seed: seeds every draw.
        batch_size: samples per training point, all sharing the fixed factor's value (reference: 64).
        num_train, num_eval: training and evaluation points (reference: 10,000 and 5,000; 800 and 400 here,
            since each point costs `batch_size` rendered and encoded figures).
        num_variance_estimate: samples for the global variances (reference: 10,000).
        prune_threshold: latents with a global standard deviation below it are collapsed (reference: 0.05).
    """
    check_counts({"num_train": num_train, "num_eval": num_eval})
    check_counts({"batch_size": batch_size, "num_variance_estimate": num_variance_estimate}, minimum=2)
    rng = np.random.default_rng(seed)
    names = tuple(sampler.factor_names)
    global_var = observe_all(sampler, sampler.sample(num_variance_estimate, rng)).var(axis=0, ddof=1)  # (L,)
    active = np.sqrt(global_var) >= prune_threshold
    empty = np.zeros((len(names), len(global_var)), dtype=np.int64)
    if not active.any():
        return FactorVAEResult(0.0, 0.0, 0, active, empty, empty, names)
    train_votes = _votes(sampler, num_train, batch_size, rng, global_var, active)
    predicted = train_votes.argmax(axis=0)  # (L,) the factor each latent stands for
    eval_votes = _votes(sampler, num_eval, batch_size, rng, global_var, active)
    return FactorVAEResult(
        _accuracy(eval_votes, predicted), _accuracy(train_votes, predicted), int(active.sum()), active,
        train_votes, eval_votes, names,
    )  # fmt: skip
