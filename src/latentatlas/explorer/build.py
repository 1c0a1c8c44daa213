"""Build `ExplorerData` from embeddings (or from an `analyze` result), and fill in what the page derives.

`explorer_data` assembles the map, class codes, ellipses and the class distance matrix; `with_derived` (called by
`write_explorer`) adds what depends on the neighbours: the precomputed k-NN table (static pages, N up to
STATIC_NEIGHBOURS_MAX_N), k-NN label agreement and the distance to the class centre.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from latentatlas.analysis.distances import class_distance_matrix
from latentatlas.analysis.ellipses import coverage_ellipses
from latentatlas.analysis.io import encode_labels, validate_embeddings
from latentatlas.explorer.data import (
    AGREEMENT_QUANTITY,
    CENTRE_QUANTITY,
    STATIC_NEIGHBOURS_MAX_N,
    ExplorerData,
    metadata_columns,
)
from latentatlas.explorer.neighbours import NeighbourIndex, distance_to_class_centre, knn_agreement
from latentatlas.explorer.projection import project

log = logging.getLogger("latentatlas")
EUCLIDEAN_CLASS_MATRIX_MAX_N = 100_000  # the euclidean class matrix needs all N^2 pairs
__all__ = ["AGREEMENT_QUANTITY", "CENTRE_QUANTITY", "Neighbours", "explorer_data", "from_analysis", "with_derived"]


@dataclasses.dataclass
class Neighbours:
    """Precomputed neighbours: index (N, k) int32, nearest first; distance (N, k) float32."""

    index: np.ndarray
    distance: np.ndarray


def explorer_data(
    embeddings: Any,
    labels: Any = None,
    class_names: Sequence[str] | None = None,
    metric: str = "cosine",
    metadata: Mapping[str, Any] | None = None,
    thumbnails: np.ndarray | None = None,
    projection: str = "auto",
    coverage: float = 0.5,
    neighbours_k: int = 10,
    title: str = "latentatlas explorer",
) -> ExplorerData:
    """Everything the explorer shows of labelled (or unlabelled) embeddings.

    Args:
        embeddings: (N, D) float.
        labels: (N,) ints or strings, or None (then no class colours, ellipses or heatmap).
        class_names: one per class, in the order of the sorted distinct labels.
        metric: "cosine", "euclidean" or "sqeuclidean" for neighbours, quantities and the class matrix.
        metadata: {name: (N,)} columns of strings or numbers.
        thumbnails: (N, h, w) or (N, h, w, 3) uint8.
        projection: "auto", "pca", "umap" or "raw" (see `projection.project`).
        coverage: share of each class inside its ellipse.
    """
    x = validate_embeddings(embeddings, "embeddings")
    proj = project(x, metric, projection)
    data = ExplorerData(
        coords=proj.coords, projection=proj.description, embeddings=x, metric=metric,
        metadata=metadata_columns(metadata, len(x)), thumbnails=thumbnails, neighbours_k=min(neighbours_k, len(x) - 1),
        title=title, notes=[proj.note] if proj.note else [],
    )  # fmt: skip
    if labels is not None:
        codes, names = encode_labels(labels, len(x), class_names, "labels", "class_names")
        data.labels, data.class_names = codes, names
        data.ellipses = _ellipses(proj.coords, codes, coverage, names, data.notes)
        data.class_distances, data.class_distance_name = _class_matrix(x, codes, metric, data.notes)
    data.validate()
    return data


def from_analysis(analysis: Any, **kwargs: Any) -> ExplorerData:
    """ExplorerData of an `analyze` result: its PCA map, ellipses and class distance matrix, not recomputed.

    Args:
        analysis: a `latentatlas.analysis.Analysis`.
        kwargs: metadata, thumbnails, neighbours_k, title (as in `explorer_data`).
    """
    what = "L2-normalized embeddings" if analysis.metric == "cosine" else "embeddings"
    ev = analysis.pca.explained_variance_ratio
    meta = metadata_columns(kwargs.pop("metadata", None), analysis.n)
    data = ExplorerData(
        coords=analysis.pca.coords.astype(np.float32),
        projection=f"PCA of the {what} (PC1 {ev[0]:.1%}, PC2 {ev[1]:.1%} of the variance)",
        embeddings=analysis.embeddings, metric=analysis.metric, labels=analysis.labels,
        class_names=list(analysis.class_names), metadata=meta, ellipses=analysis.ellipses,
        class_distances=analysis.distances.matrix, class_distance_name=_matrix_name(analysis.metric), **kwargs,
    )  # fmt: skip
    data.neighbours_k = min(data.neighbours_k, data.n - 1)
    data.validate()
    return data


def with_derived(data: ExplorerData, progress: Callable[[int, int], None] | None = None) -> tuple[ExplorerData, Any]:
    """A copy of `data` with the derived quantities, and the static neighbours (or None).

    Adds "distance to class centre" (full space when embeddings are given, else the map) when labels are given,
    and "k-NN label agreement" when neighbours are precomputed; never replaces a quantity the caller gave.
    """
    data.validate()
    quantities = dict(data.quantities)
    neighbours = None
    if data.labels is not None and CENTRE_QUANTITY not in quantities:
        space = data.embeddings if data.embeddings is not None else data.coords
        metric = data.metric if data.embeddings is not None else "euclidean"
        quantities[CENTRE_QUANTITY] = distance_to_class_centre(space, data.labels, metric)
    notes = list(data.notes)
    if data.static_neighbours and data.n >= 2:
        log.info("explore: exact %d-NN of %d points (%s)", data.neighbours_k, data.n, data.metric)
        idx, dist = NeighbourIndex(data.embeddings, data.metric).all(data.neighbours_k, progress)
        neighbours = Neighbours(idx, dist)
        if data.labels is not None and AGREEMENT_QUANTITY not in quantities:
            quantities[AGREEMENT_QUANTITY] = knn_agreement(idx, data.labels)
    elif data.embeddings is not None and data.n > STATIC_NEIGHBOURS_MAX_N and data.neighbours == "auto":
        notes.append(
            f"Neighbours are precomputed up to N = {STATIC_NEIGHBOURS_MAX_N:,} points; with {data.n:,} points, "
            "open the explorer with --serve to list the exact neighbours of any point."
        )
    return dataclasses.replace(data, quantities=quantities, notes=notes), neighbours


def _ellipses(coords: np.ndarray, codes: np.ndarray, coverage: float, names: list[str], notes: list[str]) -> Any:
    with warnings.catch_warnings(record=True):  # tiny or collinear classes are reported in the page instead
        warnings.simplefilter("always")
        ellipses = coverage_ellipses(coords, codes, coverage=coverage)
    if ellipses.skipped:
        skipped = ", ".join(names[c] for c in ellipses.skipped)
        notes.append(f"No coverage ellipse for {skipped}: fewer than 3 points or collinear points.")
    return ellipses


def _matrix_name(metric: str) -> str:
    return {"cosine": "mean cosine distance", "euclidean": "mean euclidean distance"}.get(
        metric, "mean squared euclidean distance"
    )


def _class_matrix(x: np.ndarray, codes: np.ndarray, metric: str, notes: list[str]) -> tuple[Any, str]:
    if metric == "euclidean" and len(x) > EUCLIDEAN_CLASS_MATRIX_MAX_N:
        notes.append(
            f"No class distance heatmap: the euclidean class matrix needs all N^2 pairs, skipped above "
            f"N = {EUCLIDEAN_CLASS_MATRIX_MAX_N:,}; cosine and sqeuclidean need one pass."
        )
        return None, ""
    with warnings.catch_warnings(record=True):  # a one-member class gets NaN on the diagonal: shown as blank
        warnings.simplefilter("always")
        matrix = class_distance_matrix(x, codes, metric=metric).matrix
    return matrix, _matrix_name(metric)
