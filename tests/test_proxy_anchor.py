"""Proxy-Anchor loss against pytorch-metric-learning and a plain-Python reference."""

import math

import pytest
import torch
from pytorch_metric_learning import losses as pml_losses

from latentatlas.errors import ConfigError, DataError
from latentatlas.losses.proxy_anchor import ProxyAnchorLoss
from tests.metric_reference import assert_same_loss_and_grads, labelled_batch, value_and_grads

C, D = 7, 6


def pml_twin(ours: ProxyAnchorLoss, dtype) -> pml_losses.ProxyAnchorLoss:
    theirs = pml_losses.ProxyAnchorLoss(ours.num_classes, ours.embedding_dim, margin=ours.margin, alpha=ours.alpha)
    theirs.proxies.data = ours.proxies.detach().clone().to(dtype)
    return theirs


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize(("margin", "alpha", "present"), [(0.1, 32.0, 7), (0.3, 8.0, 4)])
def test_matches_pml_values_and_gradients(rng, dtype, margin, alpha, present):
    # present < C: some proxies have no sample in the batch, so |P+| < |P|
    x, labels = labelled_batch(rng, present, 3, D, dtype, scale=2.0)
    ours = ProxyAnchorLoss(C, D, margin, alpha).to(dtype)
    theirs = pml_twin(ours, dtype)
    mine = value_and_grads(ours(x, labels)[0], [x, ours.proxies])
    assert_same_loss_and_grads(mine, value_and_grads(theirs(x, labels), [x, theirs.proxies]), dtype)


def reference(x, labels, proxies, margin, alpha):
    """Kim et al. (2020), eq. 4, in plain loops."""

    def cos(u, v):
        return sum(a * b for a, b in zip(u, v)) / math.sqrt(sum(a * a for a in u) * sum(b * b for b in v))

    pos, neg, with_pos = 0.0, 0.0, 0
    for c, p in enumerate(proxies.tolist()):
        mine = [cos(row, p) for row, y in zip(x.tolist(), labels.tolist()) if y == c]
        other = [cos(row, p) for row, y in zip(x.tolist(), labels.tolist()) if y != c]
        if mine:
            with_pos += 1
            pos += math.log(1 + sum(math.exp(-alpha * (s - margin)) for s in mine))
        neg += math.log(1 + sum(math.exp(alpha * (s + margin)) for s in other))
    return pos / with_pos + neg / len(proxies), with_pos


def test_matches_loop(rng):
    x, labels = labelled_batch(rng, 5, 3, D)
    loss = ProxyAnchorLoss(C, D, margin=0.2, alpha=4.0).double()
    value, stats = loss(x, labels)
    want, with_pos = reference(x.detach(), labels, loss.proxies.detach(), 0.2, 4.0)
    assert value.item() == pytest.approx(want, rel=1e-12)
    assert stats["proxies_with_positives"] == with_pos == 5
    assert stats["proxy_positive"] + stats["proxy_negative"] == pytest.approx(value.item(), rel=1e-12)


def test_proxies_are_trainable_parameters_and_round_trip(rng):
    x, labels = labelled_batch(rng, C, 2, D, torch.float32)
    loss = ProxyAnchorLoss(C, D)
    assert [name for name, _ in loss.named_parameters()] == ["proxies"] and loss.proxies.shape == (C, D)
    before = loss.proxies.detach().clone()
    optimizer = torch.optim.Adam(loss.parameters(), lr=0.01)
    loss(x, labels)[0].backward()
    optimizer.step()
    assert not torch.equal(before, loss.proxies)
    restored = ProxyAnchorLoss(C, D)
    restored.load_state_dict(loss.state_dict())
    assert torch.equal(restored(x, labels)[0], loss(x, labels)[0])


def test_init_as_pml():
    torch.manual_seed(3)
    ours = ProxyAnchorLoss(C, D).proxies.detach()
    torch.manual_seed(3)
    assert torch.equal(ours, pml_losses.ProxyAnchorLoss(C, D).proxies.detach())  # Kaiming normal, fan_out


def test_float64_embeddings_reach_float32_proxies(rng):
    x, labels = labelled_batch(rng, C, 2, D, torch.float64)
    loss = ProxyAnchorLoss(C, D)
    loss(x, labels)[0].backward()
    assert loss.proxies.grad.dtype == torch.float32 and torch.isfinite(loss.proxies.grad).all()


def test_errors():
    loss = ProxyAnchorLoss(C, D)
    with pytest.raises(DataError, match=r"proxy_anchor: labels must lie in \[0, 7\), got range \[2, 9\]"):
        loss(torch.randn(2, D), torch.tensor([2, 9]))
    with pytest.raises(DataError, match=r"labels: expected shape \(2,\)"):
        loss(torch.randn(2, D), None)
    with pytest.raises(ConfigError, match=r"proxy_anchor.alpha: must be > 0.0, got -1"):
        ProxyAnchorLoss(C, D, alpha=-1)
    with pytest.raises(ConfigError, match=r"proxy_anchor.margin: must be >= 0.0 and < 1.0, got 1.5"):
        ProxyAnchorLoss(C, D, margin=1.5)
    with pytest.raises(ConfigError, match="proxy_anchor.embedding_dim: must be an integer >= 1"):
        ProxyAnchorLoss(C, 0)
