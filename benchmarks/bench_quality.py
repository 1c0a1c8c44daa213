"""Quality per CPU-minute on CIFAR-10: test precision@1, MAP@R and pair AUC after 10 and 20 minutes of training.

The default config (`cifar10-triplet`: fast CNN, mined class-balanced batches, cosine schedule over the time
budget) next to the seed protocol (`cifar10-seed`: VGG11, fixed triplets, Adam 5e-4) under the same budgets.
Data: the shared CIFAR-10 training images (JPEG zip, 50,000 images); without the official test batch, 10% of the
images (stratified) are the test split, never seen in training. The seed's VGG11 starts from random weights here
(no internet for the ImageNet file), which the table says.
Run alone: `python -m benchmarks.run_all --only bench_quality` (about an hour; not part of `make bench`).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from latentatlas.config import load_config
from latentatlas.configs import CONFIG_DIR
from latentatlas.tasks.pipeline import train

ROOT = Path(__file__).resolve().parent.parent
ZIP = Path(os.environ.get("LATENTATLAS_CIFAR_ZIP", ROOT.parent / "shared" / "data" / "cifar10-train-jpg.zip"))

RUNS = [
    ("cifar10-triplet", 10, []),
    ("cifar10-triplet", 20, []),
    ("cifar10-seed", 10, ["model.pretrained=null"]),
    ("cifar10-seed", 20, ["model.pretrained=null"]),
]


def _row(name: str, minutes: float, s: dict) -> str:
    nan = float("nan")
    return (
        f"| {name} | {minutes:g} | {s['epochs_trained']} | {s.get('test_precision_at_1', nan):.4f} | "
        f"{s.get('test_map_at_r', nan):.4f} | {s.get('test_pair_auc', nan):.4f} | {s.get('test_margin', nan):.4f} | "
        f"{s['train_time_s'] / 60:.1f} |"
    )


def run(quick: bool = False) -> str:
    runs = [(n, 0.5, ["data.images.limit=2000", *o]) for n, _, o in RUNS[::2]] if quick else RUNS
    rows = []
    # finished runs are kept (and skipped when the study is rerun), so an interrupted study loses no run
    root = Path(tempfile.mkdtemp()) if quick else ROOT / ".cache" / "bench_quality"
    for name, minutes, extra in runs:
        run_dir = root / f"{name}-{minutes:g}min"
        summary_path = run_dir / "summary.json"
        if not summary_path.exists():
            shutil.rmtree(run_dir, ignore_errors=True)
            overrides = [f"data.images.path={ZIP}", f"train.max_minutes={minutes}", "train.epochs=1000",
                         "train.progress=false", *extra]  # fmt: skip
            train(load_config(CONFIG_DIR / f"{name}.yaml", overrides), run_dir=run_dir)
        rows.append(_row(name, minutes, json.loads(summary_path.read_text())))
    return "\n".join(
        [
            "## CIFAR-10 metric learning: quality per CPU-minute",
            "",
            "Each run trains for the time budget (`train.max_minutes`; epochs left open, the cosine schedule of the "
            "default follows the budget), then the best checkpoint by validation is evaluated on the held-out test "
            "split (5,000 images, 10% of the shared CIFAR-10 training images, by image). Retrieval by cosine "
            "similarity, leave-one-out over the test split; pair AUC on 2,000 fixed test triplets. The seed "
            "protocol's VGG11 starts from random weights (the ImageNet file cannot be fetched here).",
            "",
            "| config | budget (min) | epochs | test precision@1 | test MAP@R | test pair AUC | test margin | "
            "training time (min) |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
