"""Helpers for testing metric losses against pytorch-metric-learning (PML) on fresh random labelled batches."""

import numpy as np
import torch

# Tolerances per dtype: same formulas, different operation order (PML's stability shifts, masks, reducers).
TOLERANCE = {torch.float64: {"rtol": 1e-10, "atol": 1e-12}, torch.float32: {"rtol": 2e-5, "atol": 2e-6}}


def labelled_batch(rng: np.random.Generator, classes=5, per_class=4, dim=8, dtype=torch.float64, scale=1.0):
    """P x K rows in random order: x (B, D) leaf requiring grad, labels (B,) int64 in [0, classes)."""
    labels = torch.tensor(rng.permutation(np.repeat(np.arange(classes), per_class)), dtype=torch.int64)
    x = torch.tensor(rng.normal(scale=scale, size=(len(labels), dim)), dtype=dtype).requires_grad_(True)
    return x, labels


def value_and_grads(loss: torch.Tensor, inputs: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The loss value (detached) and d loss / d each input."""
    return loss.detach(), list(torch.autograd.grad(loss, inputs))


def assert_same_loss_and_grads(ours, theirs, dtype) -> None:
    """ours, theirs: (value, [grads]) pairs from `value_and_grads`; equal within the dtype's tolerance."""
    torch.testing.assert_close(ours[0], theirs[0], **TOLERANCE[dtype])
    assert len(ours[1]) == len(theirs[1])
    for mine, other in zip(ours[1], theirs[1]):
        assert mine.abs().max() > 0  # a gradient that is zero everywhere would compare equal without testing much
        torch.testing.assert_close(mine, other.to(mine.dtype), **TOLERANCE[dtype])
