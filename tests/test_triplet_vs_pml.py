"""`TripletLoss` (fixed triplets and each mining mode) against pytorch-metric-learning's `TripletMarginLoss` and
miners, on fresh random data: equal values and equal gradients where the definitions match.

Where they match and where they differ:
- fixed triplets (`mining=none`): PML's loss on `indices_tuple=(a, p, n)` with a `MeanReducer` (our mean counts the
  zero losses; PML's default `AvgNonZeroReducer` does not);
- `all`: PML's loss over all triplets with its default `AvgNonZeroReducer` (mean over the triplets with a positive
  loss, Hermans et al.'s "batch all"), no miner;
- `hard`: PML's `BatchHardMiner` (per anchor its farthest positive and closest negative) with a `MeanReducer`;
- `semi_hard` DIFFERS: PML's `TripletMarginMiner("semihard")` keeps every triplet with 0 < d(a,n) - d(a,p) <= margin,
  while ours (FaceNet, Schroff et al. 2015) keeps per (anchor, positive) only the closest of them, and the closest
  negative when there is none. The test rebuilds ours from PML's mined set: the minimum over PML's semi-hard
  negatives of each pair, else the pair's hardest negative.
"""

from __future__ import annotations

import pytest
import torch
from pytorch_metric_learning import losses, miners, reducers
from pytorch_metric_learning.distances import CosineSimilarity, LpDistance

from latentatlas.losses.triplet import TripletLoss

MARGIN = 0.3


def pml_distance(name: str):
    return CosineSimilarity() if name == "cosine" else LpDistance(normalize_embeddings=False, p=2, power=1)


def batch(rng, n_classes=4, per_class=5, dim=6):
    x = torch.tensor(rng.normal(size=(n_classes * per_class, dim)), dtype=torch.float64, requires_grad=True)
    labels = torch.arange(n_classes).repeat_interleave(per_class)
    return x, labels


def value_and_grad(loss: torch.Tensor, x: torch.Tensor) -> tuple[float, torch.Tensor]:
    (grad,) = torch.autograd.grad(loss, x)
    return float(loss.detach()), grad


def assert_same(ours: torch.Tensor, theirs: torch.Tensor, x: torch.Tensor) -> None:
    v1, g1 = value_and_grad(ours, x)
    v2, g2 = value_and_grad(theirs, x)
    assert v1 == pytest.approx(v2, rel=1e-10, abs=1e-12)
    torch.testing.assert_close(g1, g2, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["cosine", "euclidean"])
def test_fixed_triplets_equal_pml_with_a_mean_reducer(rng, name):
    x, _ = batch(rng)
    t = len(x) // 3
    ours = TripletLoss(MARGIN, name, "none")(x[: 3 * t])[0]  # rows: anchors, positives, negatives
    idx = torch.arange(t)
    pml = losses.TripletMarginLoss(MARGIN, distance=pml_distance(name), reducer=reducers.MeanReducer())
    dummy = torch.arange(3 * t)  # labels are ignored when indices_tuple is given
    theirs = pml(x[: 3 * t], dummy, indices_tuple=(idx, idx + t, idx + 2 * t))
    assert_same(ours, theirs, x)


@pytest.mark.parametrize("name", ["cosine", "euclidean"])
def test_batch_all_equals_pml_over_all_triplets(rng, name):
    x, labels = batch(rng)
    ours = TripletLoss(MARGIN, name, "all")(x, labels)[0]
    theirs = losses.TripletMarginLoss(MARGIN, distance=pml_distance(name))(x, labels)
    assert_same(ours, theirs, x)


@pytest.mark.parametrize("name", ["cosine", "euclidean"])
def test_batch_hard_equals_pml_batch_hard_miner(rng, name):
    x, labels = batch(rng)
    ours = TripletLoss(MARGIN, name, "hard")(x, labels)[0]
    distance = pml_distance(name)
    mined = miners.BatchHardMiner(distance=distance)(x, labels)
    pml = losses.TripletMarginLoss(MARGIN, distance=distance, reducer=reducers.MeanReducer())
    assert_same(ours, pml(x, labels, indices_tuple=mined), x)


@pytest.mark.parametrize("name", ["cosine", "euclidean"])
def test_semi_hard_is_the_closest_of_pml_semihard_negatives(rng, name):
    x, labels = batch(rng, per_class=6)
    ours = TripletLoss(MARGIN, name, "semi_hard")(x, labels)[0]
    distance = pml_distance(name)
    a, p, n = miners.TripletMarginMiner(MARGIN, type_of_triplets="semihard", distance=distance)(x, labels)
    d = distance(x)
    d = d if name == "euclidean" else 1 - d  # PML's cosine is a similarity; ours is the distance 1 - cos
    same = labels[:, None] == labels[None, :]
    terms = []
    for i in range(len(x)):
        for j in range(len(x)):
            if i == j or not same[i, j]:
                continue
            semi = n[(a == i) & (p == j)]
            negative = d[i, semi].min() if len(semi) else d[i, ~same[i]].min()
            terms.append(torch.relu(d[i, j] - negative + MARGIN))
    assert len(a) > 0  # the data has semi-hard triplets for PML's miner to find
    assert_same(ours, torch.stack(terms).mean(), x)
