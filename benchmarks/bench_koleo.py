"""The time cost of exact effective-batch KoLeo (GradCache) over per-micro-batch KoLeo under accumulation.

Seed 000 part 3 (`configs/cifar10-seed-koleo-ga4.yaml`: VGG11, batch 64 triplets as 4 micro-batches of 16, KoLeo
0.1): the same optimizer steps with `loss.koleo.scope=micro` (the series) and `effective` (GradCache: a forward
without graph, the loss on the cached embeddings, then forward + backward again), timed side by side through the
loop's own `optimizer_step`, alternating so both see the same machine state. Target: effective under 1.5x micro.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import torch

from latentatlas.config import load_config
from latentatlas.configs import CONFIG_DIR
from latentatlas.tasks.metric import MetricTask
from latentatlas.train.distributed import DistInfo
from latentatlas.train.loop import Step, optimizer_step
from latentatlas.train.optim import build_optimizer

ROOT = Path(__file__).resolve().parent.parent
ZIP = Path(os.environ.get("LATENTATLAS_CIFAR_ZIP", ROOT.parent / "shared" / "data" / "cifar10-train-jpg.zip"))


def _seconds_per_step(task, config, batches, objective) -> float:
    optimizer = build_optimizer(task.model, config)
    setup = Step(task, task.model, optimizer, [], config, DistInfo(), objective)
    start = time.perf_counter()
    for step, batch in enumerate(batches):
        optimizer_step(setup, batch, 0, step)
    return (time.perf_counter() - start) / len(batches)


def run(quick: bool = False) -> str:
    steps, rounds = (2, 1) if quick else (8, 3)
    overrides = [f"data.images.path={ZIP}", "model.pretrained=null", "data.images.limit=4000"]
    config = load_config(CONFIG_DIR / "cifar10-seed-koleo-ga4.yaml", overrides)
    task = MetricTask(config, torch.device("cpu"))
    task.model.train()
    gen = torch.Generator().manual_seed(0)
    batches = [b for _, b in zip(range(steps + 1), task.train_batches(0, gen))]
    timings: dict[str, list[float]] = {"micro": [], "effective": []}
    for _ in range(rounds):
        for scope in ("micro", "effective"):
            config.loss.koleo.scope = scope
            objective = task.gradcache_objective()
            _seconds_per_step(task, config, batches[:1], objective)  # warm-up
            timings[scope].append(_seconds_per_step(task, config, batches[1:], objective))
    micro, effective = min(timings["micro"]), min(timings["effective"])
    rows = [
        f"| micro (KoLeo per micro-batch of 48 vectors) | {micro:.2f} s | 1.00 |",
        f"| effective (KoLeo over all 192 vectors, GradCache) | {effective:.2f} s | {effective / micro:.2f} |",
    ]
    return "\n".join(
        [
            "## KoLeo under gradient accumulation: time cost of the exact effective batch",
            "",
            f"`cifar10-seed-koleo-ga4` (VGG11 from random weights, 64 triplets = 4 x 16, KoLeo 0.1), {steps} optimizer "
            f"steps per measurement, best of {rounds} alternating rounds, seconds per optimizer step.",
            "",
            "| KoLeo scope | time per step | ratio to micro |",
            "|---|---|---|",
            *rows,
        ]
    )
