"""The optimizer and the learning-rate schedule of a run."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from latentatlas.config import Config

__all__ = ["build_optimizer", "lr_at", "set_lr"]


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


def lr_at(config: Config, progress: float) -> float:
    """The learning rate when `progress` (in [0, 1]) of the run is done.

    A linear warmup from 0 over `train.warmup` of the run (Goyal et al., 2017), then `train.lr` constant, or
    decayed to 0 at the end of the run: cosine (Loshchilov & Hutter, 2017) or linear (the triangular schedule of
    the fast CIFAR-10 trainers).
    """
    t, p = config.train, min(max(progress, 0.0), 1.0)
    if t.warmup and p < t.warmup:
        return t.lr * p / t.warmup
    rest = (p - t.warmup) / (1.0 - t.warmup)  # share of the post-warmup part done
    if t.schedule == "cosine":
        return 0.5 * t.lr * (1.0 + math.cos(math.pi * rest))
    if t.schedule == "linear":
        return t.lr * (1.0 - rest)
    return t.lr


def set_lr(optimizer: torch.optim.Optimizer, config: Config, progress: float) -> float:
    """Set every parameter group to `lr_at(config, progress)`; returns it."""
    lr = lr_at(config, progress)
    for group in optimizer.param_groups:
        group["lr"] = lr
    return lr
