"""`latentatlas data download cifar10` and `latentatlas data info PATH`: get datasets and see what they hold."""

from __future__ import annotations

import argparse
from pathlib import Path

from latentatlas.errors import LatentAtlasError

EPILOG = """examples:
  latentatlas data download cifar10                   (into ~/.cache/latentatlas/cifar10, or $LATENTATLAS_CACHE)
  latentatlas data download cifar10 --data-dir data/cifar10
  latentatlas data info cifar10
  latentatlas data info /work/shared/data/cifar10-train-jpg.zip"""

DATASETS = ("cifar10",)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "data",
        help="download datasets and show what a dataset holds",
        description="Download known datasets (checksum verified) and describe image datasets.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    dl = sub.add_parser("download", help="download a dataset (verified by checksum) and unpack it")
    dl.add_argument("dataset", choices=DATASETS, help="dataset name")
    dl.add_argument("--data-dir", metavar="DIR", help="where to put it (default: the latentatlas cache)")
    dl.add_argument("--no-progress", action="store_true", help="hide the download progress bar")
    info = sub.add_parser("info", help="classes, counts, image size and cache location of a dataset")
    info.add_argument("path", metavar="PATH", help="'cifar10', an image folder, a .zip of one, or CIFAR-10 batches")
    info.add_argument("--data-dir", metavar="DIR", help="where the CIFAR-10 release lives, for 'cifar10'")
    p.set_defaults(func=run)


def _cifar_dir(data_dir: str | None) -> Path:
    from latentatlas.data.imageset import cache_root

    return Path(data_dir).expanduser() if data_dir else cache_root() / "cifar10"


def download(args: argparse.Namespace) -> int:
    from latentatlas.data.cifar10 import prepare_cifar10

    root = prepare_cifar10(_cifar_dir(args.data_dir), download=True, progress=not args.no_progress)
    print(f"{args.dataset}: ready in {root}")
    print(f"use it with data.images.path=cifar10 data.images.data_dir={root.parent}")
    return 0


def describe(path: str, data_dir: str | None = None) -> list[str]:
    """Lines describing a dataset: source, image size, classes with counts, and where its files or cache are."""
    from latentatlas.data.images import load_image_dataset
    from latentatlas.data.imageset import cache_root

    is_cifar = path.lower() in ("cifar10", "cifar-10")
    splits = ["train", "test"] if is_cifar or _has_cifar_test(Path(path)) else ["train"]
    lines = []
    for split in splits:
        data = load_image_dataset(path, data_dir=_cifar_dir(data_dir) if is_cifar else data_dir, split=split)
        counts = data.labels.bincount(minlength=len(data.class_names)).tolist()
        _, c, h, w = data.images.shape
        title = f"{split} split" if len(splits) > 1 else "images"
        lines.append(f"{title}: {len(data):,} images of {w}x{h} with {c} channels, {len(data.class_names)} classes")
        lines += [f"  {name:<16} {n:>8,}" for name, n in zip(data.class_names, counts)]
    if is_cifar or splits == ["train", "test"]:
        lines.append(f"source: {data.source.split(':', 2)[-1]} (CIFAR-10 binary release, read directly)")
    else:
        lines.append(f"source: {data.source}")
        lines.append(f"decoded-pixel cache: {cache_root() / 'folders'} (set LATENTATLAS_CACHE to move it)")
    return lines


def _has_cifar_test(p: Path) -> bool:
    return p.is_dir() and (
        (p / "test_batch.bin").is_file() or (p / "cifar-10-batches-bin" / "test_batch.bin").is_file()
    )


def run(args: argparse.Namespace) -> int:
    if args.action == "download":
        return download(args)
    if args.action == "info":
        print("\n".join(describe(args.path, args.data_dir)))
        return 0
    raise LatentAtlasError("no action given; use `latentatlas data download cifar10` or `latentatlas data info PATH`")
