"""Training speed on CIFAR-10: throughput of the two shipped configs, and our loop against the seed's style.

Both measurements run on the shared JPEG copy of the CIFAR-10 training set (`load_image_dataset`, decoded once
into the cache) through the real code: `MetricTask`'s batches, micro-batch split and training step, taken as the
training loop takes them, for a fixed number of optimizer steps after a warm-up. The seed-style reference is
`benchmarks/seed_style_loop.py` (per-image Python transforms, a DataLoader of 64 triplets, three forward passes).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import torch

from benchmarks.bench_data import SHARED_ZIP, _subset_zip
from benchmarks.seed_style_loop import time_seed_style_loop
from latentatlas.config import Config, load_config
from latentatlas.configs import resolve_config_path
from latentatlas.device import set_threads
from latentatlas.models.vgg import VGG11Embedder
from latentatlas.tasks.metric import MetricTask

SEED_EPOCH_TRIPLETS = 23_750  # the series' training triplets per epoch (95 % of 25,000)
SEED_BATCH = 64
CIFAR_TRAIN_IMAGES = 50_000


@contextlib.contextmanager
def _dataset(quick: bool) -> Iterator[Path]:
    """The shared zip (full) or a 120-per-class subset of it with its own temporary cache (quick)."""
    if not quick:
        yield SHARED_ZIP
        return
    with tempfile.TemporaryDirectory() as tmp:
        subset = Path(tmp) / "cifar10-subset.zip"
        _subset_zip(SHARED_ZIP, subset, per_class=120)
        old = os.environ.get("LATENTATLAS_CACHE")
        os.environ["LATENTATLAS_CACHE"] = str(Path(tmp) / "cache")
        try:
            yield subset
        finally:
            os.environ.pop("LATENTATLAS_CACHE") if old is None else os.environ.__setitem__("LATENTATLAS_CACHE", old)


def _config(name: str, data: Path) -> Config:
    # Random initialization: ImageNet weights would need a download and do not change the speed.
    overrides = [f"data.images.path={data}", "train.progress=false", "device=cpu"]
    if name == "cifar10-seed":
        overrides.append("model.pretrained=null")
    return load_config(resolve_config_path(name), overrides)


def _images_per_step(config: Config) -> int:
    t = config.train
    return 3 * t.batch_size if config.data.images.triplets == "seed" else t.classes_per_batch * t.images_per_class


def _steps(task: MetricTask, optimizer: torch.optim.Optimizer, epoch: int, n: int) -> None:
    """`n` optimizer steps as the training loop takes them: the task's batches, micro-batches and train step."""
    config = task.config
    generator = torch.Generator().manual_seed(epoch)
    task.model.train()
    for batch in itertools.islice(task.train_batches(epoch, generator), n):
        micros = task.split(batch, config.train.accumulation)
        optimizer.zero_grad(set_to_none=True)
        for micro in micros:
            loss, _ = task.train_step(task.model, micro, epoch)
            (loss / len(micros)).backward()
        optimizer.step()
        loss.item()  # the loop reads the loss every step (NaN check, statistics)


def _steps_per_epoch(task: MetricTask, quick: bool) -> float:
    """Seed protocol: the series' 23,750 triplets in batches; mined: the train split of all 50,000 images."""
    config = task.config
    if config.data.images.triplets == "seed":
        return SEED_EPOCH_TRIPLETS / config.train.batch_size
    train_images = len(task.data.train_idx) * (CIFAR_TRAIN_IMAGES / len(task.data.images) if quick else 1)
    return train_images / _images_per_step(config)


def time_our_loop(config: Config, steps: int, warmup: int) -> tuple[float, MetricTask]:
    """Mean seconds per optimizer step of `config` through MetricTask's batches and step function."""
    torch.manual_seed(config.seed)
    task = MetricTask(config, torch.device("cpu"))
    optimizer = torch.optim.Adam(task.model.parameters(), lr=config.train.lr)
    _steps(task, optimizer, 0, warmup)
    start = time.perf_counter()
    _steps(task, optimizer, 1, steps)
    return (time.perf_counter() - start) / steps, task


def run(quick: bool = False) -> str:
    """Markdown section: throughput of both configs, and one seed-protocol epoch with our loop vs the seed's."""
    if not SHARED_ZIP.exists():
        return f"## Training speed\n\n{SHARED_ZIP} is missing: nothing measured.\n"
    steps, warmup = (3, 1) if quick else (30, 3)
    threads = set_threads(0)
    rows, seed_ours, seed_task = [], 0.0, None
    with _dataset(quick) as data:
        for name in ("cifar10-seed", "cifar10-triplet"):
            config = _config(name, data)
            per_step, task = time_our_loop(config, steps, warmup)
            n_img = _images_per_step(config)
            rows.append(
                f"| `{name}` ({config.model.kind}, {config.data.images.triplets} triplets) | {n_img} | "
                f"{per_step:.3f} | {n_img / per_step:,.0f} | {_steps_per_epoch(task, quick) * per_step / 60:.1f} |"
            )
            if name == "cifar10-seed":
                seed_ours, seed_task = per_step, task
        torch.manual_seed(42)
        reference = VGG11Embedder(128, channels_last=False)  # the plain PyTorch layout a first project uses
        times = time_seed_style_loop(
            reference, seed_task.data.images.images, seed_task.data.train_triplets, steps, warmup, SEED_BATCH
        )
    seed_style = sum(t for t, _ in times) / len(times)
    fetch = sum(f for _, f in times) / len(times)
    iters = SEED_EPOCH_TRIPLETS / SEED_BATCH
    what = "3 steps after 1 warm-up step, on a 1,200-image subset" if quick else f"{steps} steps after {warmup}"
    lines = [
        "## Training speed (CIFAR-10 metric learning)",
        "",
        f"Measured on `{SHARED_ZIP.name}` on CPU with {threads} torch threads, {what}, random initialization. "
        "Throughput goes through `MetricTask`'s batches and training step as the loop takes them (batched "
        "augmentation, one forward pass per batch, loss, backward, Adam step). An epoch of the mined config is the "
        "image-level train split of the 50,000 images; pair with the lead's full run for the final numbers.",
        "",
        "| config | images per step | s per step | images/s | minutes per epoch |",
        "|---|---:|---:|---:|---:|",
        *rows,
        "",
        f"One epoch of the seed protocol (VGG11, batches of {SEED_BATCH} fixed triplets, {SEED_EPOCH_TRIPLETS:,} "
        f"training triplets = {iters:.1f} iterations), extrapolated from the time per iteration: ours (one "
        "forward pass of 192 images, batched tensor augmentation, channels-last) against a straightforward loop "
        "in the seed's style (`benchmarks/seed_style_loop.py`: per-image Python transforms in a Dataset, a "
        "DataLoader of 64, three forward passes of 64); both are the mean over the timed iterations.",
        "",
        "| loop | s per iteration | minutes per epoch | speed-up |",
        "|---|---:|---:|---:|",
        f"| seed style | {seed_style:.3f} | {seed_style * iters / 60:.1f} | 1.00x |",
        f"| latentatlas | {seed_ours:.3f} | {seed_ours * iters / 60:.1f} | {seed_style / seed_ours:.2f}x |",
        "",
        f"In the seed-style loop, fetching a batch (192 per-image transforms and collation) takes {fetch:.3f} s "
        f"of each iteration ({fetch / seed_style:.0%}); the rest is the three forward passes, backward and Adam.",
        "",
        "The series reports 1.0 to 1.3 s per iteration and 6.5 to 8 minutes per epoch on a laptop CPU.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    print(run(quick="--quick" in sys.argv))
