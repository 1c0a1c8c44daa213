"""The optimizer and the learning-rate schedule of a run."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from latentatlas.config import Config

__all__ = ["build_optimizer", "set_lr"]


def build_optimizer(params: Iterable[torch.nn.Parameter] | torch.nn.Module, config: Config) -> torch.optim.Optimizer:
    """Adam (the seeds' choice), AdamW or SGD with Nesterov momentum 0.9 over `params` (or a module's)."""
    t = config.train
    if isinstance(params, torch.nn.Module):
        params = params.parameters()
    params = list(params)
    if t.optimizer == "sgd":
        return torch.optim.SGD(params, lr=t.lr, momentum=0.9, nesterov=True, weight_decay=t.weight_decay)
    cls = torch.optim.AdamW if t.optimizer == "adamw" else torch.optim.Adam
    return cls(params, lr=t.lr, weight_decay=t.weight_decay)


def set_lr(optimizer: torch.optim.Optimizer, config: Config, progress: float) -> float:
    """Cosine decay from `train.lr` to 0 over the run (Loshchilov & Hutter, 2017); constant otherwise.

    `progress` is the share of the run done, in [0, 1]. Returns the learning rate set.
    """
    lr = config.train.lr
    if config.train.schedule == "cosine":
        lr = 0.5 * lr * (1.0 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))
    for group in optimizer.param_groups:
        group["lr"] = lr
    return lr
