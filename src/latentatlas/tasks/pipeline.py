"""Train a config end to end: open (or resume) its run folder, build its task, `fit` it, finalize it."""

from __future__ import annotations

from pathlib import Path

import torch

from latentatlas.config import Config
from latentatlas.device import resolve_device, set_threads
from latentatlas.heap import heap_kept
from latentatlas.tasks.build import build_task, metric_names
from latentatlas.tasks.checks import check_distributed
from latentatlas.train.distributed import init_distributed, shutdown
from latentatlas.train.loop import RunResult, check_best_metric, fit
from latentatlas.train.runstate import open_run

__all__ = ["train"]


def train(
    config: Config | None,
    runs_root: str | Path = "runs",
    run_dir: str | Path | None = None,
    resume: str | Path | None = None,
    progress: bool | None = None,
    resume_overrides: list[str] | tuple[str, ...] = (),
) -> RunResult:
    """Train `config` into a new run directory, or continue the run in `resume` from its last checkpoint.

    Same seed and config give the same metrics on CPU; a resumed run ends where the uninterrupted one would
    (`train.max_minutes` is the budget of the whole run, not of each invocation). `resume_overrides` may raise
    `train.epochs` or `train.max_minutes` to train a finished run on, or lower `train.lr`... to continue a run that
    diverged (see `train.runstate.RESUME_KEYS` and `RECOVERY_KEYS`). The run folder is locked while it trains: a
    second process training or resuming it is refused. Under `torchrun`, every process trains its share of each
    batch and rank 0 writes the run.
    """
    if config is not None:
        check_best_metric(config, metric_names(config))  # before a run folder exists
    device = resolve_device(config.device if config is not None else "auto")
    info, device = init_distributed(device)
    try:
        with open_run(config, runs_root, run_dir, resume, info, resume_overrides) as state:
            config = state.config
            check_distributed(info, config)
            if progress is not None:
                config.train.progress = progress
            config.train.progress = config.train.progress and info.is_main
            set_threads(config.train.threads)
            device = resolve_device(config.device) if not info.enabled else device
            torch.manual_seed(config.seed)
            task = build_task(config, device)
            with heap_kept():  # a step's large tensors reuse the last step's pages instead of fresh mmaps
                return fit(task, state, info, device)
    finally:
        shutdown(info)
