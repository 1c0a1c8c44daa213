"""`latentatlas analyze`: geometry report of any embeddings file, or of a training run folder."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from latentatlas.choices import DEVICES, METRICS
from latentatlas.cli._pdf import add_pdf_option, check_pdf, write_report_pdf
from latentatlas.errors import LatentAtlasError

log = logging.getLogger("latentatlas")

EPILOG = """inputs: .npy (N, D); .npz / .safetensors with 'embeddings' and optional 'labels';
.csv / .tsv of numbers (labels in --label-column); a TensorBoard projector folder (tensors.tsv +
metadata.tsv); a training run folder (config.yaml).
--images: the images behind the embeddings, one per row: an image folder or .zip (classes sorted, files sorted
within a class: the order `latentatlas embed` embeds them in), or .npy / .npz (key 'images') pixels (N, H, W[, C])
or (N, C, H, W). The report then shows the embeddings a k-NN vote gets wrong, with their nearest neighbours.
outputs in --out: analysis.json, figures/*.png, report.html (self-contained), projector/ with --projector,
report.pdf with --pdf."""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "analyze",
        help="distances, ellipses, retrieval and spread of embeddings, with a report",
        description="Measure the geometry of labelled embeddings; write analysis.json, figures, report.html.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("embeddings", metavar="EMBEDDINGS", help="embeddings file, projector folder or run folder")
    p.add_argument("--labels", metavar="FILE", help=".npy, .txt or .csv with one label per line")
    p.add_argument("--class-names", metavar="FILE", help="one class name per line, in sorted label order")
    p.add_argument("--label-column", metavar="NAME", help="CSV/TSV/metadata column holding the labels")
    p.add_argument("--metric", choices=METRICS, default="cosine")
    p.add_argument("--coverage", type=float, default=0.5, help="fraction of each class inside its ellipse")
    p.add_argument("--include-self", action="store_true", help="count self-pairs (distance 0) in intra means")
    p.add_argument("--triplets", metavar="FILE", help="(T, 3) anchor/positive/negative indices: .npy or .csv a,p,n")
    p.add_argument("--explore", action="store_true", help="also write an interactive explorer into DIR/explorer/")
    p.add_argument("--projector", action="store_true", help="also write a TensorBoard projector folder")
    p.add_argument("--images", metavar="FOLDER|ZIP|NPY", help="the images of the embeddings, one per row (see below)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (must not exist, unless --force)")
    p.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    p.add_argument("--device", choices=DEVICES, default="auto")
    add_pdf_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latentatlas.api import analyze
    from latentatlas.device import resolve_device
    from latentatlas.dist import rank
    from latentatlas.outdir import check_out_dir

    out = check_out_dir(args.out, args.force)  # fail before any slow work
    check_pdf(args)
    device = resolve_device(args.device)
    source = Path(args.embeddings)
    if source.is_dir() and (source / "config.yaml").is_file():
        data = _embed_run(source, args)
    else:
        from latentatlas.analysis.io import load_embeddings

        data = load_embeddings(source, args.labels, args.label_column, args.class_names)
    if data.labels is None:
        raise LatentAtlasError(f"{source}: no labels found; pass --labels FILE or --label-column NAME")
    triplets = None if args.triplets is None else load_triplets(Path(args.triplets))
    images = None
    if args.images is not None:
        from latentatlas.analysis.labels import encode_labels
        from latentatlas.data.row_images import load_row_images

        codes, names = encode_labels(data.labels, len(data.embeddings), data.class_names, "labels", "class_names")
        images = load_row_images(args.images, len(data.embeddings), codes, names)
    analysis = analyze(
        data.embeddings,
        data.labels,
        class_names=data.class_names,
        metric=args.metric,
        coverage=args.coverage,
        exclude_self=not args.include_self,
        triplets=triplets,
        device=device,
    )
    if rank() != 0:  # torchrun: the other processes scored their share of the queries; rank 0 writes
        return 0
    analysis.save(out, force=args.force, projector=args.projector, images=images)
    print(analysis.summary_text())
    if args.explore:  # beside the report, linked both ways
        from latentatlas.explorer.publish import explore_analysis

        print(f"explorer: {explore_analysis(analysis, out)}")
    print(f"report: {out / 'report.html'}")
    write_report_pdf(args, out / "report.html")
    return 0


def _embed_run(run_dir: Path, args: argparse.Namespace):
    """Embeddings of a training run folder, via `latentatlas.tasks.inference.embed_run` (imported lazily)."""
    try:
        from latentatlas.tasks.inference import embed_run
    except ImportError:
        raise LatentAtlasError(
            f"{run_dir}: run-folder analysis is not available yet; export its embeddings to .npz and analyze that"
        ) from None
    if args.labels or args.label_column or args.class_names:
        raise LatentAtlasError(
            f"{run_dir}: a run folder brings its own labels; drop --labels/--label-column/--class-names"
        )
    return embed_run(run_dir)


def load_triplets(path: Path):
    """(T, 3) int64 indices from `.npy`, or `.csv` with columns a, p, n (header optional)."""
    import numpy as np

    from latentatlas.analysis.readers import is_int, read_npy
    from latentatlas.errors import DataError
    from latentatlas.textio import read_text

    if not path.is_file():
        raise DataError(f"{path}: no such triplets file; check the --triplets path")
    if path.suffix.lower() == ".npy":
        return read_npy(path)
    if path.suffix.lower() != ".csv":
        raise DataError(f"{path}: unknown triplets extension {path.suffix!r}; use .npy or .csv with columns a,p,n")
    lines = [ln.strip() for ln in read_text(path, "triplets file").splitlines() if ln.strip()]
    if lines and not is_int(lines[0].split(",")[0]):  # a header row
        if [c.strip() for c in lines[0].split(",")] != ["a", "p", "n"]:
            raise DataError(f"{path}: header {lines[0]!r} is not 'a,p,n'; name the columns a,p,n")
        lines = lines[1:]
    try:
        rows = [[int(c) for c in ln.split(",")] for ln in lines]
    except ValueError:
        raise DataError(f"{path}: triplets must be integer indices a,p,n on each line; fix the file") from None
    if not rows or any(len(r) != 3 for r in rows):
        raise DataError(f"{path}: expected 3 integer columns a,p,n on each line; fix the file")
    return np.array(rows, dtype=np.int64)
