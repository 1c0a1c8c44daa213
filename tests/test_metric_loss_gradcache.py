"""Batch-level metric losses through GradCache: K micro-batches give the gradients of one big batch."""

import pytest
import torch
from torch import nn

from latentatlas.losses.factory import build_metric_loss
from latentatlas.train.gradcache import accumulate_gradients

K, PER_MICRO, IN, D, C = 3, 8, 6, 5, 4
CASES = [
    ("supcon", {}),
    ("multi_similarity", {}),
    ("multi_similarity", {"mining": False}),
    ("proxy_anchor", {"alpha": 8.0}),
    ("normalized_softmax", {"temperature": 0.2}),
]


def setup(rng, name, options):
    torch.manual_seed(int(rng.integers(1 << 31)))
    model = nn.Linear(IN, D).double()  # treats each row alone: no BatchNorm, no GroupNorm over the batch
    loss = build_metric_loss(name, C, D, **options).double()
    x = torch.tensor(rng.normal(size=(K * PER_MICRO, IN)))
    labels = torch.tensor(rng.permutation(K * PER_MICRO) % C)  # positives across micro-batches
    micro_batches = list(zip(x.split(PER_MICRO), labels.split(PER_MICRO)))
    return model, loss, micro_batches


def grads(*modules):
    return torch.cat([p.grad.flatten() for m in modules for p in m.parameters()])


def effective(loss):
    """GradCache loss_fn: the loss once, on the concatenated embeddings and labels of all micro-batches."""
    return lambda embeddings, targets, sizes: loss(embeddings, torch.cat(targets))


@pytest.mark.parametrize(("name", "options"), CASES)
def test_gradcache_equals_one_big_batch(rng, name, options):
    model, loss, micro_batches = setup(rng, name, options)
    x, labels = (torch.cat(parts) for parts in zip(*micro_batches))
    big, _ = loss(model(x), labels)
    big.backward()
    want = grads(model, loss)
    model.zero_grad(), loss.zero_grad()
    result = accumulate_gradients(model, micro_batches, effective(loss))
    torch.testing.assert_close(grads(model, loss), want, rtol=1e-10, atol=1e-12)
    assert result.loss == pytest.approx(big.item(), rel=1e-12) and result.stats


@pytest.mark.parametrize("name", ["supcon", "multi_similarity"])
def test_per_micro_batch_loss_is_not_the_big_batch(rng, name):
    model, loss, micro_batches = setup(rng, name, {})
    accumulate_gradients(model, micro_batches, effective(loss))
    exact = grads(model)
    model.zero_grad()
    for x, labels in micro_batches:  # plain accumulation: each micro-batch only sees its own rows
        (loss(model(x), labels)[0] / K).backward()
    assert (grads(model) - exact).abs().max() > 1e-4
