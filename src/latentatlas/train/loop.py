"""The training loop: one plain function a reader can follow from top to bottom.

What a task brings (see `latentatlas.tasks`): a model, batches for an epoch, a training step that returns the loss,
a validation pass, and a `finalize` that writes the run's figures and summary. Everything else lives here:
seeding, device, optimizer, progress bar, metrics.jsonl, checkpoints, resume, NaN checks, time budget.
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
from latentatlas.errors import LatentAtlasError
from latentatlas.train.checkpoint import load_checkpoint, load_model_state, save_checkpoint
from latentatlas.train.distributed import (
    DistInfo,
    check_supported,
    init_distributed,
    shard,
    shutdown,
    wrap_model,
)
from latentatlas.train.gradcache import accumulate_gradients
from latentatlas.train.rundir import append_jsonl, write_json
from latentatlas.train.runstate import RunState, open_run
from latentatlas.train.runtime import epoch_seed, resolve_device, set_threads

log = logging.getLogger("latentatlas")


class TrainingDiverged(LatentAtlasError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


@dataclass
class RunResult:
    run_dir: Path
    summary: dict[str, Any]
    history: list[dict[str, Any]]


def _is_better(value: float, best: float | None, mode: str) -> bool:
    if best is None or math.isnan(best):
        return not math.isnan(value)
    return value < best if mode == "min" else value > best


def _check_finite(loss: float, epoch: int, step: int) -> None:
    if not math.isfinite(loss):
        raise TrainingDiverged(
            f"loss became {loss} at epoch {epoch + 1}, step {step + 1}; the last good checkpoint is kept "
            "in checkpoints/last.safetensors; lower train.lr or set train.grad_clip"
        )


def _set_lr(optimizer, config: Config, progress: float) -> float:
    """Cosine decay from `train.lr` to 0 over the run (Loshchilov & Hutter, 2017); constant otherwise."""
    lr = config.train.lr
    if config.train.schedule == "cosine":
        lr = 0.5 * lr * (1.0 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))
    for group in optimizer.param_groups:
        group["lr"] = lr
    return lr


def _progress(config: Config, epoch: int, step: int, steps_per_epoch: int, deadline: float | None) -> float:
    """Share of the run done: by steps, or by time when a budget (`train.max_minutes`) ends the run sooner."""
    done = (epoch * steps_per_epoch + step) / max(config.train.epochs * steps_per_epoch, 1)
    if deadline is not None:
        budget = config.train.max_minutes * 60
        done = max(done, 1.0 - (deadline - time.monotonic()) / budget)
    return done


def build_optimizer(model: torch.nn.Module, config: Config) -> torch.optim.Optimizer:
    """Adam (the seeds' choice), AdamW or SGD with Nesterov momentum 0.9."""
    t = config.train
    if t.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=t.lr, momentum=0.9, nesterov=True, weight_decay=t.weight_decay)
    cls = torch.optim.AdamW if t.optimizer == "adamw" else torch.optim.Adam
    return cls(model.parameters(), lr=t.lr, weight_decay=t.weight_decay)


def _rows(micro) -> int:
    """Rows of a micro-batch: a tensor, or an (inputs, targets) pair."""
    return len(micro[0]) if isinstance(micro, tuple) else len(micro)


def _out_of_time(deadline: float | None, info: DistInfo) -> bool:
    """Whether the time budget is spent; under torchrun rank 0 decides for all, so every rank stops together."""
    if deadline is None:
        return False
    flag = torch.tensor([float(time.monotonic() > deadline)])
    if info.enabled:
        torch.distributed.broadcast(flag, src=0)
    return bool(flag.item())


def optimizer_step(task, optimizer, batch, config: Config, info: DistInfo, objective, epoch: int, step: int):
    """One optimizer step on `batch`: cut it into micro-batches (this process's share), accumulate, step.

    Returns the loss value and the step's statistics (means over its micro-batches).
    """
    k = config.train.accumulation
    everyone = task.split(batch, k * info.world)
    total_rows = sum(_rows(m) for m in everyone)
    micros = shard(everyone, info, k)
    optimizer.zero_grad(set_to_none=True)
    if objective is not None:
        result = accumulate_gradients(task.model, micros, objective)
        _check_finite(result.loss, epoch, step)
        loss_value, stats = result.loss, {"loss": result.loss, **result.stats}
    else:
        micro_stats = []
        for micro in micros:
            loss, micro_stat = task.train_step(micro, epoch)
            _check_finite(loss.item(), epoch, step)
            # weighting each micro-batch's mean by its share of the batch gives the large batch's mean, also for a
            # last, smaller batch; DDP averages over processes, hence the factor world
            (loss * (_rows(micro) * info.world / total_rows)).backward()
            micro_stats.append(micro_stat)
        stats = {name: sum(s[name] for s in micro_stats) / len(micro_stats) for name in micro_stats[0]}
        loss_value = stats.get("loss", float("nan"))
    if config.train.grad_clip:
        torch.nn.utils.clip_grad_norm_(task.model.parameters(), config.train.grad_clip)
    optimizer.step()
    return loss_value, stats


def _train_one_epoch(
    task, optimizer, config: Config, epoch: int, deadline: float | None, bar, info: DistInfo
) -> tuple[dict, bool]:
    """Run one epoch of optimizer steps; returns the mean of each step statistic and whether time ran out.

    Each batch is cut into `train.accumulation` micro-batches whose gradients add up before one optimizer step.
    When the task's loss must see the whole effective batch (KoLeo with scope `effective`), GradCache computes
    the exact large-batch gradient instead (see `latentatlas.train.gradcache`).
    """
    model = task.model
    model.train()
    totals: dict[str, float] = {}
    steps = 0
    generator = torch.Generator().manual_seed(epoch_seed(config.seed, epoch))
    objective = task.gradcache_objective() if config.train.accumulation > 1 else None
    steps_per_epoch = task.steps_per_epoch()
    for step, batch in enumerate(task.train_batches(epoch, generator)):
        lr = _set_lr(optimizer, config, _progress(config, epoch, step, steps_per_epoch, deadline))
        loss_value, stats = optimizer_step(task, optimizer, batch, config, info, objective, epoch, step)
        steps += 1
        for key, value in stats.items():
            totals[key] = totals.get(key, 0.0) + float(value)
        bar.set_postfix(loss=f"{loss_value:.4g}", refresh=False)
        out_of_time = _out_of_time(deadline, info)
        if out_of_time:
            break
    means = {f"train_{k}": v / max(steps, 1) for k, v in totals.items()}
    means["lr"] = lr if steps else optimizer.param_groups[0]["lr"]  # the last step's learning rate
    return means, _out_of_time(deadline, info)


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
    `train.epochs` or `train.max_minutes` to train a finished run on (see `train.runstate.RESUME_KEYS`).
    Under `torchrun`, every process trains its share of each batch and rank 0 writes the run.
    """
    from latentatlas.tasks import build_task

    device = resolve_device(config.device if config is not None else "auto")
    info, device = init_distributed(device)
    try:
        state = open_run(config, runs_root, run_dir, resume, info, resume_overrides)
        config = state.config
        check_supported(info, config)
        if progress is not None:
            config.train.progress = progress
        config.train.progress = config.train.progress and info.is_main
        set_threads(config.train.threads)
        device = resolve_device(config.device) if not info.enabled else device
        torch.manual_seed(config.seed)
        task = build_task(config, device)
        model = task.model  # the plain module: checkpoints, validation and reports use it
        optimizer = build_optimizer(model, config)
        if state.checkpoint is not None:
            load_model_state(model, state.checkpoint, state.run_dir)
            if state.checkpoint.optim_state is not None:
                optimizer.load_state_dict(state.checkpoint.optim_state)
            log.info("resuming %s at epoch %d of %d", state.run_dir, state.start_epoch + 1, config.train.epochs)
        if info.is_main:
            log.info("run directory: %s (device %s, %d threads)", state.run_dir, device, torch.get_num_threads())
        _fit(task, model, optimizer, state, info, device)
        summary = {}
        if info.is_main:
            summary = _finish(task, model, state)
        return RunResult(run_dir=state.run_dir, summary=summary, history=state.history)
    finally:
        shutdown(info)


def _fit(task, model, optimizer, state: RunState, info: DistInfo, device) -> None:
    """The epochs: train, validate, write metrics.jsonl and checkpoints (rank 0), stop on the time budget."""
    config, run_dir = state.config, state.run_dir
    (run_dir / "checkpoints").mkdir(exist_ok=True)
    task.model = wrap_model(model, info, device)  # DDP averages gradients across processes
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
        train_stats, out_of_time = _train_one_epoch(task, optimizer, config, epoch, deadline, bar, info)
        row.update(train_stats)
        task.model = model
        row.update(task.validate(epoch))
        task.model = wrap_model(model, info, device) if info.enabled else model
        now = time.monotonic()
        row["epoch_time_s"] = round(now - epoch_t0, 3)
        row["elapsed_s"] = round(elapsed0 + now - t0, 3)
        metric = row.get(config.train.best_metric)
        if metric is None:
            raise LatentAtlasError(
                f"train.best_metric: {config.train.best_metric!r} is not a metric of this run; "
                f"use one of {', '.join(k for k in row if k.startswith('val_'))}"
            )
        improved = _is_better(float(metric), state.best, config.train.best_mode)
        if improved:
            state.best = float(metric)
        state.history.append(row)
        if info.is_main:
            append_jsonl(run_dir / "metrics.jsonl", row)
            extra = {"best": state.best, "best_metric": config.train.best_metric}
            if improved:
                save_checkpoint(run_dir / "checkpoints" / "best.safetensors", model, cfg_dict, epoch, None, extra)
            save_checkpoint(run_dir / "checkpoints" / "last.safetensors", model, cfg_dict, epoch, optimizer, extra)
        bar.set_postfix({k: f"{v:.4g}" for k, v in row.items() if k.startswith("val_")}, refresh=True)
        if out_of_time:
            log.info("train.max_minutes=%s reached during epoch %d: stopped after validation", budget, epoch + 1)
            break
    bar.close()
    task.model = model


def _finish(task, model, state: RunState) -> dict[str, Any]:
    """Reload the best checkpoint, let the task write its figures and report, write summary.json."""
    config, run_dir = state.config, state.run_dir
    best_path = run_dir / "checkpoints" / "best.safetensors"
    if best_path.is_file():
        load_model_state(model, load_checkpoint(best_path), best_path)
    summary = {
        "run": run_dir.name,
        "epochs_trained": len(state.history),
        "best_" + config.train.best_metric: state.best,
    }
    summary["train_time_s"] = state.history[-1]["elapsed_s"] if state.history else 0.0
    summary.update(task.finalize(run_dir, state.history))
    write_json(run_dir / "summary.json", summary)
    return summary
