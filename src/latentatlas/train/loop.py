"""The training loop: one plain function, `fit`, that a reader can follow from top to bottom.

What a task brings is written down in `latentatlas.train.task.Task` (model, batches, a training step, validation,
finalize); the loop imports no task. Everything else lives here: the optimizer, multi-process wrapping (in one
place), progress bar, metrics.jsonl, checkpoints, resume, NaN checks and the time budget. Building a task from a
config and opening its run folder is `latentatlas.tasks.pipeline.train`.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from latentatlas.config import Config
from latentatlas.errors import LatentAtlasError, os_error_message
from latentatlas.jsonio import append_jsonl, write_json
from latentatlas.train.checkpoint import load_checkpoint, load_loss_state, load_model_state, save_checkpoint
from latentatlas.train.distributed import DistInfo, average_gradients, shard, wrap_model
from latentatlas.train.gradcache import accumulate_gradients
from latentatlas.train.guard import Guard, TrainingDiverged
from latentatlas.train.optim import build_optimizer, set_lr
from latentatlas.train.runstate import RunState
from latentatlas.train.seeds import epoch_seed
from latentatlas.train.task import Task

__all__ = ["RunResult", "Step", "TrainingDiverged", "check_best_metric", "fit", "optimizer_step"]

log = logging.getLogger("latentatlas")


@dataclass
class RunResult:
    run_dir: Path
    summary: dict[str, Any]
    history: list[dict[str, Any]]


@dataclass
class Step:
    """What every optimizer step of a run uses: the task, the module to call (DDP-wrapped under torchrun), the
    optimizer and the parameters of the loss (averaged by hand across processes), the config, the process info,
    the GradCache objective (None for plain accumulation) and the run's divergence guard."""

    task: Task
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    loss_params: list[torch.nn.Parameter]
    config: Config
    info: DistInfo
    objective: Any = None
    guard: Guard | None = None  # None: a bare step outside a run (benchmarks) checks only for NaN / inf


def check_best_metric(config: Config, metric_names: tuple[str, ...]) -> None:
    """`train.best_metric` must be a validation number of the task (or `train_loss`)."""
    name = config.train.best_metric
    if name != "train_loss" and name not in metric_names:
        raise LatentAtlasError(
            f"train.best_metric: {name!r} is not a metric of this run; use one of {', '.join(metric_names)}"
        )


def _is_better(value: float, best: float | None, mode: str) -> bool:
    if best is None or math.isnan(best):
        return not math.isnan(value)
    return value < best if mode == "min" else value > best


def _progress(config: Config, epoch: int, step: int, steps_per_epoch: int, deadline: float | None) -> float:
    """Share of the run done: by steps, or by time when a budget (`train.max_minutes`) ends the run sooner."""
    done = (epoch * steps_per_epoch + step) / max(config.train.epochs * steps_per_epoch, 1)
    if deadline is not None:
        budget = config.train.max_minutes * 60
        done = max(done, 1.0 - (deadline - time.monotonic()) / budget)
    return done


def _out_of_time(deadline: float | None, info: DistInfo) -> bool:
    """Whether the time budget is spent; under torchrun rank 0 decides for all, so every rank stops together."""
    if deadline is None:
        return False
    flag = torch.tensor([float(time.monotonic() > deadline)])
    if info.enabled:
        torch.distributed.broadcast(flag, src=0)
    return bool(flag.item())


def _check_loss(s: Step, loss: float, epoch: int, step: int) -> None:
    guard = s.guard or Guard(s.config, Path("."))
    guard.step(loss, epoch, step)


def optimizer_step(s: Step, batch: Any, epoch: int, step: int) -> tuple[float, dict[str, float]]:
    """One optimizer step on `batch`: cut it into micro-batches (this process's share), accumulate, step.

    Returns the loss value and the step's statistics (means over its micro-batches).
    """
    k, info = s.config.train.accumulation, s.info
    everyone = s.task.split(batch, k * info.world)
    total_rows = sum(len(inputs) for inputs, _ in everyone)
    micros = shard(everyone, info, k)
    s.optimizer.zero_grad(set_to_none=True)
    if s.objective is not None:
        result = accumulate_gradients(s.model, micros, s.objective)
        _check_loss(s, result.loss, epoch, step)
        stats = {"loss": result.loss, **result.stats}
    else:
        micro_stats = []
        for micro in micros:
            loss, micro_stat = s.task.train_step(s.model, micro, epoch)
            if not math.isfinite(loss.item()):
                _check_loss(s, loss.item(), epoch, step)
            # weighting each micro-batch's mean by its share of the batch gives the large batch's mean, also for a
            # last, smaller batch; DDP averages over processes, hence the factor world
            (loss * (len(micro[0]) * info.world / total_rows)).backward()
            micro_stats.append(micro_stat)
        stats = {name: sum(m[name] for m in micro_stats) / len(micro_stats) for name in micro_stats[0]}
        _check_loss(s, float(stats.get("loss", 0.0)), epoch, step)
    average_gradients(s.loss_params, info)
    if s.config.train.grad_clip:
        torch.nn.utils.clip_grad_norm_([*s.task.model.parameters(), *s.loss_params], s.config.train.grad_clip)
    s.optimizer.step()
    return stats.get("loss", float("nan")), stats


def _train_one_epoch(s: Step, epoch: int, deadline: float | None, bar) -> tuple[dict, bool]:
    """Run one epoch of optimizer steps; returns the mean of each step statistic and whether time ran out.

    Each batch is cut into `train.accumulation` micro-batches whose gradients add up before one optimizer step.
    When the task's loss must see the whole effective batch (KoLeo with scope `effective`), GradCache computes
    the exact large-batch gradient instead (see `latentatlas.train.gradcache`).
    """
    s.task.model.train()
    totals: dict[str, float] = {}
    steps = 0
    generator = torch.Generator().manual_seed(epoch_seed(s.config.seed, epoch))
    steps_per_epoch = s.task.steps_per_epoch()
    lr = s.optimizer.param_groups[0]["lr"]
    for step, batch in enumerate(s.task.train_batches(epoch, generator)):
        lr = set_lr(s.optimizer, s.config, _progress(s.config, epoch, step, steps_per_epoch, deadline))
        loss_value, stats = optimizer_step(s, batch, epoch, step)
        steps += 1
        for key, value in stats.items():
            totals[key] = totals.get(key, 0.0) + float(value)
        bar.set_postfix(loss=f"{loss_value:.4g}", refresh=False)
        if _out_of_time(deadline, s.info):
            break
    if steps == 0:
        raise LatentAtlasError(
            f"epoch {epoch + 1} gave no optimizer step: the training data yields no batch; use more training data "
            "or a smaller train.batch_size"
        )
    means = {f"train_{k}": v / steps for k, v in totals.items()}
    means["lr"] = lr  # the last step's learning rate
    return means, _out_of_time(deadline, s.info)


def _restore(task: Task, optimizer: torch.optim.Optimizer, state: RunState) -> None:
    """Weights, loss state and optimizer state of the checkpoint a resumed run continues from."""
    if state.checkpoint is None:
        return
    load_model_state(task.model, state.checkpoint, state.run_dir)
    load_loss_state(task.loss_module, state.checkpoint, state.run_dir)
    if state.checkpoint.optim_state is not None:
        optimizer.load_state_dict(state.checkpoint.optim_state)
        for group in optimizer.param_groups:  # a resume may lower it (train.runstate.RECOVERY_KEYS)
            group["weight_decay"] = state.config.train.weight_decay
    log.info("resuming %s at epoch %d of %d", state.run_dir, state.start_epoch + 1, state.config.train.epochs)


def fit(task: Task, state: RunState, info: DistInfo | None = None, device: torch.device | None = None) -> RunResult:
    """Train `task` for the epochs `state` has left, then finalize it with its best checkpoint.

    Same seed and config give the same metrics on CPU; a resumed run ends where the uninterrupted one would
    (`train.max_minutes` is the budget of the whole run, not of each invocation). Under torchrun every process
    trains its share of each batch and rank 0 writes metrics.jsonl, the checkpoints and the summary.
    """
    info = info or DistInfo()
    config = state.config
    check_best_metric(config, task.metric_names)
    loss_params = list(task.loss_module.parameters()) if task.loss_module is not None else []
    optimizer = build_optimizer([*task.model.parameters(), *loss_params], config)
    _restore(task, optimizer, state)
    if info.is_main:
        log.info("run directory: %s (device %s, %d threads)", state.run_dir, device, torch.get_num_threads())
    objective = task.gradcache_objective() if config.train.accumulation > 1 else None
    model = wrap_model(task.model, info, device or torch.device("cpu"))  # DDP averages gradients across processes
    kept_epoch = state.start_epoch - 1 if state.checkpoint is not None else None
    guard = Guard(config, state.run_dir, state.checkpoint_name, kept_epoch, state.loss_reference)
    _epochs(Step(task, model, optimizer, loss_params, config, info, objective, guard), state)
    summary = _finish(task, state) if info.is_main else {}
    return RunResult(run_dir=state.run_dir, summary=summary, history=state.history)


def _epochs(s: Step, state: RunState) -> None:
    """The epochs: train, validate, write metrics.jsonl and checkpoints (rank 0), stop on the time budget."""
    config, run_dir, task = s.config, state.run_dir, s.task
    (run_dir / "checkpoints").mkdir(exist_ok=True)
    cfg_dict = config.to_dict()
    budget = config.train.max_minutes
    elapsed0 = state.history[-1]["elapsed_s"] if state.history else 0.0
    t0 = time.monotonic()
    # the budget is the run's: a resumed run only has what the earlier invocations left of it
    deadline = t0 + budget * 60 - elapsed0 if budget else None
    epochs = range(state.start_epoch, config.train.epochs)
    if deadline is not None and deadline <= t0:
        log.info("train.max_minutes=%s already spent by this run: no further epoch", budget)
        epochs = range(0)
    disable = not config.train.progress or None
    bar = tqdm(
        epochs, desc=config.name, unit="epoch", disable=disable, initial=state.start_epoch, total=config.train.epochs
    )
    for epoch in bar:
        epoch_t0 = time.monotonic()
        torch.manual_seed(epoch_seed(config.seed, epoch) + 1)  # model-internal randomness (VAE sampling)
        row: dict[str, Any] = {"epoch": epoch + 1}
        train_stats, out_of_time = _train_one_epoch(s, epoch, deadline, bar)
        row.update(train_stats)
        row.update(task.validate(epoch))
        now = time.monotonic()
        row["epoch_time_s"] = round(now - epoch_t0, 3)
        row["elapsed_s"] = round(elapsed0 + now - t0, 3)
        s.guard.epoch_end(row, [task.model, task.loss_module])  # nothing of a diverged epoch is written
        improved = _is_better(float(row[config.train.best_metric]), state.best, config.train.best_mode)
        if improved:
            state.best = float(row[config.train.best_metric])
        state.history.append(row)
        if s.info.is_main:
            _write_epoch(s, state, row, epoch, improved, cfg_dict)
        bar.set_postfix({k: f"{v:.4g}" for k, v in row.items() if k.startswith("val_")}, refresh=True)
        if out_of_time:
            log.info("train.max_minutes=%s reached during epoch %d: stopped after validation", budget, epoch + 1)
            break
    bar.close()


def _write_epoch(s: Step, state: RunState, row: dict, epoch: int, improved: bool, cfg_dict: dict) -> None:
    """metrics.jsonl gets the epoch's row; checkpoints/last (and best, when it improved) its weights.

    A failed write (disk full, permissions) stops the run with one line; what was written before stays intact
    (atomic checkpoints, appended lines cut back), so the run resumes once the cause is fixed.
    """
    folder, model, loss = state.run_dir / "checkpoints", s.task.model, s.task.loss_module
    extra = {"best": state.best, "best_metric": s.config.train.best_metric, "loss_reference": s.guard.reference}
    try:
        append_jsonl(state.run_dir / "metrics.jsonl", row)
        if improved:
            save_checkpoint(folder / "best.safetensors", model, cfg_dict, epoch, None, extra, loss)
        save_checkpoint(folder / "last.safetensors", model, cfg_dict, epoch, s.optimizer, extra, loss, True)
    except OSError as exc:
        raise LatentAtlasError(
            f"{os_error_message(exc)}; the run keeps what it wrote before: once fixed, continue it with "
            f"latentatlas train --resume {state.run_dir}"
        ) from None
    s.guard.saved("last.safetensors", epoch)


def _finish(task: Task, state: RunState) -> dict[str, Any]:
    """Reload the best checkpoint, let the task write its figures and report, write summary.json."""
    config, run_dir = state.config, state.run_dir
    best_path = run_dir / "checkpoints" / "best.safetensors"
    if best_path.is_file():
        best = load_checkpoint(best_path)
        load_model_state(task.model, best, best_path)
        load_loss_state(task.loss_module, best, best_path)
    summary = {
        "run": run_dir.name,
        "epochs_trained": len(state.history),
        "best_" + config.train.best_metric: state.best,
    }
    summary["train_time_s"] = state.history[-1]["elapsed_s"] if state.history else 0.0
    try:
        summary.update(task.finalize(run_dir, state.history))
        write_json(run_dir / "summary.json", summary)
    except OSError as exc:
        raise LatentAtlasError(
            f"{os_error_message(exc)}; training is done and its checkpoints are kept: once fixed, "
            f"latentatlas train --resume {run_dir} writes the figures, report and summary"
        ) from None
    return summary
