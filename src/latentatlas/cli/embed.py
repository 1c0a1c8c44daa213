"""`latentatlas embed RUN_DIR --data PATH --out FILE.npz`: embed a labelled dataset with a trained run's model."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np

from latentatlas.choices import DEVICES
from latentatlas.errors import LatentAtlasError

EPILOG = """examples:
  latentatlas embed runs/20261123-101500-cifar10-triplet --data cifar10 --split test --out test.npz
  latentatlas embed runs/RUN --data my_images/ --out mine.npz --checkpoint last
  latentatlas embed runs/RUN --out heldout.npz          (the run's own test split)
  latentatlas analyze test.npz --out test-analysis/
the .npz holds embeddings (N, D) float32, labels (N,) int64 and class_names (C,), in dataset order."""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "embed",
        help="embed a labelled dataset with a trained model, for `latentatlas analyze`",
        description="Embed every image of a dataset with a run's model (batched, the run's eval transform).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by `latentatlas train`")
    p.add_argument(
        "--data",
        metavar="PATH",
        help="image folder, .zip of one, CIFAR-10 binary folder or 'cifar10' (default: the run's test split)",
    )
    p.add_argument("--data-dir", metavar="DIR", help="where the CIFAR-10 release lives, for --data cifar10")
    p.add_argument("--split", choices=["train", "test"], default="train", help="CIFAR-10 split (default: train)")
    p.add_argument("--out", required=True, metavar="FILE.npz", help="output file (must not exist, unless --force)")
    p.add_argument("--checkpoint", default="best", help="best (default), last, or a checkpoint file")
    p.add_argument("--batch-size", type=int, default=512, metavar="N", help="images per forward pass (default 512)")
    p.add_argument("--device", choices=DEVICES, default="auto")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run)


def check_out_file(path: Path, force: bool) -> Path:
    """Raise unless `path` ends in .npz and is absent (or `force` is set and it is a file)."""
    if path.suffix.lower() != ".npz":
        raise LatentAtlasError(f"--out {path}: embeddings are written as .npz; give a file name ending in .npz")
    if path.is_dir():
        raise LatentAtlasError(f"--out {path}: is a folder; give a file name ending in .npz")
    if path.exists() and not force:
        raise LatentAtlasError(f"--out {path}: file exists; choose another name or pass --force to overwrite it")
    from latentatlas.outdir import check_writable

    check_writable(path)
    return path


def write_npz(path: Path, embeddings: np.ndarray, labels: np.ndarray, class_names: list[str]) -> None:
    """Write the three arrays to a temporary file next to `path`, then rename it into place (atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:  # a file object: savez would otherwise append ".npz" to the temp name
            np.savez(f, embeddings=embeddings, labels=labels, class_names=np.array(class_names, dtype=str))
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def run(args: argparse.Namespace) -> int:
    from latentatlas.tasks.inference import embed_dataset, embed_run, load_run_model

    out = check_out_file(Path(args.out), args.force)  # fail before any slow work
    if args.batch_size < 1:
        raise LatentAtlasError(f"--batch-size {args.batch_size}: must be >= 1; e.g. --batch-size 512")
    progress = not args.no_progress
    if args.data is None:
        data = embed_run(args.run_dir, args.checkpoint, args.batch_size, args.device, progress=progress)
    else:
        model, config = load_run_model(args.run_dir, args.checkpoint, args.device)
        data = embed_dataset(
            model, config, args.data, args.batch_size, data_dir=args.data_dir, split=args.split, progress=progress
        )
    write_npz(out, data.embeddings, data.labels, data.class_names)
    n, d = data.embeddings.shape
    print(f"wrote {n:,} embeddings of dimension {d} ({len(data.class_names)} classes) to {out}")
    return 0
