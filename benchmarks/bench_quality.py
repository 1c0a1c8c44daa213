"""Quality per CPU-minute on CIFAR-10: test precision@1, MAP@R, k-NN accuracy and pair AUC after 5, 10, 20 minutes.

The study of issue 15: the budget-aware recipe (`cifar10-embed`: whitened CNN, cosine classifier with label
smoothing, a linear schedule that ends with the budget, flip-averaged test embeddings), the earlier default
(`cifar10-triplet`) and a plain softmax classifier on the same network and recipe (`model.normalize=false`, its
head's output as embeddings), each after 5, 10 and 20 minutes with 2 seeds, plus one 40-minute run of the recipe,
single-seed 5-minute ablations that each remove one choice of the recipe, all on widths 32-64-128 (the recipe's
first network), and the recipe on widths 48-96-192 after 5, 10 and 20 minutes with 2 seeds. The wider network was
added when the faster machine of 2026-12-04 gave 32-64-128 54 epochs in 20 minutes for 0.824 test precision@1, no
more than its 28 epochs did before (0.825; results/quality/extra/, seed 0, outside the plan): capacity, not
epochs, limited it. It won at every budget and became `cifar10-embed`'s default that day; one 20-minute run on
widths 64-128-256 asks whether capacity still pays. The seed sets the split too, so the two seeds are two test
splits (5,000 images each, 10% of the shared CIFAR-10 training images, never trained on).

About 6 hours of machine time in all, so the study is resumable across sessions and machines: each finished run's
numbers are written to `benchmarks/results/quality/<run>.json` (committed) and skipped when the study is rerun;
runs go in priority order (seed 0 of the main budgets first); `LATENTATLAS_QUALITY_MINUTES` caps the wall time of
one invocation (no run starts that would not end within it), and rows not yet measured say so in the table.
Run alone: `python -m benchmarks.run_all --only bench_quality` (not part of `make bench`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from latentatlas.config import load_config
from latentatlas.configs import CONFIG_DIR
from latentatlas.tasks.pipeline import train

ROOT = Path(__file__).resolve().parent.parent
ZIP = Path(os.environ.get("LATENTATLAS_CIFAR_ZIP", ROOT.parent / "shared" / "data" / "cifar10-train-jpg.zip"))
RESULTS = ROOT / "benchmarks" / "results" / "quality"
EVAL_MINUTES = 1.0  # test embedding, analysis and report after the budget (measured 2026-12-02: 10-16 s a run)

# cifar10-embed ran on widths 32-64-128 until 2026-12-04; its rows (and the softmax, ablation and 40-minute rows
# built on it) keep those widths, so that rerunning them reproduces what their files hold.
NARROW = ["model.cnn_widths=[32,64,128]"]
SOFTMAX = ["loss.metric.name=softmax", "loss.metric.softmax.label_smoothing=0.1", "model.normalize=false"]
# each row: one choice of cifar10-embed undone, everything else kept
ABLATIONS = {
    "embed - whitening (plain CNN, stem 16)": ["model.kind=cnn", "model.cnn_stem=16"],
    "embed - label smoothing": ["loss.metric.normalized_softmax.label_smoothing=0"],
    "embed - flip averaging": ["model.flip_average=false"],
    "embed - linear schedule (cosine)": ["train.schedule=cosine"],
    "embed - cosine classifier (mined triplets)": ["loss.metric.name=triplet", "loss.mining=all", "loss.margin=0.2"],
}
WIDE = ["model.cnn_widths=[48,96,192]"]  # the default widths since 2026-12-04 (explicit: the rows stay as run)
WIDER = ["model.cnn_widths=[64,128,256]"]  # one step further, 20 minutes: does capacity still pay?
LABELS = {"cifar10-embed": "cifar10-embed, widths 32-64-128", "softmax": "softmax baseline (32-64-128)",
          "cifar10-triplet": "cifar10-triplet", "long": "cifar10-embed, widths 32-64-128",
          "wide": "cifar10-embed (default, widths 48-96-192)", "wider": "cifar10-embed, widths 64-128-256"}  # fmt: skip


def plan() -> list[tuple[str, str, str, float, int, list[str]]]:
    """(key, arm, config file, minutes, seed, overrides) in the order they run."""
    arms = {"cifar10-embed": ("cifar10-embed", NARROW), "softmax": ("cifar10-embed", NARROW + SOFTMAX),
            "cifar10-triplet": ("cifar10-triplet", [])}  # fmt: skip
    order = [("cifar10-embed", 20), ("cifar10-embed", 10), ("softmax", 20), ("cifar10-triplet", 20),
             ("cifar10-embed", 5), ("softmax", 10), ("cifar10-triplet", 10), ("softmax", 5),
             ("cifar10-triplet", 5)]  # fmt: skip
    runs = [(f"{arm}-{m}min-seed0", arm, arms[arm][0], m, 0, arms[arm][1]) for arm, m in order]
    runs += [
        (f"ablation-{i}-5min-seed0", "ablation", "cifar10-embed", 5, 0, NARROW + o)
        for i, o in enumerate(ABLATIONS.values())
    ]
    runs += [(f"{arm}-{m}min-seed1", arm, arms[arm][0], m, 1, arms[arm][1]) for arm, m in order]
    runs.append(("cifar10-embed-40min-seed0", "long", "cifar10-embed", 40, 0, NARROW))
    runs += [(f"wide-20min-seed{s}", "wide", "cifar10-embed", 20, s, WIDE) for s in (0, 1)]
    runs += [(f"wide-{m}min-seed{s}", "wide", "cifar10-embed", m, s, WIDE) for s in (0, 1) for m in (10, 5)]
    runs.append(("wider-20min-seed0", "wider", "cifar10-embed", 20, 0, WIDER))
    return runs


def _train(config: str, minutes: float, seed: int, extra: list[str], run_dir: Path) -> dict:
    overrides = [f"data.images.path={ZIP}", f"train.max_minutes={minutes}", "train.epochs=1000",
                 "train.progress=false", f"seed={seed}", *extra]  # fmt: skip
    shutil.rmtree(run_dir, ignore_errors=True)
    train(load_config(CONFIG_DIR / f"{config}.yaml", overrides), run_dir=run_dir)
    return json.loads((run_dir / "summary.json").read_text())


def _measure(quick: bool) -> tuple[dict[str, dict], list[str]]:
    """Numbers of every run of the plan measured so far (running what the time cap allows), and the keys left."""
    if quick:
        tmp = Path(tempfile.mkdtemp())
        runs = [r for r in plan() if r[0] in ("cifar10-embed-20min-seed0", "softmax-20min-seed0")]
        return {k: _train(c, 0.3, s, ["data.images.limit=1500", *o], tmp / k) for k, _, c, _, s, o in runs}, []
    cap = float(os.environ.get("LATENTATLAS_QUALITY_MINUTES", "inf"))
    start, done, left = time.monotonic(), {}, []
    RESULTS.mkdir(parents=True, exist_ok=True)
    for key, _arm, config, minutes, seed, extra in plan():
        path = RESULTS / f"{key}.json"
        if path.exists():
            done[key] = json.loads(path.read_text())
            continue
        if (time.monotonic() - start) / 60 + minutes + EVAL_MINUTES > cap:
            left.append(key)
            continue
        began = time.monotonic()
        summary = _train(config, minutes, seed, extra, ROOT / ".cache" / "bench_quality" / key)
        summary |= {"wall_s": round(time.monotonic() - began, 1), "measured": dt.date.today().isoformat(),
                    "config": config, "overrides": extra, "seed": seed, "budget_minutes": minutes}  # fmt: skip
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(summary, indent=1, sort_keys=True))
        tmp.replace(path)  # a run interrupted before this line leaves no file and is rerun
        done[key] = summary
    return done, left


def _cell(values: list[float]) -> str:
    if not values:
        return "not run yet"
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ({', '.join(f'{v:.3f}' for v in values)})"


METRICS = [("test_precision_at_1", "precision@1"), ("test_map_at_r", "MAP@R"), ("test_knn_accuracy", "k-NN acc."),
           ("test_pair_auc", "pair AUC")]  # fmt: skip


def _cells(runs: list[dict]) -> str:
    """`epochs | metric | ...` of the runs measured so far (each seed's epochs, each metric's mean and values)."""
    epochs = ", ".join(str(r["epochs_trained"]) for r in runs) or "-"
    return " | ".join([epochs, *(_cell([r[k] for r in runs if k in r]) for k, _ in METRICS)])


def _table(done: dict[str, dict], quick: bool) -> list[str]:
    rows = ["| run | budget (min) | seeds | epochs | " + " | ".join(m for _, m in METRICS) + " |",
            "|" + "---|" * (4 + len(METRICS))]  # fmt: skip
    groups: dict[tuple[str, float], list[str]] = {}
    for key, arm, _config, minutes, _seed, _ in plan():
        if arm != "ablation":
            groups.setdefault((LABELS[arm], minutes), []).append(key)
    for (label, minutes), keys in groups.items():
        runs = [done[k] for k in keys if k in done]
        rows.append(f"| {label} | {minutes:g} | {len(runs)} of {len(keys)} | {_cells(runs)} |")
    if quick:
        return rows
    rows += ["", "What each choice of the recipe bought (5 minutes, seed 0; each row undoes one choice):", "",
             "| run | epochs | " + " | ".join(m for _, m in METRICS) + " |",
             "|" + "---|" * (2 + len(METRICS))]  # fmt: skip
    named = [("cifar10-embed, 32-64-128 (all choices)", "cifar10-embed-5min-seed0")]
    named += [(name, f"ablation-{i}-5min-seed0") for i, name in enumerate(ABLATIONS)]
    rows += [f"| {name} | {_cells([done[key]] if key in done else [])} |" for name, key in named]
    return rows


def _speed_note(done: dict[str, dict]) -> str:
    """A sentence on how much the epochs of one arm and budget differ between its seeds (the machine's speed
    varies between sessions), or "" while no arm has two seeds."""
    epochs: dict[str, list[int]] = {}
    for key, summary in done.items():
        epochs.setdefault(key.rsplit("-seed", 1)[0], []).append(summary["epochs_trained"])
    ratios = [max(e) / min(e) for e in epochs.values() if len(e) > 1 and min(e) > 0]
    if not ratios:
        return ""
    return (f" The seeds of one arm and budget trained up to {max(ratios):.2f}x as many epochs as each other: the"
            " machine's speed varies between sessions, so compare runs by their epochs too (a seed's difference"
            " mixes the seed and the machine's speed).")  # fmt: skip


def run(quick: bool = False) -> str:
    done, left = _measure(quick)
    dates = sorted({r.get("measured", "") for r in done.values()} - {""})
    lines = [
        "## CIFAR-10 embeddings: quality per CPU-minute",
        "",
        "Each run trains for its budget (`train.max_minutes`, validation included; epochs left open, the schedules "
        "follow the budget), then the best checkpoint by validation precision@1 is evaluated on the held-out test "
        "split (5,000 images, 10% of the shared CIFAR-10 training images, chosen by the run's seed). Retrieval by "
        "cosine similarity, leave-one-out over the test split (k-NN accuracy: 10 neighbours vote); pair AUC on "
        "2,000 fixed test triplets. Two seeds: mean (each seed). `cifar10-embed` defaults to widths 48-96-192 "
        "since 2026-12-04; the rows marked 32-64-128 ran it with `model.cnn_widths=[32,64,128]` (its first "
        "network). The softmax baseline is that run with `loss.metric.name=softmax` (label smoothing 0.1) and "
        "`model.normalize=false`.",
        "",
        *_table(done, quick),
    ]
    if dates:
        hours = sum(r.get("wall_s", 0.0) for r in done.values()) / 3600
        lines += ["", f"Runs measured on {', '.join(dates)}, each alone on the machine ({len(done)} runs, "
                  f"{hours:.1f} hours of machine time in all; a rerun of the study runs only the rows without a "
                  f"result file).{_speed_note(done)}"]  # fmt: skip
    if left:
        lines += ["", f"Not run yet ({len(left)} runs; the next invocation of the study runs them): "
                  + ", ".join(f"`{k}`" for k in left) + "."]  # fmt: skip
    return "\n".join(lines)
