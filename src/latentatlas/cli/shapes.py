"""`latentatlas shapes`: preview the figure generator and calibrate the validity oracle.

latentatlas shapes preview --family cylinder --n 64 --seed 0 --out grid.png [--fill] [--force]
latentatlas shapes calibrate [--family cylinder] [--n 2000] [--seed 0] [--out calib.json] [--force]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from latentatlas.data.oracle import ValidityOracle, calibrate
from latentatlas.data.shapes import FAMILIES, ORIENTATIONS, ShapesConfig, generate
from latentatlas.errors import LatentAtlasError
from latentatlas.outdir import check_writable

log = logging.getLogger("latentatlas")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("shapes", help="preview figure images; calibrate the validity oracle")
    sub = parser.add_subparsers(dest="shapes_command", metavar="SUBCOMMAND", parser_class=type(parser))
    parser.set_defaults(func=lambda args: _missing(parser))

    preview = sub.add_parser("preview", help="write a labelled grid of generated figures (PNG)")
    preview.add_argument("--family", nargs="+", default=["cylinder"], help=f"one or more of {', '.join(FAMILIES)}")
    preview.add_argument("--n", type=int, default=64, help="number of figures (default 64)")
    preview.add_argument("--seed", type=int, default=0)
    preview.add_argument("--size", type=int, default=64, help="image side in pixels")
    preview.add_argument("--fill", action="store_true", help="filled silhouettes instead of outlines")
    preview.add_argument("--out", required=True, help="PNG file to write")
    preview.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    preview.set_defaults(func=run_preview)

    calib = sub.add_parser("calibrate", help="valid rates of the oracle on inputs with a known answer")
    calib.add_argument("--family", nargs="+", default=["cylinder"], help="families the oracle accepts")
    calib.add_argument("--n", type=int, default=2000, help="images per row of the table (default 2000)")
    calib.add_argument("--seed", type=int, default=0)
    calib.add_argument("--out", default=None, help="also write the results as JSON")
    calib.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    calib.set_defaults(func=run_calibrate)


def _missing(parser: argparse.ArgumentParser) -> int:
    raise LatentAtlasError("no subcommand given; use `latentatlas shapes preview --out grid.png` or `shapes calibrate`")


def _check(args: argparse.Namespace) -> None:
    for name in args.family:
        if name not in FAMILIES:
            raise LatentAtlasError(f"--family: {name!r} is not one of {', '.join(FAMILIES)}")
    if args.n < 1:
        raise LatentAtlasError(f"--n: {args.n}; ask for at least 1 image")
    if args.out and Path(args.out).is_dir():
        kind = "a PNG" if args.shapes_command == "preview" else "a JSON"
        raise LatentAtlasError(f"--out: {args.out} is a folder; give {kind} file name inside it instead")
    if args.out and Path(args.out).exists() and not args.force:
        raise LatentAtlasError(f"--out: {args.out} exists; pass --force to overwrite it or choose another path")
    if args.out:
        check_writable(args.out)


def _write_atomic(path: Path, write) -> None:
    """Write through a temp file in the same directory, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def label(factors: dict[str, np.ndarray], i: int, with_family: bool) -> str:
    """Cell title, e.g. `h=30 r=12 I` (type I standing, II lying), prefixed by the family if several."""
    text = f"h={factors['height'][i]:.0f} r={factors['radius'][i]:.0f} {ORIENTATIONS[factors['orientation'][i]]}"
    return f"{FAMILIES[factors['family'][i]]} {text}" if with_family else text


def run_preview(args: argparse.Namespace) -> int:
    _check(args)
    cfg = ShapesConfig(family=list(dict.fromkeys(args.family)), size=args.size, fill=args.fill)
    images, factors = generate(cfg, args.n, args.seed)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = math.ceil(math.sqrt(args.n))
    rows = math.ceil(args.n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.4 * cols, 1.55 * rows), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if i < args.n:
            ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
            ax.set_title(label(factors, i, len(cfg.family) > 1), fontsize=6)
    fig.suptitle(f"{', '.join(cfg.family)}: {args.n} figures, seed {args.seed}", fontsize=9)
    fig.tight_layout()
    out = Path(args.out)
    _write_atomic(out, lambda tmp: fig.savefig(tmp, dpi=120, format="png"))
    plt.close(fig)
    log.info("wrote %s", out)
    return 0


def format_table(result: dict) -> str:
    """The calibration result as a Markdown table (one row per input kind) plus the factor errors."""
    lines = [
        f"threshold {result['threshold']:g}, {result['n']} images per row",
        "",
        "| input | valid rate | min IoU | median IoU | max IoU |",
        "|---|---|---|---|---|",
    ]
    for name, row in result["rows"].items():
        stats = " | ".join(f"{row[k]:.3f}" for k in ("valid_rate", "iou_min", "iou_median", "iou_max"))
        lines.append(f"| {name} | {stats} |")
    lines += [
        "",
        f"recovered factors on fresh renders: height MAE {result['height_mae']:.2f} px, radius MAE "
        f"{result['radius_mae']:.2f} px, orientation accuracy {result['orientation_accuracy']:.3f}, "
        f"family accuracy {result['family_accuracy']:.3f}",
    ]
    return "\n".join(lines)


def run_calibrate(args: argparse.Namespace) -> int:
    _check(args)
    oracle = ValidityOracle(families=tuple(dict.fromkeys(args.family))).fit()
    result = calibrate(oracle, n=args.n, seed=args.seed)
    print(format_table(result))
    if args.out:
        text = json.dumps({"families": list(oracle.families), **result}, indent=2)
        _write_atomic(Path(args.out), lambda tmp: Path(tmp).write_text(text + "\n", encoding="utf-8"))
        log.info("wrote %s", args.out)
    return 0
