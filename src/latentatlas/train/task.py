"""The contract between the training loop and what it trains: a `Task`.

The loop (`latentatlas.train.loop.fit`) knows no task; anything with these members trains. latentatlas's own
tasks live in `latentatlas.tasks` (the shapes lab's AE/VAE, metric learning on images).

A micro-batch is always an `(inputs, targets)` pair (`targets` may be None): the loop counts its rows as
`len(inputs)` to weight each micro-batch's mean loss by its share of the batch, and GradCache forwards `inputs`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import torch
from torch import nn

__all__ = ["MicroBatch", "Task"]

MicroBatch = tuple[Any, Any]  # (inputs with len() = rows, targets or None)


@runtime_checkable
class Task(Protocol):
    """What the loop calls, in the order it calls it.

    Attributes:
        model: the network being trained, a plain `nn.Module` (the loop wraps it in DistributedDataParallel
            under torchrun and passes the wrapped module to `train_step`; validation and reports use `model`).
        loss_module: parameters or buffers owned by the loss (class proxies, class weights), or None. The
            optimizer trains its parameters and checkpoints save and restore its state next to the model's.
        metric_names: the names of the numbers `validate` returns (e.g. `val_loss`); `train.best_metric` must be
            one of them (or `train_loss`).
    """

    model: nn.Module
    loss_module: nn.Module | None
    metric_names: tuple[str, ...]

    def steps_per_epoch(self) -> int:
        """Optimizer steps in one epoch (for the learning-rate schedule and the progress bar)."""
        ...

    def train_batches(self, epoch: int, generator: torch.Generator) -> Iterator[Any]:
        """The epoch's batches; all randomness from `generator`, seeded by (seed, epoch), so resumes replay."""
        ...

    def split(self, batch: Any, parts: int) -> list[MicroBatch]:
        """Cut a batch into `parts` micro-batches (accumulation x processes) with the rows of the large batch."""
        ...

    def train_step(self, model: nn.Module, micro: MicroBatch, epoch: int) -> tuple[torch.Tensor, dict[str, float]]:
        """The mean loss of one micro-batch through `model` (maybe DDP-wrapped) and its statistics (`loss`...)."""
        ...

    def gradcache_objective(self) -> Callable | None:
        """A loss over the whole effective batch when plain accumulation is not exact (GradCache), else None."""
        ...

    def validate(self, epoch: int) -> dict[str, float]:
        """Validation numbers (every name in `metric_names`), with `model` in eval mode and no gradients."""
        ...

    def finalize(self, run_dir: Path, history: list[dict[str, Any]]) -> dict[str, Any]:
        """After training, with the best checkpoint loaded: write figures and reports, return summary numbers."""
        ...
