"""Triplet losses against plain-Python references over every valid triplet."""

import math

import pytest
import torch

from latentatlas.errors import ConfigError, DataError
from latentatlas.losses.triplet import TripletLoss, get_distance, triplet_loss

MARGIN = 0.3


def d_ref(x, y, name):
    x, y = [float(v) for v in x], [float(v) for v in y]
    if name == "euclidean":
        return math.sqrt(sum((a - b) ** 2 for a, b in zip(x, y)))
    dot = sum(a * b for a, b in zip(x, y))
    return 1 - dot / math.sqrt(sum(a * a for a in x) * sum(b * b for b in y))


def batch(rng, n_classes=4, per_class=4, dim=5):
    labels = torch.tensor(rng.permutation(list(range(n_classes)) * per_class))
    return torch.tensor(rng.normal(size=(len(labels), dim))), labels


def ref_all(x, y, name):
    losses, n_valid = [], 0
    for a in range(len(x)):
        for p in range(len(x)):
            for n in range(len(x)):
                if a != p and y[a] == y[p] and y[a] != y[n]:
                    n_valid += 1
                    v = d_ref(x[a], x[p], name) - d_ref(x[a], x[n], name) + MARGIN
                    if v > 0:
                        losses.append(v)
    return sum(losses) / len(losses), len(losses) / n_valid


def ref_hard(x, y, name):
    losses = []
    for a in range(len(x)):
        pos = [d_ref(x[a], x[p], name) for p in range(len(x)) if p != a and y[p] == y[a]]
        neg = [d_ref(x[a], x[n], name) for n in range(len(x)) if y[n] != y[a]]
        losses.append(max(max(pos) - min(neg) + MARGIN, 0))
    return sum(losses) / len(losses)


def ref_semi_hard(x, y, name):
    losses = []
    for a in range(len(x)):
        negs = [d_ref(x[a], x[n], name) for n in range(len(x)) if y[n] != y[a]]
        for p in range(len(x)):
            if p == a or y[p] != y[a]:
                continue
            d_ap = d_ref(x[a], x[p], name)
            semi = [d for d in negs if d_ap < d < d_ap + MARGIN]
            d_an = min(semi) if semi else min(negs)
            losses.append(max(d_ap - d_an + MARGIN, 0))
    return sum(losses) / len(losses)


@pytest.mark.parametrize("name", ["cosine", "euclidean"])
def test_batch_all_matches_loop(rng, name):
    x, y = batch(rng)
    loss, stats = TripletLoss(MARGIN, name, "all")(x, y)
    want_loss, want_frac = ref_all(x, y, name)
    assert loss.item() == pytest.approx(want_loss, rel=1e-9)
    assert stats["active_fraction"] == pytest.approx(want_frac)
    assert stats["triplets"] == 4 * 4 * 3 * 12  # anchors * positives * negatives


@pytest.mark.parametrize("name", ["cosine", "euclidean"])
def test_batch_hard_matches_loop(rng, name):
    x, y = batch(rng)
    loss, _ = TripletLoss(MARGIN, name, "hard")(x, y)
    assert loss.item() == pytest.approx(ref_hard(x, y, name), rel=1e-9)


@pytest.mark.parametrize("name", ["cosine", "euclidean"])
def test_semi_hard_matches_loop(rng, name):
    x, y = batch(rng, dim=3)  # low dimension: a mix of semi-hard, hard-only and easy pairs
    loss, _ = TripletLoss(MARGIN, name, "semi_hard")(x, y)
    assert loss.item() == pytest.approx(ref_semi_hard(x, y, name), rel=1e-9)


def test_semi_hard_by_hand():
    # 1-D points, margin 0.1. Pair (0, 1): d_ap = 1, negatives at 0.5 / 0.6 are closer -> none semi-hard,
    # fall back to the hardest (0.5): 0.6. Pair (1, 0): negatives at 0.5 / 0.4 -> hardest 0.4: 0.7.
    # Class-1 pairs: d_ap = 0.1, every negative farther than 0.2 -> fallback gives a negative loss -> 0.
    # (TensorFlow's fallback to the *easiest* negative would give (0.5 + 0.6) / 4 instead.)
    x = torch.tensor([[0.0], [1.0], [0.5], [0.6]], dtype=torch.float64)
    y = torch.tensor([0, 0, 1, 1])
    loss, stats = TripletLoss(0.1, "euclidean", "semi_hard")(x, y)
    assert loss.item() == pytest.approx((0.6 + 0.7) / 4)
    assert stats["triplets"] == 4 and stats["active_fraction"] == 0.5
    # A semi-hard negative exists (at 1.05 from anchor 0, d_ap = 1): it is chosen over the closer 0.5.
    x2 = torch.tensor([[0.0], [1.0], [0.5], [-1.05]], dtype=torch.float64)
    loss2, _ = TripletLoss(0.1, "euclidean", "semi_hard")(x2[[0, 1, 3]], torch.tensor([0, 0, 1]))
    # pairs (0,1): semi-hard 1.05 -> 1 - 1.05 + 0.1 = 0.05; (1,0): d_ap 1, neg at 2.05 -> easy -> 0.
    assert loss2.item() == pytest.approx(0.05 / 2)


@pytest.mark.parametrize("name", ["cosine", "euclidean"])
def test_seed_triplet_loss_by_hand(rng, name):
    a, p, n = (torch.tensor(rng.normal(size=(6, 4))) for _ in range(3))
    want = sum(max(d_ref(a[i], p[i], name) - d_ref(a[i], n[i], name) + 0.4, 0) for i in range(6)) / 6
    assert triplet_loss(a, p, n, distance=name).item() == pytest.approx(want, rel=1e-9)
    loss, stats = TripletLoss(0.4, name)(torch.cat([a, p, n]))  # fixed-triplet mode: one stacked forward
    assert loss.item() == pytest.approx(want, rel=1e-9)
    assert stats["triplets"] == 6


def test_euclidean_duplicates_give_finite_gradients():
    x = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]], requires_grad=True)
    y = torch.tensor([0, 0, 1, 1])
    for mining in ("all", "hard", "semi_hard"):
        loss, _ = TripletLoss(0.5, "euclidean", mining)(x, y)
        loss.backward()
        assert torch.isfinite(loss) and torch.isfinite(x.grad).all()
        x.grad = None


def test_no_valid_triplet_gives_zero_with_graph():
    x = torch.randn(4, 3, requires_grad=True)
    loss, stats = TripletLoss(mining="hard")(x, torch.zeros(4, dtype=torch.long))
    loss.backward()
    assert loss.item() == 0 and stats["triplets"] == 0 and (x.grad == 0).all()


def test_errors():
    with pytest.raises(ConfigError, match="mining: unknown value 'hardest'"):
        TripletLoss(mining="hardest")
    with pytest.raises(ConfigError, match="distance: unknown value 'l1'"):
        get_distance("l1")
    with pytest.raises(ConfigError, match="margin: must be >= 0"):
        TripletLoss(margin=-1)
    with pytest.raises(DataError, match="7 rows is not 3T"):
        TripletLoss()(torch.randn(7, 3))
    with pytest.raises(DataError, match=r"labels: expected shape \(6,\)"):
        TripletLoss(mining="all")(torch.randn(6, 3), torch.zeros(5))
