"""Splits and triplets of a metric-learning run, by image (default) or as the seed series did (by triplet)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from latentatlas.config import Config
from latentatlas.data.images import load_image_dataset
from latentatlas.data.imageset import ImageSet, cache_root
from latentatlas.data.triplets import fixed_val_triplets, seed_triplets, split_indices, split_triplets, triplet_leak
from latentatlas.errors import DataError

log = logging.getLogger("latentatlas")


@dataclass
class MetricData:
    """All images of a run in memory, and which of them each split uses (global indices into `images`).

    `train_triplets` (seed mode only) and `val_triplets_local` (positions inside `val_idx`) are (T, 3) int64.
    """

    images: ImageSet
    labels_np: np.ndarray
    train_idx: np.ndarray
    val_idx: np.ndarray
    test_idx: np.ndarray
    val_triplets_local: np.ndarray
    train_triplets: np.ndarray | None = None
    leak: int = 0


def _has_official_test(path: str, data_dir: str | None) -> bool:
    if path.lower() in ("cifar10", "cifar-10"):
        root = Path(data_dir).expanduser() if data_dir else cache_root() / "cifar10"
        return any(root.rglob("test_batch.bin")) or any(root.glob("cifar-10-binary.tar.gz"))
    p = Path(path).expanduser()
    return p.is_dir() and ((p / "test_batch.bin").exists() or (p / "cifar-10-batches-bin" / "test_batch.bin").exists())


def _stratified_head(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """About `n` indices with every class in proportion (seeded), sorted."""
    if n >= len(labels):
        return np.arange(len(labels))
    frac = n / len(labels)
    parts = split_indices(labels, {"keep": frac, "drop": 1 - frac}, seed=seed)
    return parts["keep"]


def _concat(a: ImageSet, b: ImageSet) -> ImageSet:
    if a.images.shape[1:] != b.images.shape[1:]:
        raise DataError(f"train images {tuple(a.images.shape[1:])} and test images {tuple(b.images.shape[1:])} differ")
    return ImageSet(torch.cat([a.images, b.images]), torch.cat([a.labels, b.labels]), a.class_names, a.source)


def load_metric_data(config: Config) -> MetricData:
    """Load the images once and cut them into train / val / test as `config.data.images` says."""
    im, seed = config.data.images, config.seed
    train_set = load_image_dataset(im.path, data_dir=im.data_dir, download=im.download, split="train")
    official_test = _has_official_test(im.path, im.data_dir)
    test_set = load_image_dataset(im.path, data_dir=im.data_dir, split="test") if official_test else None
    labels = train_set.labels.numpy()
    pool = _stratified_head(labels, im.limit, seed) if im.limit else np.arange(len(labels))
    if len(np.unique(labels[pool])) < 2:
        raise DataError(f"{im.path}: metric learning needs at least 2 classes, found {len(np.unique(labels[pool]))}")
    if test_set is not None:
        t_labels = test_set.labels.numpy()
        t_keep = _stratified_head(t_labels, max(im.limit // 5, 20), seed) if im.limit else np.arange(len(t_labels))
        test_idx = len(labels) + t_keep
        images = _concat(train_set, test_set)
    else:
        images = train_set
        parts = split_indices(labels[pool], {"pool": 1 - im.split[2], "test": im.split[2]}, seed=seed)
        test_idx, pool = pool[parts["test"]], pool[parts["pool"]]
    all_labels = images.labels.numpy()
    if im.triplets == "seed":
        return _seed_protocol(images, all_labels, pool, test_idx, seed, im.folds, im.fold)
    if im.folds:
        in_val = fold_ids(all_labels[pool], im.folds, seed) == im.fold
        train_idx, val_idx = pool[~in_val], pool[in_val]
    else:
        train_frac = im.split[0] / (im.split[0] + im.split[1])
        parts = split_indices(all_labels[pool], {"train": train_frac, "val": 1 - train_frac}, seed=seed)
        train_idx, val_idx = pool[parts["train"]], pool[parts["val"]]
    val_t = fixed_val_triplets(all_labels[val_idx], im.val_triplets, seed=seed)
    log.info("images: %d train, %d val, %d test (split by image)", len(train_idx), len(val_idx), len(test_idx))
    return MetricData(images, all_labels, train_idx, val_idx, np.sort(test_idx), val_t)


def fold_ids(labels: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """A fold number in 0..folds-1 per item, stratified by label (each class dealt round-robin after a shuffle)."""
    rng = np.random.default_rng([seed, folds])
    ids = np.empty(len(labels), dtype=np.int64)
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        ids[members] = (np.arange(len(members)) + rng.integers(folds)) % folds
    return ids


def _seed_protocol(
    images: ImageSet, labels: np.ndarray, pool: np.ndarray, test_idx: np.ndarray, seed: int, folds: int, fold: int
) -> MetricData:
    """The series' construction: triplets over the pool in dataset order, 95/5 split by triplet (seed 42 there);
    with `folds`, k-fold cross-validation over the triplets as in the series' part 3."""
    triplets = pool[seed_triplets(labels[pool], seed=seed)]
    if folds:
        in_val = fold_ids(labels[triplets[:, 0]], folds, seed) == fold
        train_t, val_t = triplets[~in_val], triplets[in_val]
    else:
        train_t, val_t = split_triplets(triplets, 0.05, seed=seed)
    leak = triplet_leak(train_t, val_t)
    if leak:
        log.warning(
            "triplets: seed: %d images appear in both train and val triplets (the series splits triplets, not "
            "images); validation numbers are optimistic - use triplets=mined for an image-level split",
            leak,
        )
    val_idx = np.unique(val_t)
    train_idx = np.unique(train_t)
    val_local = np.searchsorted(val_idx, val_t)
    log.info("seed triplets: %d train, %d val; %d test images", len(train_t), len(val_t), len(test_idx))
    return MetricData(images, labels, train_idx, val_idx, np.sort(test_idx), val_local, train_t, leak)
