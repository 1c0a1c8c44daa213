"""Tasks: what a run trains. Each holds its data and model and fills the loop's steps."""

from __future__ import annotations

import torch

from latentatlas.config import Config


def build_task(config: Config, device: torch.device):
    """The task for `config.data.kind`."""
    if config.data.kind == "shapes":
        from latentatlas.tasks.shapes import ShapesTask

        return ShapesTask(config, device)
    if config.data.kind == "images":
        from latentatlas.tasks.metric import MetricTask

        return MetricTask(config, device)
    raise NotImplementedError(config.data.kind)  # unreachable: config validation allows only known kinds
