"""The Python entry points a user calls: `latentatlas.analyze(...)` returns an `Analysis` that can save and show
itself; `latentatlas.explore(...)` returns an `Explorer` that shows itself inline in Jupyter, saves or serves.
This module sits on top of the geometry layer (the numbers), the report layer (figures, pages) and the explorer,
so none of them needs the others."""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path
from typing import Any

from latentatlas.analysis.analyze import Analysis as GeometryAnalysis
from latentatlas.analysis.analyze import analyze as analyze_geometry
from latentatlas.device import resolve_device
from latentatlas.dist import join_from_env, launched, rank
from latentatlas.errors import LatentAtlasError
from latentatlas.explorer.build import explorer_data, from_analysis
from latentatlas.explorer.data import ExplorerData
from latentatlas.explorer.notebook import InlineExplorer, inline
from latentatlas.explorer.publish import serve_linked, write_linked
from latentatlas.explorer.server import ExplorerServer
from latentatlas.explorer.sources import Explorable, SourceOptions, load_source
from latentatlas.explorer.thumbnails import DEFAULT_SIDE, as_thumbnails
from latentatlas.jsonio import to_jsonable
from latentatlas.latentmaps.disentanglement import as_factor_table, check_codes, scores_summary
from latentatlas.report.analysis_report import notebook_html, save_analysis, summary_lines

__all__ = ["Analysis", "Explorer", "analyze", "explore"]


@dataclasses.dataclass
class Analysis(GeometryAnalysis):
    """The geometry of N labelled embeddings (see `latentatlas.analysis.Analysis`), with `save`, a terminal
    summary and a Jupyter view.

    `disentanglement`: the MIG, DCI and SAP numbers (FactorVAE and BetaVAE too for a shapes run) against known
    factors (`scores_summary`'s keys), or None when no factors were given; analysis.json keeps them under
    `disentanglement`.
    """

    disentanglement: dict | None = dataclasses.field(default=None, repr=False)

    def to_dict(self) -> dict:
        out = super().to_dict()
        if self.disentanglement is not None:
            out["disentanglement"] = to_jsonable(self.disentanglement)
        return out

    def save(self, path: str | Path, force: bool = False, projector: bool = False, images: Any = None) -> Path:
        """Write `analysis.json`, `figures/*.png`, `report.html` (and `projector/` if asked) into `path`.

        `images`: (N, H, W), (N, H, W, C) or (N, C, H, W) pixels, row i = embedding i: the report then shows the
        embeddings a k-NN vote gets wrong with their neighbours. Refuses a non-empty folder unless `force`; `path`
        never holds a half-written result. Under torchrun only rank 0 writes (the others return `path`).
        """
        if rank() != 0:
            return Path(path)
        return save_analysis(
            self, path, force=force, projector=projector, images=images, disentanglement=self.disentanglement
        )

    def summary_text(self) -> str:
        """A few lines for the terminal."""
        return "\n".join(summary_lines(self, self.disentanglement))

    def _repr_html_(self) -> str:
        return notebook_html(self, self.disentanglement)


def analyze(
    embeddings: Any,
    labels: Any,
    class_names: list[str] | None = None,
    factors: Any = None,
    factor_names: list[str] | None = None,
    distributed: bool | None = None,
    **kwargs: Any,
) -> Analysis:
    """Measure the geometry of labelled embeddings; arguments as `latentatlas.analysis.analyze`.

    `factors`: known factors of the embeddings, (N, K) values or `{name: (N,) values}` (`factor_names` names the
    columns of an array): MIG, DCI and SAP are then measured against them (docs/disentanglement.md) and kept in
    `.disentanglement`, analysis.json and the report. Every process computes them alike under torchrun.

    `distributed`: share the retrieval queries between the processes torchrun started (None, the default: when
    launched by torchrun). Every process then calls `analyze` alike (it joins the process group: gloo on CPU,
    NCCL on GPUs, one GPU per process) and gets the same result; `save` writes on rank 0 only. Pass False to
    analyze in one process of a torchrun job (e.g. rank 0 alone).
    """
    if factors is not None:  # checked before the slow work: wrong length, constant factor, NaN
        table = as_factor_table(factors, factor_names)
        check_codes(_as_numpy(embeddings), len(table.labels))
    if launched() if distributed is None else distributed:
        kwargs["device"] = join_from_env(resolve_device(kwargs.get("device")))
        kwargs["shard"] = True
    result = analyze_geometry(embeddings, labels, class_names=class_names, **kwargs)
    scores = None
    if factors is not None:
        scores = scores_summary(result.embeddings, factors, names=factor_names, seed=kwargs.get("seed", 0))
    fields = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    return Analysis(**fields, disentanglement=scores)


def _as_numpy(x: Any) -> Any:
    return x.detach().cpu().numpy() if hasattr(x, "detach") else x


class Explorer:
    """An interactive explorer of some points (what `latentatlas.explore` returns): shown inline in Jupyter,
    written with `save`, served with `serve`.

    Attributes:
        data: the `ExplorerData` (map, labels, metadata, thumbnails, latent planes...).
        source: the `Explorable` it came from (with the live decoder of AE/VAE runs and the run's report).
    """

    def __init__(self, source: Explorable):
        self.source = source
        self.data = source.data

    def save(self, path: str | Path, force: bool = False, single_file: bool = False) -> Path:
        """Write the static explorer into `path` (index.html + data; one explorer.html with `single_file`, at
        most 25 MB); returns the page to open. A run's report links to it when `path` is inside the run folder."""
        return write_linked(self.source, path, force=force, single_file=single_file)

    def serve(self, host: str = "127.0.0.1", port: int = 0, out: str | Path | None = None) -> ExplorerServer:
        """Serve it in a background thread (exact neighbours, live decodes); `.url` to open, `.close()` to stop."""
        return serve_linked(self.source, host, port, out).start()

    def inline(self, height: int = 640) -> InlineExplorer:
        """The page for a notebook cell (refused above 25 MB: `save` it instead)."""
        return inline(self.data, height)

    def _repr_html_(self) -> str:
        try:
            return self.inline()._repr_html_()
        except LatentAtlasError as exc:
            return f"<p>{html.escape(str(exc))}</p>"

    def __repr__(self) -> str:
        return f"<latentatlas Explorer: {self.data.n:,} points, {self.data.title!r}>"


def explore(
    source: Any,
    labels: Any = None,
    class_names: list[str] | None = None,
    **kwargs: Any,
) -> Explorer:
    """An interactive explorer of embeddings, an `analyze` result, or a file or run folder (as `latentatlas explore`).

    Args:
        source: (N, D) embeddings (array or tensor); an `Analysis` (its map, ellipses and class matrix are
            reused); `ExplorerData`; or a path: an embeddings file, projector folder or training run folder.
        labels: (N,) labels of array embeddings (files and runs bring their own, or take `labels=` as a path).
        class_names: one per class, in sorted label order.
        kwargs: for arrays: metric, metadata ({name: (N,)}), images (N pictures in any layout, shrunk to
            thumbnail_size) or thumbnails ((N, h, w[, 3]) uint8), projection, neighbours_k, title, color_by; for
            paths: the fields of `SourceOptions` (images, metadata, label_column, checkpoint, device, grid_n...).

    Returns:
        An `Explorer`: in Jupyter it shows itself inline; `.save(DIR)` writes it, `.serve()` serves it.
    """
    if isinstance(source, ExplorerData):
        return Explorer(Explorable(source))
    if isinstance(source, GeometryAnalysis):
        color_by = kwargs.pop("color_by", None)
        data = from_analysis(source, **kwargs)
        data.color_by = color_by
        data.validate()
        return Explorer(Explorable(data))
    if isinstance(source, (str, Path)):
        return Explorer(load_source(source, SourceOptions(labels=labels, class_names=class_names, **kwargs)))
    color_by = kwargs.pop("color_by", None)
    if kwargs.get("images") is not None:  # pictures in any layout: (N, C, H, W) tensors, (N, H, W) floats...
        kwargs["thumbnails"] = as_thumbnails(kwargs.pop("images"), kwargs.pop("thumbnail_size", DEFAULT_SIDE))
    data = explorer_data(source, labels, class_names=class_names, **kwargs)
    data.color_by = color_by
    data.validate()
    return Explorer(Explorable(data))
