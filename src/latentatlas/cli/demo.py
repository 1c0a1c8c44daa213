"""`latentatlas demo`: seed 004 end to end - an AE and a VAE on generated cylinders, compared in one report."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from latentatlas.cli._pdf import add_pdf_option, check_pdf, write_report_pdf


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
    add_pdf_option(p)
    p.set_defaults(func=run)


STUDY = Path("docs") / "studies" / "vae.md"  # the multi-seed AE-vs-VAE study, when the repository has one


def study_path() -> Path | None:
    """docs/studies/vae.md in the working directory or the source tree, if there is one."""
    import latentatlas

    for root in (Path.cwd(), Path(latentatlas.__file__).resolve().parents[2]):
        if (root / STUDY).is_file():
            return (root / STUDY).resolve()
    return None


def study_href(report_dir: Path) -> str | None:
    """A relative link from the report to docs/studies/vae.md (in the working directory or the source tree)."""
    path = study_path()
    return None if path is None else Path(os.path.relpath(path, report_dir.resolve())).as_posix()


def summary_lines(ae: Mapping[str, Any], vae: Mapping[str, Any], study: Path | None = None) -> list[str]:
    """What the demo prints after training: this run's AE-vs-VAE validity difference (grid, then samples and
    reconstructions) and where the multi-seed verdict is (docs/studies/vae.md)."""
    from latentatlas.report.findings_shapes import ae_vae_findings

    found = [f.text for f in ae_vae_findings(ae, vae)]
    lines = [t for t in found if t.startswith(("In this run", "Sample validity"))]
    if not lines:
        lines = ["This run measured no validity to compare (grid_validity missing from the summaries)."]
    where = str(study) if study is not None else f"{STUDY.as_posix()} in the latentatlas repository"
    return [*lines, f"One seed per model, so small differences can be noise; the verdict over 5 seeds: {where}"]


def run(args: argparse.Namespace) -> int:
    from latentatlas.config import load_config
    from latentatlas.configs import CONFIG_DIR
    from latentatlas.report.compare import compare_runs
    from latentatlas.report.findings_shapes import ae_vae_findings
    from latentatlas.tasks.pipeline import train
    from latentatlas.train.rundir import new_run_dir

    check_pdf(args)  # before two trainings, not after
    start = time.monotonic()
    configs = [load_config(CONFIG_DIR / f"{name}.yaml", args.overrides) for name in ("shapes-ae", "shapes-vae")]
    results = []
    for config in configs:
        if args.no_progress:
            config.train.progress = False
        results.append(train(config, runs_root=args.runs_root))
        print(f"{config.name}: {results[-1].run_dir}")
    out = new_run_dir(args.runs_root, "compare-ae-vae")
    findings = ae_vae_findings(results[0].summary, results[1].summary, study_href(out))
    title = "AE vs VAE on generated cylinders (seed 004)"
    report = compare_runs([r.run_dir for r in results], out, force=True, findings=findings, title=title)
    print(f"demo finished in {time.monotonic() - start:.0f} s")
    for line in summary_lines(results[0].summary, results[1].summary, study_path()):
        print(line)  # this run's validity difference, and where the multi-seed verdict is
    print(f"report: {Path(report).resolve()}")
    write_report_pdf(args, Path(report))
    return 0
