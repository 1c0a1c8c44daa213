"""Training: the loop (`fit`), the `Task` contract it trains, checkpoints, run directories, exact accumulation."""

from latentatlas.train.gradcache import accumulate_gradients
from latentatlas.train.loop import RunResult, TrainingDiverged, fit
from latentatlas.train.task import Task

__all__ = ["RunResult", "Task", "TrainingDiverged", "accumulate_gradients", "fit"]
