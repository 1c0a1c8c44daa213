"""The VAE studies of docs/studies/vae.md: AE vs VAE on the seed's setting over 5 seeds, and beta x latent dim on
the five families over 3 seeds, with validity, latent statistics and the disentanglement scores.

    python -m benchmarks.study_vae --run      # both sweeps (a few CPU-hours), then the tables
    python -m benchmarks.study_vae            # tables and figures from the finished runs

A killed study continues where it stopped when run again (sweeps resume). Without `--run`, the tables of
docs/studies/vae.md (between its `<!-- study: NAME -->` markers) are rewritten from the sweeps' files: every number
there comes from the runs' `summary.json` and the sweeps' `sweep.json`.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks.study_koleo import _select, finished_runs, write_sections

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "studies" / "vae.md"
SEED_DIR = "runs/studies/vae-seed"
GRID_DIR = "runs/studies/vae-beta-dim"
# more points for FactorVAE / BetaVAE than a plain run takes (docs/disentanglement.md), fresh figures for MIG/DCI/SAP
SCORES = "analysis.score_figures=5000 analysis.factor_vae_points=800 analysis.beta_vae_points=400 train.threads=2"
BETAS = "0.25,0.5,1,2,4,8"
DIMS = "2,3,6"
SEED_METRICS = [
    "grid_validity",
    "sample_validity",
    "val_recon_validity",
    "morph_validity",
    "morph_validity_slerp",
    "morph_smoothness",
    "latent_empty_cells",
    "latent_type_separation",
    "val_recon_pixel_error",
    "mig",
    "dci_disentanglement",
    "dci_informativeness",
    "sap",
    "traversal_validity",
]
GRID_METRICS = [
    "grid_validity",
    "sample_validity",
    "val_recon_validity",
    "val_recon",
    "kl_total",
    "active_units",
    "family_separation",
    "mig",
    "dci_disentanglement",
    "dci_completeness",
    "dci_informativeness",
    "sap",
    "factor_vae_score",
    "beta_vae_score",
    "traversal_validity",
]


def commands() -> list[str]:
    """The two sweeps, exactly as run for the study."""
    return [
        f"latentatlas sweep configs/shapes-vae.yaml --grid model.kind=ae,vae --seeds 5 --out {SEED_DIR} "
        f"--no-progress {SCORES}",
        f"latentatlas sweep configs/shapes-families-vae.yaml --grid loss.beta={BETAS} model.latent_dim={DIMS} "
        f"--seeds 3 --out {GRID_DIR} --no-progress data.n_train=1000 {SCORES}",
    ]


def table(title: str, groups: dict[str, list[Path]], metrics: list[str]) -> str:
    """Mean ± std (n) per setting, one column each, from the runs' summary.json."""
    from latentatlas.report.runs import aggregate, flatten
    from latentatlas.report.sweep_report import markdown_table, sweep_table

    rows = [{title: setting, **flatten(json.loads((run / "summary.json").read_text()))}
            for setting, runs in groups.items() for run in runs]  # fmt: skip
    if not rows:
        return "_no finished run yet_"
    summary = {"swept": [title], "groups": aggregate(rows, [title])}
    summary["metrics"] = [m for m in metrics if any(m in g["mean"] for g in summary["groups"])]
    return markdown_table(*sweep_table(summary))


def difference_table(ae: list[Path], vae: list[Path], metrics: list[str]) -> str:
    """VAE minus AE per metric, with Welch's t statistic over the seeds (how many standard errors apart)."""
    import numpy as np

    from latentatlas.report.sweep_report import markdown_table

    def values(runs: list[Path], metric: str) -> np.ndarray:
        got = [json.loads((r / "summary.json").read_text()).get(metric) for r in runs]
        return np.array([v for v in got if isinstance(v, int | float)], dtype=float)

    rows = []
    for metric in metrics:
        a, b = values(ae, metric), values(vae, metric)
        if len(a) < 2 or len(b) < 2:
            continue
        se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
        t = (b.mean() - a.mean()) / se if se > 0 else float("nan")
        rows.append([metric, f"{b.mean() - a.mean():+.4g}", f"{se:.2g}", f"{t:+.1f}"])
    return markdown_table(["quantity", "VAE - AE", "standard error", "Welch t"], rows) if rows else "_no pairs_"


def grid_table(grid: list[dict], metric: str) -> str:
    """One metric as a beta (rows) x latent dim (columns) table of mean ± std over seeds."""
    import numpy as np

    from latentatlas.report.sweep_report import markdown_table

    betas = sorted({r["params"]["loss.beta"] for r in grid})
    dims = sorted({r["params"]["model.latent_dim"] for r in grid})
    rows = []
    for beta in betas:
        cells = [str(beta)]
        for dim in dims:
            runs = _select(grid, **{"loss.beta": beta, "model.latent_dim": dim})
            values = [json.loads((r / "summary.json").read_text()).get(metric) for r in runs]
            values = [v for v in values if isinstance(v, int | float)]
            std = f" ± {np.std(values, ddof=1):.2g}" if len(values) > 1 else ""
            cells.append(f"{np.mean(values):.3f}{std} ({len(values)})" if values else "–")
        rows.append(cells)
    return markdown_table(["beta", *(f"latent dim {d}" for d in dims)], rows)


def durations(root: Path) -> str:
    """How long a sweep's runs took (sweep.json `seconds`)."""
    record = json.loads((root / "sweep.json").read_text())
    seconds = [r["seconds"] for r in record["runs"] if r.get("status") == "done" and r.get("seconds")]
    if not seconds:
        return "no finished run"
    return f"{len(seconds)} runs, {sum(seconds) / 3600:.2f} h in all ({min(seconds):.0f} to {max(seconds):.0f} s each)"


def figures(root: Path, out_dir: Path) -> list[Path]:
    """Every score against beta, one line per latent dim (mean, std error bars)."""
    from latentatlas.report.sweep_report import plot_field
    from latentatlas.sweep import summarize_sweep

    summary = summarize_sweep(root)
    if not summary["groups"]:
        return []
    picked = dict(summary, metrics=[m for m in GRID_METRICS if m in summary["metrics"]])
    path = plot_field(picked, "loss.beta", out_dir / "study-vae-beta.png")
    return [path] if path is not None else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", action="store_true", help="run (or continue) both sweeps first")
    args = parser.parse_args(argv)
    cmds = commands()
    if args.run:
        exe = shutil.which("latentatlas") or str(Path(sys.executable).parent / "latentatlas")
        for cmd in cmds:
            subprocess.run([exe, *shlex.split(cmd)[1:]], cwd=ROOT, check=False)
    sections = {"commands": "```\n" + "\n".join(cmds) + "\n```"}
    seed_root, grid_root = ROOT / SEED_DIR, ROOT / GRID_DIR
    if (seed_root / "sweep.json").is_file():
        seed = finished_runs(seed_root)
        groups = {kind.upper(): _select(seed, **{"model.kind": kind}) for kind in ("ae", "vae")}
        sections["seed"] = table("model", groups, SEED_METRICS)
        sections["seed-diff"] = difference_table(groups["AE"], groups["VAE"], SEED_METRICS)
        sections["seed-time"] = durations(seed_root)
    if (grid_root / "sweep.json").is_file():
        grid = finished_runs(grid_root)
        sections["grid"] = "\n\n".join(f"**{m}**\n\n{grid_table(grid, m)}" for m in GRID_METRICS)
        sections["grid-time"] = durations(grid_root)
        for path in figures(grid_root, ROOT / "docs" / "images"):
            print(f"wrote {path}")
    write_sections(DOC, {k: v for k, v in sections.items() if f"<!-- study: {k} -->" in DOC.read_text()})
    print(f"wrote the tables of {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
