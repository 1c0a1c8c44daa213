"""The plain softmax classifier loss against torch's cross-entropy of the same linear layer, and the raw-feature
embedder it trains (model.normalize=false)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from latentatlas.errors import ConfigError, DataError
from latentatlas.losses.factory import build_metric_loss
from latentatlas.losses.softmax import SoftmaxLoss
from latentatlas.models.whitened import WhitenedConvNet


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_value_and_gradients_equal_cross_entropy_of_the_linear_layer(rng, smoothing):
    x = torch.tensor(rng.normal(size=(12, 5)), dtype=torch.float64, requires_grad=True)
    y = torch.tensor(rng.integers(0, 4, 12))
    loss = SoftmaxLoss(4, 5, label_smoothing=smoothing).double()
    ref = torch.nn.Linear(5, 4).double()
    ref.load_state_dict(loss.classifier.state_dict())
    value, stats = loss(x, y)
    want = F.cross_entropy(ref(x), y, label_smoothing=smoothing)
    assert value.item() == pytest.approx(want.item(), rel=1e-12)
    g1 = torch.autograd.grad(value, [x, loss.classifier.weight])
    g2 = torch.autograd.grad(want, [x, ref.weight])
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b)
    assert stats["accuracy"] == pytest.approx((ref(x).argmax(1) == y).double().mean().item())


def test_factory_and_bad_input():
    assert isinstance(build_metric_loss("softmax", 3, 8, label_smoothing=0.1), SoftmaxLoss)
    with pytest.raises(ConfigError, match="label_smoothing"):
        SoftmaxLoss(3, 8, label_smoothing=1.0)
    with pytest.raises(DataError, match=r"\[0, 3\)"):
        SoftmaxLoss(3, 2)(torch.zeros(2, 2), torch.tensor([0, 3]))


def test_raw_features_are_not_normalized_and_flip_average_is_their_mean(rng):
    model = WhitenedConvNet(6, (4, 8), flip_average=True)
    model.normalize = False
    model.eval()
    x = torch.tensor(rng.normal(size=(3, 3, 16, 16)), dtype=torch.float32)
    torch.testing.assert_close(model(x), (model.embed(x) + model.embed(x.flip(-1))) / 2)
    assert not torch.allclose(model(x).norm(dim=1), torch.ones(3))
