"""Triplets, splits and class-balanced batches over integer labels.

`seed_triplets` + `split_triplets` reproduce the seed series' protocol (25,000 triplets on CIFAR-10's training
set, split 95/5 by triplet) including its flaw: an image may sit in a training triplet and a validation triplet
at once; `triplet_leak` counts such images. `split_indices` splits by image instead, which cannot leak, and
`fixed_val_triplets` builds validation triplets inside one split. `ClassBalancedBatches` draws P classes x K
images per batch, the sampling of batch-hard / batch-all triplet mining (Hermans et al., 2017, "In Defense of
the Triplet Loss for Person Re-Identification").
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import torch

from latentatlas.errors import DataError

__all__ = [
    "ClassBalancedBatches",
    "class_balanced_batches",
    "fixed_val_triplets",
    "seed_triplets",
    "split_indices",
    "split_triplets",
    "triplet_leak",
]

log = logging.getLogger("latentatlas")


def _as_labels(labels: Sequence[int] | np.ndarray | torch.Tensor) -> np.ndarray:
    """labels as a 1-D non-negative int64 array."""
    arr = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise DataError(f"labels must be a non-empty 1-D integer array, got {arr.dtype} {arr.shape}")
    if arr.min() < 0:
        raise DataError(f"labels must be >= 0, got {int(arr.min())}; map classes to 0..C-1")
    return arr.astype(np.int64, copy=False)


def seed_triplets(labels: Sequence[int] | np.ndarray | torch.Tensor, seed: int = 42) -> np.ndarray:
    """The seed series' triplets: consecutive same-class pairs plus one negative per pair.

    Class by class (sorted ids), the class's images in dataset order form pairs (image 2i = anchor, 2i+1 =
    positive; an odd last image is unused); the class's negatives are drawn without replacement from all images
    of other classes with one `np.random.default_rng(seed)` stream, so negatives are unique within a class's
    triplets (an image can be a negative for two different classes, as in the series).

    Args:
        labels: (N,) class ids.

    Returns:
        (T, 3) int64 image indices (anchor, positive, negative); T = sum over classes of n_c // 2.
    """
    y = _as_labels(labels)
    rng = np.random.default_rng(seed)
    parts = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        others = np.flatnonzero(y != c)
        n_pairs = len(members) // 2
        if n_pairs == 0:
            continue
        if len(others) < n_pairs:
            raise DataError(f"class {c} has {n_pairs} pairs but only {len(others)} images of other classes")
        negatives = rng.choice(others, size=n_pairs, replace=False)
        parts.append(np.stack([members[0 : 2 * n_pairs : 2], members[1 : 2 * n_pairs : 2], negatives], axis=1))
    if not parts:
        raise DataError("no class has two images; triplets need an anchor and a positive of the same class")
    return np.concatenate(parts).astype(np.int64)


def split_triplets(triplets: np.ndarray, val_fraction: float = 0.05, seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle triplets with `seed` and cut off round(T * val_fraction) for validation (the seed's 95/5 split).

    Returns:
        train: (T - V, 3) and val: (V, 3) int64. Images may appear in both; see `triplet_leak`.
    """
    t = np.asarray(triplets)
    if t.ndim != 2 or t.shape[1] != 3:
        raise DataError(f"triplets must have shape (T, 3), got {t.shape}")
    if not 0.0 < val_fraction < 1.0:
        raise DataError(f"val_fraction must be in (0, 1), got {val_fraction}")
    n_val = int(round(len(t) * val_fraction))
    if n_val == 0 or n_val == len(t):
        raise DataError(f"val_fraction {val_fraction} of {len(t)} triplets leaves a split empty; change it")
    order = np.random.default_rng(seed).permutation(len(t))
    return t[order[n_val:]], t[order[:n_val]]


def triplet_leak(train_triplets: np.ndarray, val_triplets: np.ndarray) -> int:
    """Number of distinct images that appear in at least one train triplet and one val triplet."""
    return int(np.intersect1d(np.asarray(train_triplets).ravel(), np.asarray(val_triplets).ravel()).size)


def _split_counts(n: int, fractions: np.ndarray) -> np.ndarray:
    """Integer counts summing to n, closest to n * fractions (largest remainder)."""
    exact = n * fractions
    counts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


def split_indices(
    labels: Sequence[int] | np.ndarray | torch.Tensor,
    fractions: Sequence[float] | Mapping[str, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    stratified: bool = True,
) -> dict[str, np.ndarray]:
    """Split images (not triplets) into disjoint sets.

    Args:
        labels: (N,) class ids.
        fractions: 2 or 3 fractions named train, val(, test), or a mapping name -> fraction; they sum to 1.
        seed: seed of the shuffle.
        stratified: split each class separately, so every split has (up to rounding) the same class mix.

    Returns:
        name -> sorted int64 image indices; every image is in exactly one split.
    """
    y = _as_labels(labels)
    if isinstance(fractions, Mapping):
        names, fr = list(fractions), np.array(list(fractions.values()), dtype=np.float64)
    else:
        fr = np.array(list(fractions), dtype=np.float64)
        if len(fr) not in (2, 3):
            raise DataError(f"give 2 or 3 fractions (train, val[, test]) or a mapping, got {len(fr)}")
        names = ["train", "val", "test"][: len(fr)]
    if (fr <= 0).any() or abs(fr.sum() - 1.0) > 1e-6:
        raise DataError(f"split fractions must be positive and sum to 1, got {fr.tolist()}")
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(y == c) for c in np.unique(y)] if stratified else [np.arange(len(y))]
    out: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for members in groups:
        shuffled = rng.permutation(members)
        bounds = np.cumsum(_split_counts(len(members), fr))[:-1]
        for name, part in zip(names, np.split(shuffled, bounds), strict=True):
            out[name].append(part)
    return {name: np.sort(np.concatenate(parts)).astype(np.int64) for name, parts in out.items()}


def fixed_val_triplets(labels: Sequence[int] | np.ndarray | torch.Tensor, n: int, seed: int = 0) -> np.ndarray:
    """n random triplets inside one split: anchor, a different image of its class, an image of another class.

    Anchors are distinct while n allows (drawn from images whose class has >= 2 images). Sampling is vectorized
    over images sorted by class: a class is a contiguous block, so "same class except the anchor" and "any other
    class" are offsets into that order.

    Args:
        labels: (N,) class ids of the split; returned indices are positions in this array.

    Returns:
        (n, 3) int64 (anchor, positive, negative).
    """
    y = _as_labels(labels)
    if n < 1:
        raise DataError(f"n must be >= 1 triplets, got {n}")
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    if len(classes) < 2 or counts.max() < 2:
        raise DataError("validation triplets need >= 2 classes and a class with >= 2 images; enlarge the split")
    rng = np.random.default_rng(seed)
    order = np.argsort(inverse, kind="stable")  # images grouped by class
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(len(y), dtype=np.int64)
    rank[order] = np.arange(len(y)) - starts[inverse[order]]  # position of each image in its class block
    eligible = np.flatnonzero(counts[inverse] >= 2)
    anchors = rng.choice(eligible, size=n, replace=n > len(eligible))
    c = inverse[anchors]
    r = rng.integers(0, counts[c] - 1)  # among the class's other images
    positives = order[starts[c] + r + (r >= rank[anchors])]
    r = rng.integers(0, len(y) - counts[c])  # among images outside the class block
    negatives = order[np.where(r < starts[c], r, r + counts[c])]
    return np.stack([anchors, positives, negatives], axis=1).astype(np.int64)


class ClassBalancedBatches:
    """Batches of P distinct classes x K images each, covering each epoch's images about once.

    Per epoch every class's images are shuffled and cut into chunks of K; a last short chunk is filled up
    with other images of the same class, and a class with fewer than K images gives one chunk of all its
    images plus repeats drawn with replacement (logged once). Each batch takes one chunk from each of the P
    classes with most chunks left (ties broken at random), so classes run out together and, whenever
    possible, every chunk is used. With `drop_last`, batching stops when fewer than P classes have chunks
    left; otherwise those remaining chunks form final batches of fewer classes.
    Epoch e uses seed (seed, e); iterating advances the epoch, `set_epoch` sets it.

    Yields:
        (P * K,) int64 image indices, grouped by class (K consecutive entries per class).
    """

    def __init__(
        self, labels: Sequence[int] | np.ndarray | torch.Tensor, p: int, k: int, seed: int = 0, drop_last: bool = True
    ) -> None:
        y = _as_labels(labels)
        self.classes = np.unique(y)
        if k < 2:
            raise DataError(f"K = {k} images per class cannot form a positive pair; use k >= 2")
        if not 1 <= p <= len(self.classes):
            raise DataError(f"P = {p} classes per batch but the labels hold {len(self.classes)}; lower p")
        self.p, self.k, self.seed, self.drop_last, self.epoch = p, k, seed, drop_last, 0
        self.members = [np.flatnonzero(y == c) for c in self.classes]
        small = [int(c) for c, m in zip(self.classes, self.members, strict=True) if len(m) < k]
        if small:
            log.warning("classes %s have fewer than K=%d images: they are sampled with replacement", small, k)
        self._plan_cache: tuple[int, list[np.ndarray]] | None = None

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration produce epoch `epoch`'s batches."""
        self.epoch = epoch

    def _chunks(self, rng: np.random.Generator, members: np.ndarray) -> list[np.ndarray]:
        if len(members) < self.k:
            # Every image once, then repeats drawn with replacement up to K.
            extra = rng.choice(members, size=self.k - len(members), replace=True)
            return [np.concatenate([rng.permutation(members), extra])]
        shuffled = rng.permutation(members)
        chunks = [shuffled[i : i + self.k] for i in range(0, len(shuffled), self.k)]
        short = self.k - len(chunks[-1])
        if short:
            rest = np.setdiff1d(members, chunks[-1])
            chunks[-1] = np.concatenate([chunks[-1], rng.choice(rest, size=short, replace=short > len(rest))])
        return chunks

    def _plan(self, epoch: int) -> list[np.ndarray]:
        if self._plan_cache is not None and self._plan_cache[0] == epoch:
            return self._plan_cache[1]
        rng = np.random.default_rng([self.seed, epoch])
        chunks = [self._chunks(rng, m) for m in self.members]
        left = np.array([len(c) for c in chunks])
        batches = []
        while (left > 0).sum() >= self.p:
            # The P classes with most chunks left, ties broken at random: this greedy order uses every chunk
            # whenever that is possible (no class is left alone with chunks while others ran out early).
            chosen = np.argsort(-(left + rng.random(len(left))), kind="stable")[: self.p]
            left[chosen] -= 1
            batches.append(np.concatenate([chunks[c][left[c]] for c in chosen]))
        if not self.drop_last:
            while left.any():
                chosen = np.flatnonzero(left)[: self.p]
                left[chosen] -= 1
                batches.append(np.concatenate([chunks[c][left[c]] for c in chosen]))
        plan = [b.astype(np.int64) for b in batches]
        self._plan_cache = (epoch, plan)
        return plan

    def __len__(self) -> int:
        return len(self._plan(self.epoch))

    def __iter__(self) -> Iterator[np.ndarray]:
        plan = self._plan(self.epoch)
        self.epoch += 1
        return iter(plan)


def class_balanced_batches(
    labels: Sequence[int] | np.ndarray | torch.Tensor, p: int, k: int, seed: int = 0, drop_last: bool = True
) -> ClassBalancedBatches:
    """P x K batch sampler over `labels` (N,); see `ClassBalancedBatches`."""
    return ClassBalancedBatches(labels, p, k, seed=seed, drop_last=drop_last)
