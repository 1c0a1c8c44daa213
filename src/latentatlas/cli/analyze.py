"""`latentatlas analyze`: geometry report of any embeddings file, or of a training run folder."""

from __future__ import annotations

import argparse
import logging
import os
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
--factors: known factors of the embeddings, one row per embedding: .npy (N, K); .npz with 'factors' (N, K) and
optional 'factor_names' (the embeddings .npz itself may hold them); .csv / .tsv with a header naming the factors;
or comma-separated names of columns of the embeddings file (.csv / .tsv header columns, which are then not
embedding dimensions; 1-D arrays of .npz / .safetensors; projector metadata.tsv).
MIG, DCI and SAP against them go into analysis.json ('disentanglement'), the report and
figures/factor_latent_information.png. A shapes (AE/VAE) run folder brings its generator's factors: its scores
(FactorVAE and BetaVAE too) are recomputed on fresh figures unless --no-scores (docs/disentanglement.md).
outputs in --out: analysis.json, figures/*.png, report.html (self-contained), projector/ with --projector,
report.pdf with --pdf.
--queries Q: retrieval metrics are estimated from Q queries sampled by class (--seed S), each scored exactly
against all N embeddings; analysis.json and the report give each with its 95% interval (docs/analyze.md)."""


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
    p.add_argument("--factors", metavar="FILE|NAMES", help="known factors: MIG, DCI and SAP against them (see below)")
    p.add_argument("--scores", action=argparse.BooleanOptionalAction, default=None,
                   help="disentanglement scores (default: with --factors and for shapes runs; --scores insists, "
                   "--no-scores skips them)")  # fmt: skip
    p.add_argument("--explore", action="store_true", help="also write an interactive explorer into DIR/explorer/")
    p.add_argument("--projector", action="store_true", help="also write a TensorBoard projector folder")
    p.add_argument("--images", metavar="FOLDER|ZIP|NPY", help="the images of the embeddings, one per row (see below)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (must not exist, unless --force)")
    p.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    p.add_argument("--device", choices=DEVICES, default="auto")
    # Sampled retrieval (issue 13): Q stratified queries, each exact against all N, with 95% intervals.
    p.add_argument("--queries", type=int, metavar="Q", help="estimate retrieval from Q sampled queries")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of --queries and other samples")
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
    run_scores = None
    if source.is_dir() and (source / "config.yaml").is_file():
        data, run_scores = _embed_run(source, args)
    else:
        from latentatlas.analysis.io import load_embeddings

        if args.scores and args.factors is None:
            raise LatentAtlasError(f"{source}: --scores needs the embeddings' known factors; pass --factors FILE")
        from latentatlas.latentmaps.disentanglement.factor_files import column_names

        named = column_names(args.factors) if args.factors is not None else []  # CSV columns that are factors
        data = load_embeddings(source, args.labels, args.label_column, args.class_names, exclude_columns=named)
    if data.labels is None:
        raise LatentAtlasError(f"{source}: no labels found; pass --labels FILE or --label-column NAME")
    _check_queries(args.queries, len(data.embeddings))
    factors = None
    if args.factors is not None and args.scores is not False:
        from latentatlas.latentmaps.disentanglement import load_factors

        factors = load_factors(args.factors, len(data.embeddings), source)
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
        queries=args.queries,
        seed=args.seed,
        factors=factors,
    )
    if rank() != 0:  # torchrun: the other processes scored their share of the queries; rank 0 writes
        return 0
    if run_scores is not None and not isinstance(run_scores, bool):
        analysis.disentanglement = run_scores
    analysis.save(out, force=args.force, projector=args.projector, images=images)
    print(analysis.summary_text())
    if args.explore:  # beside the report, linked both ways
        from latentatlas.explorer.publish import explore_analysis

        print(f"explorer: {explore_analysis(analysis, out)}")
    print(f"report: {out / 'report.html'}")
    write_report_pdf(args, out / "report.html")
    return 0


def _check_queries(queries: int | None, n: int) -> None:
    """--queries must be 1..N: refused before any slow work (the library checks the same)."""
    if queries is not None and not 1 <= queries <= n:
        raise LatentAtlasError(
            f"--queries {queries} is outside 1..{n} (the number of embeddings); pick a count in that range"
        )


def _embed_run(run_dir: Path, args: argparse.Namespace):
    """Embeddings of a training run folder (`latentatlas.tasks.inference.embed_run`) and, for a shapes run, its
    disentanglement scores recomputed from its checkpoint and generator (`tasks.shapes_scores`): returns
    (EmbeddingSet, scores dict, or False when the run has none)."""
    from latentatlas.models.config import AUTOENCODERS

    try:
        from latentatlas.tasks.inference import embed_run, load_run_model
    except ImportError:
        raise LatentAtlasError(
            f"{run_dir}: run-folder analysis is not available yet; export its embeddings to .npz and analyze that"
        ) from None

    if args.labels or args.label_column or args.class_names:
        raise LatentAtlasError(
            f"{run_dir}: a run folder brings its own labels; drop --labels/--label-column/--class-names"
        )
    model, config = load_run_model(run_dir)
    shapes = config.model.kind in AUTOENCODERS
    if shapes and args.factors is not None:
        raise LatentAtlasError(f"{run_dir}: a shapes run brings its generator's factors; drop --factors")
    if not shapes and args.factors is not None:  # checked now: the length is known only after embedding
        raise LatentAtlasError(
            f"{run_dir}: give factors with the run's test embeddings instead: latentatlas analyze "
            f"{run_dir / 'embeddings' / 'test.npz'} --factors {args.factors}"
        )
    if not shapes and args.scores:
        raise LatentAtlasError(
            f"{run_dir}: a {config.model.kind} run on images has no known factors for disentanglement scores; "
            f"analyze {run_dir / 'embeddings' / 'test.npz'} --factors FILE (one row per test image) or drop --scores"
        )
    data = embed_run(run_dir)
    # under torchrun only rank 0 writes (the process group is joined later, so its rank is read from the env)
    if not shapes or args.scores is False or os.environ.get("RANK", "0") != "0":
        return data, False
    from latentatlas.tasks.shapes_scores import disentanglement_numbers

    log.info("disentanglement scores of %s on fresh figures (--no-scores skips them)", run_dir)
    return data, disentanglement_numbers(model, config)[0]


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
