"""Seed triplets and their split, image-level splits, validation triplets and P x K batches."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from latentatlas.data.triplets import (
    class_balanced_batches,
    fixed_val_triplets,
    seed_triplets,
    split_indices,
    split_triplets,
    triplet_leak,
)
from latentatlas.errors import DataError


def _cifar_like_labels(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).permutation(np.repeat(np.arange(10), 5000))


def test_seed_triplets_reproduce_the_series_counts():
    y = _cifar_like_labels()
    t = seed_triplets(y, seed=42)
    assert t.shape == (25_000, 3) and t.dtype == np.int64
    assert (y[t[:, 0]] == y[t[:, 1]]).all() and (y[t[:, 2]] != y[t[:, 0]]).all()
    # Brute-force reference of the pairing: class by class, consecutive images in dataset order.
    for c in range(10):
        block = t[c * 2500 : (c + 1) * 2500]
        members = [i for i in range(len(y)) if y[i] == c]
        assert block[:, 0].tolist() == members[0::2] and block[:, 1].tolist() == members[1::2]
        assert len(set(block[:, 2].tolist())) == 2500  # drawn without replacement
    assert np.array_equal(seed_triplets(y, seed=42), t) and not np.array_equal(seed_triplets(y, seed=1), t)
    train, val = split_triplets(t, val_fraction=0.05, seed=42)
    assert (len(train), len(val)) == (23_750, 1_250)
    rows = {tuple(r) for r in train.tolist()} | {tuple(r) for r in val.tolist()}
    assert rows == {tuple(r) for r in t.tolist()}  # a partition of the triplets


def test_triplet_leak_counts_shared_images():
    rng = np.random.default_rng(1)
    train, val = rng.integers(0, 40, (30, 3)), rng.integers(0, 40, (8, 3))
    expected = len({i for r in train for i in r} & {i for r in val for i in r})
    assert triplet_leak(train, val) == expected > 0
    t = seed_triplets(_cifar_like_labels(2)[:2000])
    assert triplet_leak(*split_triplets(t)) > 0  # the seed's split leaks images


def test_seed_triplets_errors():
    with pytest.raises(DataError, match="labels must be a non-empty 1-D integer array"):
        seed_triplets(np.zeros((2, 2), dtype=int))
    with pytest.raises(DataError, match="no class has two images"):
        seed_triplets([0, 1, 2])
    with pytest.raises(DataError, match="leaves a split empty"):
        split_triplets(np.zeros((3, 3), dtype=int), val_fraction=0.1)


@pytest.mark.parametrize("stratified", [True, False])
def test_split_indices_disjoint_complete_and_stratified(stratified):
    rng = np.random.default_rng(3)
    y = rng.permutation(np.repeat(np.arange(5), [100, 80, 60, 40, 20]))
    splits = split_indices(y, (0.8, 0.1, 0.1), seed=4, stratified=stratified)
    assert list(splits) == ["train", "val", "test"]
    together = np.concatenate(list(splits.values()))
    assert len(together) == len(y) and len(np.unique(together)) == len(y)  # each image exactly once
    assert abs(len(splits["train"]) - 0.8 * len(y)) <= 5
    if stratified:
        for name, frac in (("train", 0.8), ("val", 0.1), ("test", 0.1)):
            for c, n_c in zip(range(5), [100, 80, 60, 40, 20], strict=True):
                assert abs((y[splits[name]] == c).sum() - frac * n_c) < 1
    named = split_indices(y, {"fit": 0.5, "hold": 0.5})
    assert list(named) == ["fit", "hold"]
    with pytest.raises(DataError, match="must be positive and sum to 1"):
        split_indices(y, (0.8, 0.3))


def test_fixed_val_triplets_classes():
    y = np.random.default_rng(5).integers(0, 4, 60)
    y[0] = 7  # a class with a single image can be a negative, never an anchor
    t = fixed_val_triplets(y, 40, seed=6)
    assert t.shape == (40, 3) and len(set(t[:, 0].tolist())) == 40
    assert (y[t[:, 0]] == y[t[:, 1]]).all() and (t[:, 0] != t[:, 1]).all()
    assert (y[t[:, 2]] != y[t[:, 0]]).all() and (y[t[:, 0]] != 7).all()
    big = fixed_val_triplets(y, 5000, seed=7)
    assert set(big[:, 2].tolist()) == set(range(60))  # negatives reach every image, incl. the lone one
    assert np.array_equal(fixed_val_triplets(y, 40, seed=6), t)
    with pytest.raises(DataError, match="need >= 2 classes"):
        fixed_val_triplets([3, 3, 3], 2)


def test_pk_batches_cover_the_epoch():
    y = np.random.default_rng(8).permutation(np.repeat(np.arange(6), 40))
    sampler = class_balanced_batches(y, p=3, k=4, seed=9)
    n_batches = len(sampler)
    batches = list(sampler)
    assert len(batches) == n_batches == 20
    for b in batches:
        classes = y[b].reshape(3, 4)
        assert (classes == classes[:, :1]).all() and len(set(classes[:, 0].tolist())) == 3
    seen = np.concatenate(batches)
    assert len(seen) == len(y) and len(np.unique(seen)) == len(y)  # 60 chunks of 4 = every image once
    assert not np.array_equal(np.concatenate(list(sampler)), seen)  # the next epoch is shuffled anew
    sampler.set_epoch(0)
    assert np.array_equal(np.concatenate(list(sampler)), seen)


def test_pk_batches_small_classes_and_errors(caplog):
    y = np.array([0] * 10 + [1] * 3 + [2] * 7)
    with caplog.at_level(logging.WARNING, logger="latentatlas"):
        sampler = class_balanced_batches(y, p=2, k=4, seed=0, drop_last=False)
    assert "classes [1] have fewer than K=4 images" in caplog.text
    n_before = len(sampler)
    batches = list(sampler)
    assert len(batches) == n_before == 3  # 3 + 1 + 2 chunks, 2 per batch
    assert set(np.concatenate(batches).tolist()) == set(range(len(y)))
    for b in batches:
        classes = y[b].reshape(-1, 4)
        assert (classes == classes[:, :1]).all() and len(set(classes[:, 0].tolist())) == len(classes)
    with pytest.raises(DataError, match="P = 4 classes per batch but the labels hold 3"):
        class_balanced_batches(y, p=4, k=2, seed=0)
    with pytest.raises(DataError, match="K = 1 images per class"):
        class_balanced_batches(y, p=2, k=1, seed=0)
