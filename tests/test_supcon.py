"""Supervised contrastive loss against pytorch-metric-learning and a plain-Python reference."""

import math

import pytest
import torch
from pytorch_metric_learning import losses as pml_losses

from latentatlas.errors import ConfigError, DataError
from latentatlas.losses.supcon import SupConLoss
from tests.metric_reference import assert_same_loss_and_grads, labelled_batch, value_and_grads


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("temperature", [0.1, 0.5])
def test_matches_pml_values_and_gradients(rng, dtype, temperature):
    x, labels = labelled_batch(rng, 5, 4, 8, dtype)
    mine = value_and_grads(SupConLoss(temperature)(x, labels)[0], [x])
    theirs = value_and_grads(pml_losses.SupConLoss(temperature)(x, labels), [x])
    assert_same_loss_and_grads(mine, theirs, dtype)


def test_anchors_without_positive_are_left_out_as_in_pml(rng):
    x, labels = labelled_batch(rng, 4, 2, 5)
    x2 = torch.cat([x.detach(), torch.randn(3, 5, dtype=x.dtype)]).requires_grad_(True)
    labels2 = torch.cat([labels, torch.tensor([7, 8, 9])])  # three singletons: negatives only
    value, stats = SupConLoss()(x2, labels2)
    assert stats == {"anchors": 8.0}
    mine = value_and_grads(value, [x2])
    assert_same_loss_and_grads(mine, value_and_grads(pml_losses.SupConLoss()(x2, labels2), [x2]), torch.float64)


def reference(x, labels, temperature):
    """Khosla et al. (2020), L^sup_out, averaged over anchors with a positive, in plain loops."""
    rows = [[v / math.sqrt(sum(a * a for a in r)) for v in r] for r in x.tolist()]
    labels = labels.tolist()
    losses = []
    for i, zi in enumerate(rows):
        dots = [sum(a * b for a, b in zip(zi, zj)) / temperature for zj in rows]
        log_z = math.log(sum(math.exp(d) for j, d in enumerate(dots) if j != i))
        positives = [j for j in range(len(rows)) if j != i and labels[j] == labels[i]]
        if positives:
            losses.append(-sum(dots[p] - log_z for p in positives) / len(positives))
    return sum(losses) / len(losses)


@pytest.mark.parametrize("classes", [3, 1])  # one class: no negatives, where PML returns 0
def test_matches_loop(rng, classes):
    x, labels = labelled_batch(rng, classes, 4, 6)
    assert SupConLoss(0.3)(x, labels)[0].item() == pytest.approx(reference(x.detach(), labels, 0.3), rel=1e-12)


def test_float32_and_large_logits_stay_finite(rng):
    x, labels = labelled_batch(rng, 4, 4, 8, torch.float32)
    value, _ = SupConLoss(temperature=0.005)(x, labels)  # cosines / T up to 200: exp would overflow float32
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(x.grad).all()


def test_errors():
    with pytest.raises(DataError, match="supcon: no image in the batch shares its class.*needs >= 2 images per class"):
        SupConLoss()(torch.randn(4, 3), torch.arange(4))
    with pytest.raises(ConfigError, match=r"supcon.temperature: must be > 0.0, got -0.1; use e.g. 0.1"):
        SupConLoss(-0.1)
    with pytest.raises(ConfigError, match="supcon: the batch needs >= 2 images per class.*images_per_class=1"):
        SupConLoss.check_batch(16, 1)
    SupConLoss.check_batch(10, 2)
