"""Which task trains a config: the shapes lab (`data.kind=shapes`) or metric learning on images (`images`)."""

from __future__ import annotations

import torch

from latentatlas.config import Config
from latentatlas.tasks.metric import METRIC_NAMES as IMAGE_METRICS
from latentatlas.tasks.metric import MetricTask
from latentatlas.tasks.shapes import METRIC_NAMES as SHAPES_METRICS
from latentatlas.tasks.shapes import ShapesTask
from latentatlas.train.task import Task

__all__ = ["build_task", "metric_names"]

_TASKS = {"shapes": (ShapesTask, SHAPES_METRICS), "images": (MetricTask, IMAGE_METRICS)}


def metric_names(config: Config) -> tuple[str, ...]:
    """The validation numbers the task of `config` reports, known before its data is loaded."""
    return _TASKS[config.data.kind][1]


def build_task(config: Config, device: torch.device) -> Task:
    """The task for `config.data.kind` (config validation allows only known kinds)."""
    return _TASKS[config.data.kind][0](config, device)
