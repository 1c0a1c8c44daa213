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

from latentatlas.config import Config, config_from_dict, save_config
from latentatlas.errors import LatentAtlasError
from latentatlas.train.checkpoint import load_checkpoint, load_model_state, save_checkpoint
from latentatlas.train.gradcache import accumulate_gradients
from latentatlas.train.rundir import append_jsonl, new_run_dir, truncate_metrics, write_json
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


def _train_one_epoch(task, optimizer, config: Config, epoch: int, deadline: float | None, bar) -> tuple[dict, bool]:
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
        totals["lr"] = totals.get("lr", 0.0) + _set_lr(
            optimizer, config, _progress(config, epoch, step, steps_per_epoch, deadline)
        )
        micros = task.split(batch, config.train.accumulation)
        optimizer.zero_grad(set_to_none=True)
        if objective is not None:
            result = accumulate_gradients(model, micros, objective)
            _check_finite(result.loss, epoch, step)
            loss_value, stats = result.loss, {"loss": result.loss, **result.stats}
        else:
            micro_stats = []
            for micro in micros:
                loss, stats = task.train_step(micro, epoch)
                _check_finite(loss.item(), epoch, step)
                (loss / len(micros)).backward()  # mean over micro-batches = the large batch's mean loss
                micro_stats.append(stats)
            stats = {k: sum(s[k] for s in micro_stats) / len(micro_stats) for k in micro_stats[0]}
            loss_value = stats.get("loss", float("nan"))
        if config.train.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.train.grad_clip)
        optimizer.step()
        steps += 1
        for key, value in stats.items():
            totals[key] = totals.get(key, 0.0) + float(value)
        bar.set_postfix(loss=f"{loss_value:.4g}", refresh=False)
        if deadline is not None and time.monotonic() > deadline:
            return {f"train_{k}": v / steps for k, v in totals.items()}, True
    return {f"train_{k}": v / max(steps, 1) for k, v in totals.items()}, False


def train(
    config: Config | None,
    runs_root: str | Path = "runs",
    run_dir: str | Path | None = None,
    resume: str | Path | None = None,
    progress: bool | None = None,
) -> RunResult:
    """Train `config` into a new run directory, or continue the run in `resume` from its last checkpoint.

    Same seed and config give the same metrics on CPU; a resumed run ends where the uninterrupted one would.
    """
    from latentatlas.tasks import build_task

    start_epoch, best, history = 0, None, []
    if resume is not None:
        run_dir = Path(resume)
        last = run_dir / "checkpoints" / "last.safetensors"
        if not last.is_file():
            raise LatentAtlasError(f"cannot resume {str(run_dir)!r}: no checkpoints/last.safetensors; start a new run")
        ckpt = load_checkpoint(last)
        config = config_from_dict(ckpt.config)
        start_epoch, best = ckpt.epoch + 1, ckpt.extra.get("best")
        history = truncate_metrics(run_dir / "metrics.jsonl", ckpt.epoch + 1)
        if start_epoch >= config.train.epochs and (run_dir / "summary.json").exists():
            raise LatentAtlasError(f"run {str(run_dir)!r} already finished its {config.train.epochs} epochs")
    else:
        run_dir = new_run_dir(runs_root, config.name, run_dir)
        save_config(config, run_dir / "config.yaml")
    if progress is not None:
        config.train.progress = progress
    (run_dir / "checkpoints").mkdir(exist_ok=True)
    set_threads(config.train.threads)
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    task = build_task(config, device)
    model = task.model
    optimizer = torch.optim.Adam(model.parameters(), lr=config.train.lr, weight_decay=config.train.weight_decay)
    if resume is not None:
        load_model_state(model, ckpt, last)
        if ckpt.optim_state is not None:
            optimizer.load_state_dict(ckpt.optim_state)
        log.info("resuming %s at epoch %d of %d", run_dir, start_epoch + 1, config.train.epochs)
    log.info("run directory: %s (device %s, %d threads)", run_dir, device, torch.get_num_threads())

    cfg_dict = config.to_dict()
    budget = config.train.max_minutes
    deadline = time.monotonic() + budget * 60 if budget else None
    elapsed0 = history[-1]["elapsed_s"] if history else 0.0
    t0 = time.monotonic()
    bar = tqdm(
        range(start_epoch, config.train.epochs),
        desc=config.name,
        unit="epoch",
        disable=not config.train.progress or None,
        initial=start_epoch,
        total=config.train.epochs,
    )
    for epoch in bar:
        epoch_t0 = time.monotonic()
        torch.manual_seed(epoch_seed(config.seed, epoch) + 1)  # model-internal randomness (VAE sampling)
        row: dict[str, Any] = {"epoch": epoch + 1}
        train_stats, out_of_time = _train_one_epoch(task, optimizer, config, epoch, deadline, bar)
        row.update(train_stats)
        row.update(task.validate(epoch))
        now = time.monotonic()
        row["epoch_time_s"] = round(now - epoch_t0, 3)
        row["elapsed_s"] = round(elapsed0 + now - t0, 3)
        metric = row.get(config.train.best_metric)
        if metric is None:
            raise LatentAtlasError(
                f"train.best_metric: {config.train.best_metric!r} is not a metric of this run; "
                f"use one of {', '.join(k for k in row if k.startswith('val_'))}"
            )
        improved = _is_better(float(metric), best, config.train.best_mode)
        if improved:
            best = float(metric)
        append_jsonl(run_dir / "metrics.jsonl", row)
        history.append(row)
        extra = {"best": best, "best_metric": config.train.best_metric}
        if improved:
            save_checkpoint(run_dir / "checkpoints" / "best.safetensors", model, cfg_dict, epoch, None, extra)
        save_checkpoint(run_dir / "checkpoints" / "last.safetensors", model, cfg_dict, epoch, optimizer, extra)
        bar.set_postfix({k: f"{v:.4g}" for k, v in row.items() if k.startswith("val_")}, refresh=True)
        if out_of_time:
            log.info("train.max_minutes=%s reached during epoch %d: stopped after validation", budget, epoch + 1)
            break
    bar.close()

    best_path = run_dir / "checkpoints" / "best.safetensors"
    if best_path.is_file():
        load_model_state(model, load_checkpoint(best_path), best_path)
    summary = {"run": run_dir.name, "epochs_trained": len(history), "best_" + config.train.best_metric: best}
    summary["train_time_s"] = history[-1]["elapsed_s"] if history else 0.0
    summary.update(task.finalize(run_dir, history))
    write_json(run_dir / "summary.json", summary)
    return RunResult(run_dir=run_dir, summary=summary, history=history)
