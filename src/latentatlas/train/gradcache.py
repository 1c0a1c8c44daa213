"""Exact gradients of a loss over the whole effective batch under gradient accumulation (GradCache).

Plain accumulation computes each loss term per micro-batch, so a batch-level term such as KoLeo only sees
the micro-batch's neighbours (seed part 3: KoLeo per micro-batch of 48 vectors instead of 192).
GradCache (Gao et al., "Scaling Deep Contrastive Learning Batch Size under Memory Limited Setup", 2021)
computes the exact gradient of a loss over the whole effective batch with the memory of one micro-batch:

1. forward every micro-batch without a graph, keeping its embeddings and its RNG state;
2. compute the loss on the concatenated embeddings (a leaf tensor) and backpropagate to them only;
3. for each micro-batch, restore its RNG state (so dropout and in-model augmentation replay identically),
   forward again with a graph and backpropagate the cached embedding gradient slice.

Equality with one big batch holds when the model treats each image independently. BatchNorm in training
mode does not: its batch statistics differ between micro- and full batch. (Step 1 would also update its
running statistics a second time; `accumulate_gradients` restores them, so they are updated once, per
micro-batch.) Use `norm="group"` or BatchNorm in eval mode (frozen statistics) for exact equality.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from latentatlas.errors import DataError

logger = logging.getLogger("latentatlas")

# loss_fn(embeddings (N, D), targets [one per micro-batch], sizes [rows per micro-batch]) -> loss or (loss, stats)
LossFn = Callable[[torch.Tensor, list, list], "torch.Tensor | tuple[torch.Tensor, dict]"]


@dataclass
class GradCacheResult:
    """Loss value of the effective batch (before `scale`) and the loss function's stats."""

    loss: float
    stats: dict = field(default_factory=dict)


def _rng_state() -> tuple[torch.Tensor, list[torch.Tensor] | None]:
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
    return torch.get_rng_state(), cuda


def _replay(state: tuple[torch.Tensor, list[torch.Tensor] | None]) -> None:
    torch.set_rng_state(state[0])
    if state[1] is not None:
        torch.cuda.set_rng_state_all(state[1])


def _batchnorm_buffers(model: nn.Module) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(buffer, copy) of every running statistic of BatchNorm layers in training mode."""
    pairs = []
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.training:
            pairs += [(b, b.detach().clone()) for b in module.buffers()]
    return pairs


def accumulate_gradients(
    model: nn.Module,
    micro_batches: Sequence[tuple[torch.Tensor, Any]],
    loss_fn: LossFn,
    scale: float = 1.0,
) -> GradCacheResult:
    """Accumulate into `.grad` the exact gradient of `scale * loss_fn` over all micro-batches together.

    Args:
        model: maps inputs `(b_k, ...)` to embeddings `(b_k, D)`.
        micro_batches: K pairs `(inputs, targets)`; targets (labels, metadata or None) are passed through.
        loss_fn: `loss_fn(embeddings (N, D), targets: list of K, sizes: list of K ints)` returning a scalar
            or `(scalar, stats)`; `embeddings` is the concatenation of the K micro-batch outputs.
        scale: multiplies the gradient (e.g. 1 / number of GradCache steps per optimizer step).

    Returns:
        `GradCacheResult(loss, stats)`. Gradients are added to existing `.grad` (call `zero_grad` first).
    """
    if not micro_batches:
        raise DataError("micro_batches: empty; pass at least one (inputs, targets) pair")
    if any(isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training for m in model.modules()):
        logger.warning("GradCache with BatchNorm in train mode is not exact; use norm='group' or model.eval() BN")
    saved_bn = _batchnorm_buffers(model)
    states, cached = [], []
    with torch.no_grad():  # step 1: embeddings without a graph
        for inputs, _ in micro_batches:
            states.append(_rng_state())
            cached.append(model(inputs))
    for buffer, copy in saved_bn:  # step 3 updates the running statistics; step 1 must not
        buffer.copy_(copy)
    sizes = [len(e) for e in cached]
    embeddings = torch.cat(cached).requires_grad_(True)  # step 2: loss on the effective batch
    out = loss_fn(embeddings, [t for _, t in micro_batches], sizes)
    loss, stats = out if isinstance(out, tuple) else (out, {})
    if loss.ndim != 0:
        raise DataError(f"loss_fn: returned shape {tuple(loss.shape)}; it must return a scalar loss")
    (loss * scale).backward()
    grads = embeddings.grad.split(sizes)
    # Step 3: replay each micro-batch with a graph; fork_rng leaves the outer RNG where step 1 left it.
    devices = list(range(torch.cuda.device_count())) if states[0][1] is not None else []
    with torch.random.fork_rng(devices=devices):
        for (inputs, _), state, grad in zip(micro_batches, states, grads):
            _replay(state)
            model(inputs).backward(grad)
    return GradCacheResult(float(loss.detach()), stats)
