"""Normalized softmax (cosine classifier) against pytorch-metric-learning and a plain-Python reference."""

import math

import pytest
import torch
from pytorch_metric_learning import losses as pml_losses

from latentatlas.errors import ConfigError, DataError
from latentatlas.losses.normalized_softmax import NormalizedSoftmaxLoss
from tests.metric_reference import assert_same_loss_and_grads, labelled_batch, value_and_grads

C, D = 5, 8


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("temperature", [0.05, 0.7])
def test_matches_pml_values_and_gradients(rng, dtype, temperature):
    x, labels = labelled_batch(rng, C, 4, D, dtype, scale=3.0)
    ours = NormalizedSoftmaxLoss(C, D, temperature).to(dtype)
    theirs = pml_losses.NormalizedSoftmaxLoss(C, D, temperature=temperature).to(dtype)
    with torch.no_grad():
        theirs.W.copy_(ours.weight.T)  # PML's layout is (D, C)
    mine = value_and_grads(ours(x, labels)[0], [x, ours.weight])
    value, (gx, gw) = value_and_grads(theirs(x, labels), [x, theirs.W])
    assert_same_loss_and_grads(mine, (value, [gx, gw.T]), dtype)


def reference(x, labels, weight, temperature, smoothing):
    """Plain loops: smoothed cross-entropy of cos(x_i, w_c) / T, averaged over rows."""
    total = 0.0
    for row, y in zip(x.tolist(), labels.tolist()):
        logits = []
        for w in weight.tolist():
            dot = sum(a * b for a, b in zip(row, w))
            logits.append(dot / math.sqrt(sum(a * a for a in row) * sum(b * b for b in w)) / temperature)
        log_z = math.log(sum(math.exp(v) for v in logits))
        nll = [log_z - v for v in logits]
        total += (1 - smoothing) * nll[y] + smoothing * sum(nll) / len(nll)
    return total / len(labels)


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.5])
def test_label_smoothing_matches_loop(rng, smoothing):
    x, labels = labelled_batch(rng, C, 3, D)
    loss = NormalizedSoftmaxLoss(C, D, temperature=0.2, label_smoothing=smoothing).double()
    want = reference(x.detach(), labels, loss.weight.detach(), 0.2, smoothing)
    assert loss(x, labels)[0].item() == pytest.approx(want, rel=1e-12)


def test_weights_are_trainable_parameters_and_round_trip(rng):
    x, labels = labelled_batch(rng, C, 4, D, torch.float32)
    loss = NormalizedSoftmaxLoss(C, D)
    assert [name for name, _ in loss.named_parameters()] == ["weight"]
    assert loss.weight.shape == (C, D) and list(loss.state_dict()) == ["weight"]
    before = loss.weight.detach().clone()
    optimizer = torch.optim.SGD(loss.parameters(), lr=0.1)
    loss(x, labels)[0].backward()
    optimizer.step()
    assert not torch.equal(before, loss.weight)
    restored = NormalizedSoftmaxLoss(C, D)
    restored.load_state_dict(loss.state_dict())
    assert torch.equal(restored(x, labels)[0], loss(x, labels)[0])  # bitwise


def test_float64_embeddings_reach_float32_weights(rng):
    x, labels = labelled_batch(rng, C, 2, D, torch.float64)
    loss = NormalizedSoftmaxLoss(C, D)  # float32 parameters
    value, _ = loss(x, labels)
    value.backward()
    assert value.dtype == torch.float64 and loss.weight.grad.dtype == torch.float32
    assert torch.isfinite(loss.weight.grad).all() and loss.weight.dtype == torch.float32


def test_accuracy_by_hand():
    loss = NormalizedSoftmaxLoss(3, 2)
    with torch.no_grad():
        loss.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]))
    x = torch.tensor([[2.0, 0.1], [0.1, 3.0], [-1.0, 0.2], [1.0, 0.0]])
    _, stats = loss(x, torch.tensor([0, 1, 2, 2]))
    assert stats == {"accuracy": 0.75}


def test_errors():
    loss = NormalizedSoftmaxLoss(C, D)
    with pytest.raises(DataError, match=r"labels must lie in \[0, 5\), got range \[0, 5\]; map class ids"):
        loss(torch.randn(3, D), torch.tensor([0, 1, 5]))
    with pytest.raises(DataError, match=r"got range \[-1, 1\]"):
        loss(torch.randn(3, D), torch.tensor([0, 1, -1]))
    with pytest.raises(DataError, match="embeddings have 7 dims, the loss was built for 8"):
        loss(torch.randn(3, 7), torch.tensor([0, 1, 2]))
    with pytest.raises(DataError, match="labels must be integer class ids, got torch.float32"):
        loss(torch.randn(3, D), torch.zeros(3))
    with pytest.raises(DataError, match=r"embeddings must be float \(B >= 1, D\)"):
        loss(torch.randn(0, D), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ConfigError, match=r"normalized_softmax.temperature: must be > 0.0, got 0; use e.g. 0.05"):
        NormalizedSoftmaxLoss(C, D, temperature=0)
    with pytest.raises(ConfigError, match=r"label_smoothing: must be >= 0.0 and < 1.0, got 1.0"):
        NormalizedSoftmaxLoss(C, D, label_smoothing=1.0)
    with pytest.raises(ConfigError, match="num_classes: must be an integer >= 1, got 0"):
        NormalizedSoftmaxLoss(0, D)
