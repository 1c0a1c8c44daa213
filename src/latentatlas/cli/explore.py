"""`latentatlas explore`: an interactive explorer of embeddings or of a run folder, static or served."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from latentatlas.choices import DEVICES, METRICS
from latentatlas.errors import LatentAtlasError

EPILOG = """sources: anything `analyze` reads (.npy, .npz, .safetensors, .csv, .tsv, a TensorBoard projector folder),
with labels as in `analyze` and metadata columns from the .npz/.safetensors (1-D arrays of N values), the
projector's metadata.tsv or --metadata FILE; a training run folder (metric runs: the test embeddings with the test
images; AE/VAE runs: the training latents with the figures, the known factors and a decoder judged by the validity
oracle); or, with --serve, an explorer folder written earlier.
--images: the points' pictures, one per row: an image folder or .zip (classes sorted, files sorted within a class),
or .npy / .npz ('images') pixels (N, H, W[, C]) or (N, C, H, W); an .npz source's own 'images' array is used too.
outputs: DIR/index.html (+ explorer.css, js/, data/), opens from file:// with no server and no network; one
self-contained DIR/explorer.html with --single-file (at most 25 MB); --serve serves it on http://127.0.0.1 with
exact neighbours for any N and live decodes. A run's explorer goes to RUN_DIR/explorer/ unless --out says otherwise,
and the run's report.html links to it. See docs/explore.md."""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "explore",
        help="interactive explorer of embeddings or a run: map, neighbours, selections, live decodes",
        description="Write (or serve) an interactive latent-space explorer that needs no GPU, network or account.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("source", metavar="SOURCE", help="embeddings file, projector folder, run folder or explorer folder")
    p.add_argument("--out", metavar="DIR", help="output folder (must be absent or empty, unless --force)")
    p.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    p.add_argument("--single-file", action="store_true", help="write one self-contained explorer.html (<= 25 MB)")
    p.add_argument("--serve", action="store_true", help="serve it locally: exact neighbours, live decodes")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on with --serve (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port with --serve; 0 picks a free one (default 8765)")
    g = p.add_argument_group("points")
    g.add_argument("--labels", metavar="FILE", help=".npy, .txt or .csv with one label per line")
    g.add_argument("--label-column", metavar="NAME", help="CSV/TSV/projector-metadata column holding the labels")
    g.add_argument("--class-names", metavar="FILE", help="one class name per line, in sorted label order")
    g.add_argument("--metadata", metavar="FILE", help=".csv/.tsv with a header row and one row per point")
    g.add_argument("--images", metavar="FOLDER|ZIP|NPY", help="the points' pictures, one per row (see below)")
    g.add_argument("--thumbnail-size", type=int, default=64, metavar="PX", help="longest thumbnail side (64)")
    g = p.add_argument_group("map and colours")
    g.add_argument("--metric", choices=METRICS, default="cosine", help="distance of the neighbours (cosine)")
    g.add_argument("--projection", choices=("auto", "pca", "umap", "raw"), default="auto",
                   help="auto: the raw plane when D = 2, else PCA; umap needs the umap extra")  # fmt: skip
    g.add_argument("--color-by", metavar="NAME", help="colouring shown first: class, a metadata column, a quantity")
    g.add_argument("-k", "--neighbours", type=int, default=10, metavar="K", help="neighbours listed per point (10)")
    g.add_argument("--with-embeddings", action="store_true", help="keep embeddings.npy for a later --serve")
    g = p.add_argument_group("run folders")
    g.add_argument("--checkpoint", default="best", help="best, last or a checkpoint file (default best)")
    g.add_argument("--device", choices=DEVICES, default="cpu", help="where the run's model runs (cpu)")
    g.add_argument("--grid", type=int, default=64, metavar="N", help="AE/VAE: N x N precomputed decodes (64)")
    g.add_argument("--slices", type=int, default=5, metavar="K", help="AE/VAE, 3-D latent: static slices (5)")
    p.set_defaults(func=run)


def _out_dir(args: argparse.Namespace) -> Path | None:
    from latentatlas.explorer.sources import is_run_dir
    from latentatlas.report.links import EXPLORER_DIR

    if args.out is not None:
        return Path(args.out)
    if is_run_dir(args.source):
        return Path(args.source) / EXPLORER_DIR
    if args.serve:
        return None  # a temporary folder, removed when the server stops
    raise LatentAtlasError(f"{args.source}: pass --out DIR for the explorer (or --serve to serve it without one)")


def _check_options(args: argparse.Namespace) -> None:
    if args.single_file and args.serve:
        raise LatentAtlasError("--single-file and --serve: a served explorer is a folder; drop one of them")
    if not args.serve and (args.host != "127.0.0.1" or args.port != 8765):
        raise LatentAtlasError("--host/--port only apply with --serve; add --serve or drop them")
    if not 0 <= args.port <= 65535:
        raise LatentAtlasError(f"--port {args.port}: use 0..65535 (0 picks a free port)")


def _options(args: argparse.Namespace):
    from latentatlas.explorer.sources import SourceOptions

    return SourceOptions(
        labels=args.labels, label_column=args.label_column, class_names=args.class_names, metadata=args.metadata,
        images=args.images, metric=args.metric, projection=args.projection, neighbours_k=args.neighbours,
        thumbnail_size=args.thumbnail_size, color_by=args.color_by, checkpoint=args.checkpoint,
        device=args.device, grid_n=args.grid, n_slices=args.slices, progress=sys.stderr.isatty(),
    )  # fmt: skip


def _announce(text: str) -> None:
    print(text, flush=True)  # the URL must show at once, also through a pipe


def _serve_folder(args: argparse.Namespace) -> int:
    from latentatlas.explorer.server import serve

    if not args.serve:
        raise LatentAtlasError(f"{args.source}: already an explorer; open its index.html, or add --serve")
    serve(Path(args.source), args.host, args.port, announce=_announce)
    return 0


def run(args: argparse.Namespace) -> int:
    from latentatlas.explorer.publish import serve_linked, write_linked
    from latentatlas.explorer.server import check_port, serve_until_interrupted
    from latentatlas.explorer.sources import is_explorer_dir, load_source
    from latentatlas.outdir import check_out_dir

    _check_options(args)
    if is_explorer_dir(args.source):
        return _serve_folder(args)
    out = _out_dir(args)
    if out is not None:
        check_out_dir(out, args.force)  # fail before any slow work
    if args.serve:
        check_port(args.host, args.port)
    opts = _options(args)
    opts.check()
    explorable = load_source(args.source, opts)
    if args.serve:
        server = serve_linked(explorable, args.host, args.port, out, args.force)
        serve_until_interrupted(server, _announce)
        return 0
    page = write_linked(explorable, out, args.force, args.single_file, args.with_embeddings)
    print(f"explorer: {page}")
    return 0
