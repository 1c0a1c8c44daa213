"""`latentatlas train CONFIG [key=value ...]`: train into a new run directory, or `--resume RUN_DIR`."""

from __future__ import annotations

import argparse
import os

from latentatlas.cli._pdf import add_pdf_option, check_pdf, write_report_pdf
from latentatlas.configs import builtin_configs
from latentatlas.errors import LatentAtlasError

EPILOG = """examples:
  latentatlas train configs/shapes-vae.yaml
  latentatlas train configs/shapes-vae.yaml train.epochs=10 model.latent_dim=3
  latentatlas train configs/cifar10-triplet.yaml data.images.path=images.zip train.max_minutes=20
  latentatlas train --resume runs/20261123-101500-shapes-vae
  latentatlas train --resume runs/20261123-101500-cifar10-triplet train.max_minutes=40   # train a finished run on
  torchrun --nproc_per_node 2 -m latentatlas train configs/cifar10-seed-koleo.yaml loss.koleo.scope=global
built-in configs (give a path or just the name): {names}"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="train a model from a config",
        description="Train a model from a YAML config with dotted key=value overrides.",
        epilog=EPILOG.format(names=", ".join(builtin_configs())),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("items", nargs="*", metavar="CONFIG [KEY=VALUE ...]", help="config file, then overrides")
    p.add_argument("--run-dir", help="write the run here (must not exist) instead of runs/<time>-<name>/")
    p.add_argument("--runs-root", default="runs", help="parent folder of new run directories (default: runs)")
    p.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue a run from its last checkpoint (overrides: only train.epochs and train.max_minutes, "
        "to train a finished run further)",
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_pdf_option(p)
    p.set_defaults(func=run)


def split_items(items: list[str]) -> tuple[str | None, list[str]]:
    """The first item without '=' is the config; the others are overrides."""
    config, overrides = None, []
    for item in items:
        if "=" not in item and config is None:
            config = item
        elif "=" not in item:
            raise LatentAtlasError(f"unexpected argument {item!r}: give one config file, then key=value overrides")
        else:
            overrides.append(item)
    return config, overrides


def run(args: argparse.Namespace) -> int:
    from latentatlas.config import load_config
    from latentatlas.configs import resolve_config_path
    from latentatlas.tasks.pipeline import train

    path, overrides = split_items(args.items)
    check_pdf(args)
    if args.resume:
        if path:
            raise LatentAtlasError("--resume continues a run with its own config; drop the config file")
        progress = False if args.no_progress else None  # else the run's own train.progress
        result = train(None, resume=args.resume, progress=progress, resume_overrides=overrides)
    else:
        if path is None and not overrides:
            raise LatentAtlasError("no config given; e.g. latentatlas train configs/shapes-vae.yaml")
        config = load_config(resolve_config_path(path) if path else None, overrides)
        if args.no_progress:
            config.train.progress = False
        result = train(config, runs_root=args.runs_root, run_dir=args.run_dir)
    print(f"run directory: {result.run_dir}")
    report = result.run_dir / "report.html"
    if report.exists():
        print(f"report: {report}")
        if os.environ.get("RANK", "0") == "0":  # under torchrun, rank 0 alone prints the page
            write_report_pdf(args, report)
    return 0
