"""The KoLeo studies of docs/studies/koleo.md: the lambda sweep and the three accumulation settings on CIFAR-10.

    python -m benchmarks.study_koleo --run --images ../shared/data/cifar10-train-jpg.zip   # both sweeps, then tables
    python -m benchmarks.study_koleo                                                      # tables from finished runs

`--run` runs the two `latentatlas sweep` commands below one after the other (about 2 hours on 2 CPU cores; run it
alone, other jobs distort the times); a killed study continues where it stopped when run again. Without `--run`,
the tables of docs/studies/koleo.md (between its `<!-- study: NAME -->` markers) are rewritten from the sweeps'
files: every number there comes from the runs' `summary.json`, `metrics.jsonl` and `embeddings/test.npz`.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "studies" / "koleo.md"
LAMBDA_DIR = "runs/studies/koleo-lambda"
ACCUM_DIR = "runs/studies/koleo-accumulation"
# the seed protocol (fixed triplets, margin 0.4 on cosine distance, Adam 5e-4, batch 64 triplets) with latentatlas'
# CPU CNN in place of VGG11 (no ImageNet weights offline; a random VGG11 barely learns in this budget) and GroupNorm
# so that `effective` gives exactly the large batch's gradients; 4 epochs per run
COMMON = (
    "model.kind=cnn model.pretrained=null model.cnn_widths=[32,64,128] model.cnn_stem=16 model.norm=group "
    "train.epochs=4 train.threads=2"
)
LAMBDAS = "0,0.001,0.01,0.1,1"
METRICS = [
    "test_precision_at_1",
    "test_map_at_r",
    "test_knn_accuracy",
    "test_pair_auc",
    "test_intra",
    "test_inter",
    "test_margin",
    "test_ellipse_mean_area",
    "test_ellipse_mean_area_normalized",
    "test_uniformity",
    "test_koleo",
    "best_val_pair_auc",
    "train_time_s",
]


def commands(images: str) -> list[str]:
    """The two sweeps, exactly as run for the study."""
    data = f"data.images.path={images}"
    return [
        f"latentatlas sweep configs/cifar10-seed-koleo.yaml --grid loss.koleo.weight={LAMBDAS} --seeds 3 "
        f"--out {LAMBDA_DIR} --no-progress {data} {COMMON}",
        f"latentatlas sweep configs/cifar10-seed-koleo-ga4.yaml --grid loss.koleo.scope=micro,effective --seeds 3 "
        f"--out {ACCUM_DIR} --no-progress {data} {COMMON}",
    ]


def finished_runs(root: Path) -> list[dict]:
    """The finished runs of a sweep (`params`, `dir` as a Path), read once, in plan order."""
    from latentatlas.sweep import summarize_sweep

    runs = [r for r in summarize_sweep(root)["runs"] if r["status"] == "done"]
    return [dict(r, dir=root / r["dir"]) for r in runs]


def _select(runs: list[dict], **params) -> list[Path]:
    """Run directories whose params include `params`, in seed order."""
    chosen = [r for r in runs if all(r["params"].get(k) == v for k, v in params.items())]
    return [r["dir"] for r in sorted(chosen, key=lambda r: r["params"]["seed"])]


EMBEDDING_ROWS = {
    "rank": "effective rank of the test embeddings (of 128)",
    "pc12": "share of variance in the 2-D PCA map",
    "whole": "KoLeo of a 192-vector test batch",
    "micro": "mean KoLeo of its 4 micro-batches of 48",
}


@functools.cache  # the lambda-0.1 runs sit in both tables
def run_numbers(run: Path) -> dict[str, float]:
    """A run's summary numbers, plus what its saved test embeddings say (rows of EMBEDDING_ROWS)."""
    from latentatlas.analysis.spread import effective_rank, koleo_by_batch
    from latentatlas.report.runs import flatten

    emb = np.load(run / "embeddings" / "test.npz")["embeddings"].astype(np.float64)
    var = np.linalg.svd(emb - emb.mean(axis=0), compute_uv=False) ** 2
    bias = koleo_by_batch(emb, batch=192, parts=4, n_batches=200, seed=0)
    extra = {"rank": effective_rank(emb), "pc12": var[:2].sum() / var.sum(), "whole": bias["whole"],
             "micro": bias["micro"]}  # fmt: skip
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    return {**flatten(summary), **{EMBEDDING_ROWS[k]: v for k, v in extra.items()}}


def settings_table(title: str, groups: dict[Any, list[Path]]) -> str:
    """Mean ± std per setting (one column each) of METRICS and the embedding rows, as a sweep table."""
    from latentatlas.report.runs import aggregate
    from latentatlas.report.sweep_report import markdown_table, sweep_table

    rows = [{title: setting, **run_numbers(run)} for setting, runs in groups.items() for run in runs]
    if not rows:
        return "_no finished run yet_"
    summary = {"swept": [title], "groups": aggregate(rows, [title])}
    summary["metrics"] = [m for m in [*METRICS, *EMBEDDING_ROWS.values()] if m in summary["groups"][0]["mean"]]
    return markdown_table(*sweep_table(summary))


def lambda_table(lam: list[dict]) -> str:
    weights = list(dict.fromkeys(r["params"]["loss.koleo.weight"] for r in lam))
    return settings_table("loss.koleo.weight", {w: _select(lam, **{"loss.koleo.weight": w}) for w in weights})


def accumulation_table(lam: list[dict], acc: list[dict]) -> str:
    return settings_table(
        "accumulation (lambda 0.1)",
        {
            "none (batch 64)": _select(lam, **{"loss.koleo.weight": 0.1}),
            "4 x 16, KoLeo per micro-batch": _select(acc, **{"loss.koleo.scope": "micro"}),
            "4 x 16, KoLeo over the effective batch": _select(acc, **{"loss.koleo.scope": "effective"}),
        },
    )


def time_table(acc: list[dict]) -> str:
    """Seconds per epoch of `effective` over `micro`, paired by seed (same images, same number of steps)."""
    from latentatlas.jsonio import read_jsonl
    from latentatlas.report.sweep_report import markdown_table

    def seconds_per_epoch(run: Path) -> float:
        return float(np.mean([r["epoch_time_s"] for r in read_jsonl(run / "metrics.jsonl")]))

    seeds = {r["params"]["seed"] for r in acc}
    rows = []
    for seed in sorted(seeds):
        micro = _select(acc, **{"loss.koleo.scope": "micro", "seed": seed})
        effective = _select(acc, **{"loss.koleo.scope": "effective", "seed": seed})
        if micro and effective:
            tm, te = seconds_per_epoch(micro[0]), seconds_per_epoch(effective[0])
            rows.append([str(seed), f"{tm:.1f}", f"{te:.1f}", f"{te / tm:.2f}x"])
    if not rows:
        return "_no finished pair yet_"
    return markdown_table(["seed", "micro: s / epoch", "effective: s / epoch", "effective / micro"], rows)


def lambda_figures(root: Path, out_dir: Path) -> list[Path]:
    """The study's metrics against lambda (mean, std error bars) and the test PCA maps per lambda and seed."""
    from latentatlas.report.sweep_report import plot_field, plot_maps
    from latentatlas.sweep import summarize_sweep

    summary = summarize_sweep(root)
    if not summary["groups"]:
        return []
    picked = dict(summary, metrics=[m for m in METRICS if m in summary["metrics"] and m != "train_time_s"])
    paths = [
        plot_field(picked, "loss.koleo.weight", out_dir / "study-koleo-lambda.png"),
        plot_maps(summary, root, "analysis/figures/pca_ellipses.png", out_dir / "study-koleo-lambda-pca.png"),
    ]
    return [p for p in paths if p is not None]


def write_sections(doc: Path, sections: dict[str, str]) -> None:
    text = doc.read_text(encoding="utf-8")
    for name, body in sections.items():
        pattern = re.compile(rf"(<!-- study: {name} -->\n).*?(<!-- end: {name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"{doc}: no '<!-- study: {name} -->' ... '<!-- end: {name} -->' markers")
        text = pattern.sub(lambda m, body=body: m.group(1) + body.strip() + "\n" + m.group(2), text)
    doc.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", action="store_true", help="run (or continue) both sweeps first")
    parser.add_argument("--images", default="../shared/data/cifar10-train-jpg.zip", help="CIFAR-10 images")
    args = parser.parse_args(argv)
    cmds = commands(args.images)
    if args.run:
        exe = shutil.which("latentatlas") or str(Path(sys.executable).parent / "latentatlas")
        for cmd in cmds:
            subprocess.run([exe, *shlex.split(cmd)[1:]], cwd=ROOT, check=False)
    lam_root, acc_root = ROOT / LAMBDA_DIR, ROOT / ACCUM_DIR
    lam = finished_runs(lam_root)
    sections = {"commands": "```\n" + "\n".join(cmds) + "\n```", "lambda": lambda_table(lam)}
    if (acc_root / "sweep.json").is_file():
        acc = finished_runs(acc_root)
        sections["accumulation"] = accumulation_table(lam, acc)
        sections["time"] = time_table(acc)
    write_sections(DOC, sections)
    for path in lambda_figures(lam_root, ROOT / "docs" / "images"):
        print(f"wrote {path}")
    print(f"wrote the tables of {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
