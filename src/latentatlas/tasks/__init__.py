"""Tasks compose the layers below: what a run trains (shapes lab, metric learning), training a config end to end,
and running a trained model on data (inference)."""

from latentatlas.tasks.build import build_task, metric_names
from latentatlas.tasks.inference import embed_dataset, embed_images, embed_run, encode_figures, load_run_model
from latentatlas.tasks.metric import MetricTask
from latentatlas.tasks.pipeline import train
from latentatlas.tasks.shapes import ShapesTask

__all__ = [
    "MetricTask",
    "ShapesTask",
    "build_task",
    "embed_dataset",
    "embed_images",
    "embed_run",
    "encode_figures",
    "load_run_model",
    "metric_names",
    "train",
]
