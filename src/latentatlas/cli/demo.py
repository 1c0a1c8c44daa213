"""`latentatlas demo`: seed 004 end to end - an AE and a VAE on generated cylinders, compared in one report."""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo",
        help="train an AE and a VAE on generated cylinders and write one report comparing them",
        description=(
            "Runs the built-in configs shapes-ae and shapes-vae (seed 004: 1,000 cylinders, 50 epochs, 2-D latent), "
            "then `latentatlas compare` on the two runs, and prints where the report is."
        ),
    )
    p.add_argument("--runs-root", default="runs", help="parent folder of the run directories (default: runs)")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="overrides for both runs, e.g. train.epochs=5")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latentatlas.config import load_config
    from latentatlas.configs import CONFIG_DIR
    from latentatlas.report.compare import compare_runs
    from latentatlas.tasks.pipeline import train
    from latentatlas.train.rundir import new_run_dir

    start = time.monotonic()
    runs = []
    for name in ("shapes-ae", "shapes-vae"):
        config = load_config(CONFIG_DIR / f"{name}.yaml", args.overrides)
        if args.no_progress:
            config.train.progress = False
        result = train(config, runs_root=args.runs_root)
        print(f"{name}: {result.run_dir}")
        runs.append(result.run_dir)
    out = new_run_dir(args.runs_root, "compare-ae-vae")
    report = compare_runs(runs, out, force=True)
    print(f"demo finished in {time.monotonic() - start:.0f} s")
    print(f"report: {Path(report).resolve()}")
    return 0
