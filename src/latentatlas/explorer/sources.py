"""What `latentatlas explore SOURCE` and `latentatlas.explore(...)` read: an embeddings file or projector folder
(anything `analyze` reads), with labels, metadata columns and pictures, or a training run folder.

`load_source` gives an `Explorable`: the `ExplorerData`, a live decoder and oracle for AE/VAE runs, and the report
the explorer belongs to (a run's report.html), which `publish.write_linked` links both ways.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from latentatlas.analysis.io import load_embeddings
from latentatlas.analysis.metadata import read_metadata_file, source_metadata
from latentatlas.data.row_images import load_row_images
from latentatlas.errors import ConfigError, LatentAtlasError
from latentatlas.explorer.build import explorer_data
from latentatlas.explorer.data import ExplorerData
from latentatlas.explorer.latent_build import Decoder, Oracle, generative_explorer_data, model_decoder, oracle_validity
from latentatlas.explorer.projection import PROJECTIONS, require_projection
from latentatlas.explorer.thumbnails import DEFAULT_SIDE, as_thumbnails
from latentatlas.tasks.explore_run import RunPoints, run_points

__all__ = ["Explorable", "SourceOptions", "is_explorer_dir", "is_run_dir", "load_source"]


@dataclass
class SourceOptions:
    """How to read a source (the command's options; see `latentatlas explore --help`).

    labels, label_column, class_names: as `analyze` (files or a column of a CSV/TSV or projector metadata).
    metadata: a .csv/.tsv with a header row and one row per embedding; images: the points' pictures, one per
    row (image folder, .zip, .npy or .npz); thumbnail_size: longest thumbnail side in pixels.
    checkpoint, device: the run folder's checkpoint and where its model runs; grid_n, n_slices: the static
    latent decode of AE/VAE runs (grid_n x grid_n positions; slices along the third axis of a 3-D latent).
    """

    labels: str | Path | None = None
    label_column: str | None = None
    class_names: str | Path | None = None
    metadata: str | Path | None = None
    images: str | Path | None = None
    metric: str = "cosine"
    projection: str = "auto"
    neighbours_k: int = 10
    thumbnail_size: int = DEFAULT_SIDE
    color_by: str | None = None
    title: str | None = None
    checkpoint: str = "best"
    device: str | None = None
    grid_n: int = 64
    n_slices: int = 5
    progress: bool = False

    def check(self) -> None:
        """The checks that need no data: run them before any slow work."""
        if self.projection not in PROJECTIONS:
            raise ConfigError(f"--projection {self.projection!r}: use one of {', '.join(PROJECTIONS)}")
        require_projection(self.projection)
        if self.thumbnail_size < 1:
            raise ConfigError(f"--thumbnail-size {self.thumbnail_size}: use at least 1 pixel")


@dataclass
class Explorable:
    """An explorer's data, with what a server needs to decode (AE/VAE runs) and the report it belongs to."""

    data: ExplorerData
    decoder: Decoder | None = None
    oracle: Oracle | None = None
    report: Path | None = None
    run_dir: Path | None = None


def is_run_dir(path: str | Path) -> bool:
    return Path(path).is_dir() and (Path(path) / "config.yaml").is_file()


def is_explorer_dir(path: str | Path) -> bool:
    p = Path(path)
    return p.is_dir() and ((p / "data" / "manifest.js").is_file() or (p / "explorer.html").is_file())


def _stored_images(path: Path) -> bool:
    """Whether an .npz holds an `images` array beside its embeddings."""
    if path.suffix.lower() != ".npz":
        return False
    with np.load(path, allow_pickle=False) as z:
        return "images" in z.files


def _metadata(path: Path, n: int, opts: SourceOptions) -> dict[str, np.ndarray]:
    meta = source_metadata(path, n, opts.label_column)
    if opts.metadata is not None:
        meta.update(read_metadata_file(opts.metadata, n))
    return meta


def from_file(path: str | Path, opts: SourceOptions) -> Explorable:
    """An embeddings file or projector folder, with its labels, metadata and (optional) pictures."""
    path = Path(path)
    emb = load_embeddings(path, opts.labels, opts.label_column, opts.class_names)
    n = len(emb.embeddings)
    meta = _metadata(path, n, opts)
    images = opts.images if opts.images is not None else path if _stored_images(path) else None
    thumbs = None
    if images is not None:
        pictures = load_row_images(images, n, emb.labels, emb.class_names)
        thumbs = as_thumbnails(pictures, opts.thumbnail_size, str(images))
    data = explorer_data(
        emb.embeddings, emb.labels, class_names=emb.class_names, metric=opts.metric, metadata=meta,
        thumbnails=thumbs, projection=opts.projection, neighbours_k=opts.neighbours_k,
        title=opts.title or f"latentatlas explorer: {path.name}",
    )  # fmt: skip
    data.color_by = opts.color_by
    data.validate()
    return Explorable(data)


def _refuse_for_runs(run_dir: Path, opts: SourceOptions) -> None:
    given = [f"--{k.replace('_', '-')}" for k in ("labels", "label_column", "class_names", "metadata", "images")
             if getattr(opts, k) is not None]  # fmt: skip
    if given:
        raise LatentAtlasError(
            f"{run_dir}: a run folder brings its own labels, factors and images; drop {', '.join(given)}"
        )


def _shapes_data(points: RunPoints, opts: SourceOptions, title: str) -> Explorable:
    if opts.projection not in ("auto", "pca"):
        raise ConfigError(
            f"--projection {opts.projection}: a shapes run's map is a plane of its latent space (PCA axes "
            "or latent dims, chosen in the page); drop --projection"
        )
    decode, valid = model_decoder(points.model), oracle_validity(points.oracle)
    data = generative_explorer_data(
        points.embeddings, decode, valid, images=as_thumbnails(points.images, opts.thumbnail_size),
        metadata=points.metadata, labels=points.labels, class_names=points.class_names, title=title,
        grid_n=opts.grid_n, n_slices=opts.n_slices, variational=points.variational,
    )  # fmt: skip
    return Explorable(data, decoder=decode, oracle=valid)


def from_run(run_dir: str | Path, opts: SourceOptions) -> Explorable:
    """A run folder: test embeddings and images (metric runs), or training latents, figures, factors and a live
    decoder with the validity oracle (AE/VAE runs)."""
    run_dir = Path(run_dir)
    _refuse_for_runs(run_dir, opts)
    points = run_points(run_dir, opts.checkpoint, opts.device, progress=opts.progress)
    title = opts.title or f"latentatlas explorer: run {run_dir.name}"
    if points.kind == "shapes":
        out = _shapes_data(points, opts, title)
    else:
        data = explorer_data(
            points.embeddings, points.labels, class_names=points.class_names, metric=opts.metric,
            thumbnails=as_thumbnails(points.images, opts.thumbnail_size), projection=opts.projection,
            neighbours_k=opts.neighbours_k, title=title,
        )  # fmt: skip
        out = Explorable(data)
    out.data.notes.insert(0, f"Points: {points.source}.")
    out.data.color_by = opts.color_by
    out.data.validate()
    out.run_dir = run_dir
    report = run_dir / "report.html"
    out.report = report if report.is_file() else None
    return out


def load_source(source: str | Path, opts: SourceOptions | None = None) -> Explorable:
    """The explorer of any source: a run folder (config.yaml inside), else an embeddings file or projector folder."""
    opts = opts or SourceOptions()
    opts.check()
    if is_explorer_dir(source):
        raise LatentAtlasError(
            f"{source}: already an explorer; open its index.html, or serve it with `latentatlas explore {source} "
            "--serve`"
        )
    return from_run(source, opts) if is_run_dir(source) else from_file(source, opts)
