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
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

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


def _cell(values: list[float]) -> str:
    if not values:
        return "-"
    a = np.asarray(values, dtype=float)
    return f"{a.mean():.4g}" if len(a) < 2 else f"{a.mean():.4g} ± {a.std(ddof=1):.2g}"


def embedding_rows(groups: dict[str, list[Path]]) -> list[list[str]]:
    """Rows computed from each run's saved test embeddings (mean ± std over the runs of a group)."""
    from latentatlas.analysis.spread import effective_rank

    stats: dict[str, list[dict[str, float]]] = {}
    for name, runs in groups.items():
        for run in runs:
            emb = np.load(run / "embeddings" / "test.npz")["embeddings"].astype(np.float64)
            var = np.linalg.svd(emb - emb.mean(axis=0), compute_uv=False) ** 2
            bias = _koleo_bias(run)
            stats.setdefault(name, []).append({"rank": effective_rank(emb), "pc12": var[:2].sum() / var.sum(), **bias})
    labels = {
        "rank": "effective rank of the test embeddings (of 128)",
        "pc12": "share of variance in the 2-D PCA map",
        "whole": "KoLeo of a 192-vector test batch",
        "micro": "mean KoLeo of its 4 micro-batches of 48",
    }
    return [
        [label, *(_cell([s[key] for s in stats.get(name, [])]) for name in groups)] for key, label in labels.items()
    ]


def lambda_table(root: Path) -> str:
    from latentatlas.report.sweep_report import markdown_table, summarize_sweep, sweep_table

    summary = summarize_sweep(root)
    if not summary["groups"]:
        return "_no finished run yet_"
    metrics = [m for m in METRICS if m in summary["metrics"]]
    headers, rows = sweep_table(summary, metrics)
    weights = [g["group"]["loss.koleo.weight"] for g in summary["groups"]]
    rows += embedding_rows({str(w): _runs(root, **{"loss.koleo.weight": w}) for w in weights})
    return markdown_table(headers, rows)


def _runs(root: Path, **params) -> list[Path]:
    """Finished run directories of a sweep whose params include `params`, in seed order."""
    from latentatlas.report.sweep_report import summarize_sweep

    out = []
    for run in summarize_sweep(root)["runs"]:
        if run["status"] == "done" and all(run["params"].get(k) == v for k, v in params.items()):
            out.append((run["params"]["seed"], root / run["dir"]))
    return [d for _, d in sorted(out)]


def _summary(run: Path) -> dict:
    import json

    return json.loads((run / "summary.json").read_text())


def _koleo_bias(run: Path) -> dict:
    from latentatlas.analysis.spread import koleo_by_batch

    emb = np.load(run / "embeddings" / "test.npz")["embeddings"]
    return koleo_by_batch(emb, batch=192, parts=4, n_batches=200, seed=0)


def settings(lam_root: Path, acc_root: Path) -> dict[str, list[Path]]:
    return {
        "none (batch 64)": _runs(lam_root, **{"loss.koleo.weight": 0.1}),
        "4 x 16, KoLeo per micro-batch": _runs(acc_root, **{"loss.koleo.scope": "micro"}),
        "4 x 16, KoLeo over the effective batch": _runs(acc_root, **{"loss.koleo.scope": "effective"}),
    }


def accumulation_table(lam_root: Path, acc_root: Path) -> str:
    from latentatlas.report.sweep_report import markdown_table

    groups = settings(lam_root, acc_root)
    headers = ["accumulation (lambda 0.1)", *groups]
    rows = [["n (runs)", *(str(len(runs)) for runs in groups.values())]]
    for metric in METRICS:
        rows.append([metric, *(_cell([_summary(r)[metric] for r in runs if metric in _summary(r)])
                               for runs in groups.values())])  # fmt: skip
    return markdown_table(headers, rows + embedding_rows(groups))


def time_table(acc_root: Path) -> str:
    """Seconds per epoch of `effective` over `micro`, paired by seed (same images, same number of steps)."""
    import json

    from latentatlas.report.sweep_report import markdown_table

    def epoch_times(run: Path) -> list[float]:
        rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        return [r["epoch_time_s"] for r in rows]

    micro, effective = (
        _runs(acc_root, **{"loss.koleo.scope": "micro"}),
        _runs(acc_root, **{"loss.koleo.scope": "effective"}),
    )
    rows = []
    for m, e in zip(micro, effective):
        tm, te = np.mean(epoch_times(m)), np.mean(epoch_times(e))
        rows.append(
            [str(_summary(m).get("run", m.name).rsplit("seed=", 1)[-1]), f"{tm:.1f}", f"{te:.1f}", f"{te / tm:.2f}x"]
        )
    if not rows:
        return "_no finished pair yet_"
    return markdown_table(["seed", "micro: s / epoch", "effective: s / epoch", "effective / micro"], rows)


def lambda_figures(root: Path, out_dir: Path) -> list[Path]:
    """The study's metrics against lambda (mean, std error bars) and the test PCA maps per lambda and seed."""
    from latentatlas.report.sweep_report import plot_field, plot_maps, summarize_sweep

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
    lam, acc = ROOT / LAMBDA_DIR, ROOT / ACCUM_DIR
    sections = {"commands": "```\n" + "\n".join(cmds) + "\n```", "lambda": lambda_table(lam)}
    if (acc / "sweep.json").is_file():
        sections["accumulation"] = accumulation_table(lam, acc)
        sections["time"] = time_table(acc)
    write_sections(DOC, sections)
    for path in lambda_figures(lam, ROOT / "docs" / "images"):
        print(f"wrote {path}")
    print(f"wrote the tables of {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
