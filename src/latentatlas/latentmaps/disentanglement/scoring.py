"""Pieces shared by the fixed-data scores: the seeded train/test split and the top-two gap."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import numpy as np

from latentatlas.errors import ConfigError, DataError

DEFAULT_TRAIN_FRACTION = 2 / 3  # disentanglement_lib's study draws 10,000 training and 5,000 test samples


def split_indices(
    n: int, train_fraction: float = DEFAULT_TRAIN_FRACTION, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random split of n samples into train and test indices (both non-empty).

    The samples are shuffled first: an embeddings file may be sorted by class, where the reference's split of
    fresh generator draws into their first and last part would not be random.
    """
    if not 0.0 < train_fraction < 1.0:
        raise ConfigError(f"train_fraction: {train_fraction}; use a fraction in (0, 1), e.g. 2/3")
    n_train = int(np.ceil(n * train_fraction))
    if n_train < 1 or n_train >= n:
        raise DataError(f"{n} samples cannot be split into train and test at {train_fraction:.2f}; use more samples")
    order = np.random.default_rng(seed).permutation(n)
    return order[:n_train], order[n_train:]


def check_classes(labels: np.ndarray, names: tuple[str, ...]) -> None:
    """Refuse training labels (N, K) in which a factor shows a single class: no classifier can be fit on them."""
    for k, name in enumerate(names):
        if len(np.unique(labels[:, k])) < 2:
            raise DataError(f"factor {name!r} has a single value among the training samples; use more samples")


def top_two_gap(matrix: np.ndarray) -> np.ndarray:
    """Per column (factor), best minus second-best entry over the rows (latents): (L, K) -> (K,).

    With a single latent (L = 1) the missing second-best counts as 0, so the gap is the best entry itself.
    """
    m = np.sort(np.asarray(matrix, dtype=np.float64), axis=0)[::-1]  # (L, K), descending per column
    second = m[1] if len(m) > 1 else np.zeros(m.shape[1])
    return m[0] - second


@contextlib.contextmanager
def known_classes() -> Iterator[None]:
    """Silence scikit-learn's "more unique classes than 50% of the samples ... could represent a regression
    problem" warning: the labels here are classes by construction (a discrete factor or a histogram bin), and a
    20-bin factor on a few dozen samples trips that heuristic."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The number of unique classes is greater than 50%")
        yield
