"""The guard that keeps a diverging run from poisoning its checkpoints.

Before any checkpoint is written, the epoch's training loss, its validation loss and every parameter and buffer of
the model (and of the loss) must be finite; each step's loss must be finite too and, with `train.diverge_factor`,
at most that multiple of the run's lowest positive loss so far (its first step's, or an epoch mean's). When a
check fails the run stops with `TrainingDiverged` and nothing of that epoch is written: the checkpoint it keeps is
the last good one. The message names the config value most likely to blame, which checkpoint is kept (or that none
was written) and the command that resumes with a changed value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from latentatlas.config import Config
from latentatlas.errors import LatentAtlasError

__all__ = ["Guard", "TrainingDiverged", "first_nonfinite", "likely_cause"]


class TrainingDiverged(LatentAtlasError):
    """The loss or the weights became NaN, infinite or too large; the last good checkpoint is kept."""


def likely_cause(config: Config) -> tuple[str, float]:
    """The config key most likely to make this run diverge, and the value to try instead.

    A large KL weight on an autoencoder comes first, then the learning rate (the usual culprit).
    """
    beta = config.loss.beta
    if config.data.kind == "shapes" and config.model.kind == "vae" and beta > 100:
        return "loss.beta", beta / 10
    return "train.lr", config.train.lr / 10


def first_nonfinite(modules: list[torch.nn.Module | None]) -> str | None:
    """The name of the first parameter or buffer holding NaN or inf, or None when all are finite."""
    for module in modules:
        if module is None:
            continue
        for name, tensor in [*module.named_parameters(), *module.named_buffers()]:
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                return name
    return None


@dataclass
class Guard:
    """The checks of one run and what they need to say what was kept.

    Attributes:
        kept: file name (in checkpoints/) of the last checkpoint written or resumed from, or None.
        kept_epoch: its 0-based epoch.
        reference: the lowest positive loss so far (first step, epoch means); None until the first step.
    """

    config: Config
    run_dir: Path
    kept: str | None = None
    kept_epoch: int | None = None
    reference: float | None = None

    def _stop(self, what: str) -> TrainingDiverged:
        key, value = likely_cause(self.config)
        current = self.config.train.lr if key == "train.lr" else self.config.loss.beta
        fix = f"latentatlas train --resume {self.run_dir} {key}={value:g}"
        if self.config.train.grad_clip is None:
            fix += " (or add train.grad_clip=1)"
        if self.kept is None:
            kept = f"no checkpoint was written before it; restart it with a smaller value: {fix}"
        else:
            kept = (
                f"the last good checkpoint checkpoints/{self.kept} (epoch {self.kept_epoch + 1}) is kept; "
                f"resume from it with a smaller value: {fix}"
            )
        return TrainingDiverged(f"{what}; likely cause: {key}={current:g} too large; {kept}")

    def step(self, loss: float, epoch: int, step: int) -> None:
        """Check one step's (or micro-batch's) loss; the first finite positive one becomes the reference."""
        where = f"at epoch {epoch + 1}, step {step + 1}"
        if not math.isfinite(loss):
            raise self._stop(f"loss became {loss} {where}")
        factor = self.config.train.diverge_factor
        if factor is not None and self.reference is not None and loss > factor * self.reference:
            raise self._stop(
                f"loss reached {loss:.4g} {where}, over train.diverge_factor={factor:g} x its lowest "
                f"{self.reference:.4g}"
            )
        if self.reference is None and loss > 0:
            self.reference = loss

    def epoch_end(self, row: dict[str, Any], modules: list[torch.nn.Module | None]) -> None:
        """Before the epoch's checkpoints: losses and weights finite; the epoch's mean loss may lower the reference."""
        epoch = row["epoch"]
        for key in ("train_loss", "val_loss"):
            value = row.get(key)
            if isinstance(value, float | int) and not math.isfinite(value):
                raise self._stop(f"{key} became {value} in epoch {epoch}")
        bad = first_nonfinite(modules)
        if bad is not None:
            raise self._stop(f"weight {bad} became NaN or infinite in epoch {epoch}")
        mean = row.get("train_loss")
        if isinstance(mean, float | int) and mean > 0:
            self.reference = mean if self.reference is None else min(self.reference, float(mean))

    def saved(self, name: str, epoch: int) -> None:
        """A checkpoint of `epoch` was written as checkpoints/`name`: it is what a later stop keeps."""
        self.kept, self.kept_epoch = name, epoch
