"""`analyze`: every geometry number of labelled embeddings, kept together in one `Analysis`.

The numbers come from the math modules (`distances`, `ellipses`, `retrieval`, `spread`, `pairs`); this module
validates the inputs, runs them with one set of options, and keeps the results together with what is needed to
draw them (the 2-D PCA coordinates and the class codes). Drawing and saving are the report layer's
(`latentatlas.report.analysis_report`); `latentatlas.analyze` returns an `Analysis` that can `.save()` itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from latentatlas.analysis.distances import class_distance_matrix, class_sample
from latentatlas.analysis.ellipses import coverage_ellipses, pca_2d
from latentatlas.analysis.inputs import METRICS, validate_embeddings
from latentatlas.analysis.labels import encode_labels
from latentatlas.analysis.pairs import pair_metrics
from latentatlas.analysis.retrieval import retrieval_metrics
from latentatlas.analysis.spread import SPREAD_SAMPLE, spread_metrics
from latentatlas.device import resolve_device
from latentatlas.dist import check_shards
from latentatlas.errors import ConfigError, DataError
from latentatlas.jsonio import to_jsonable

__all__ = ["Analysis", "analyze"]

RETRIEVAL_K = (1, 5, 10)
# Euclidean class means need all N^2 / 2 distances (no class-sum identity): above this many embeddings they are
# computed on a seeded sample of about this many, stratified by class (docs/analyze.md).
EUCLIDEAN_SAMPLE = 50_000


@dataclass
class Analysis:
    """The geometry of N labelled embeddings in C classes (see `analyze`).

    Attributes:
        distances: `ClassDistances`, the (C, C) mean distance between classes and intra/inter/margin.
        pca: `PCA2D` of the embeddings (L2-normalized first when the metric is cosine).
        ellipses: `EllipseSet`, per class the ellipse covering `coverage` of its PCA points.
        retrieval, spread: dicts of retrieval (precision at k...) and spread (uniformity, KoLeo...) numbers.
        pairs: triplet pair metrics (AUC...) when triplets were given, else None.
        labels: (N,) int64 class codes; embeddings: (N, D) float32 (kept for the projector export).
    """

    n: int
    dim: int
    metric: str
    coverage: float
    exclude_self: bool
    class_names: list[str]
    counts: list[int]
    distances: Any
    pca: Any
    ellipses: Any
    retrieval: dict
    spread: dict
    pairs: dict | None
    labels: np.ndarray = field(repr=False)
    embeddings: np.ndarray = field(repr=False)

    def to_dict(self) -> dict:
        """All numbers as JSON-safe Python types (NaN and inf become None); no per-embedding arrays."""
        pca = {
            "explained_variance_ratio": self.pca.explained_variance_ratio,
            "normalized_first": self.metric == "cosine",
        }
        return to_jsonable(
            {
                "n": self.n,
                "dim": self.dim,
                "num_classes": len(self.class_names),
                "metric": self.metric,
                "coverage": self.coverage,
                "exclude_self": self.exclude_self,
                "class_names": self.class_names,
                "counts": self.counts,
                "distances": self.distances.to_dict(),
                "pca": pca,
                "ellipses": self.ellipses.to_dict(),
                "retrieval": self.retrieval,
                "spread": self.spread,
                "pairs": self.pairs,
            }
        )


def analyze(
    embeddings: np.ndarray | torch.Tensor,
    labels: np.ndarray | torch.Tensor | list,
    class_names: list[str] | None = None,
    metric: str = "cosine",
    coverage: float = 0.5,
    exclude_self: bool = True,
    triplets: np.ndarray | torch.Tensor | None = None,
    device: str | torch.device | None = None,
    queries: int | None = None,
    seed: int = 0,
    euclidean_sample: int = EUCLIDEAN_SAMPLE,
    spread_sample: int = SPREAD_SAMPLE,
    shard: bool = False,
) -> Analysis:
    """Measure the geometry of labelled embeddings.

    Args:
        embeddings: (N, D) float, any embeddings (not only latentatlas models').
        labels: (N,) ints or strings, >= 2 classes.
        class_names: one name per class, in the order of the sorted distinct labels.
        metric: "cosine" (1 - cos), "euclidean" or "sqeuclidean", for distances, retrieval and spread.
        coverage: fraction of each class's PCA points its ellipse covers, in (0, 1).
        exclude_self: leave each point's zero distance to itself out of the intra-class means.
        triplets: (T, 3) int indices (anchor, positive, negative) into `embeddings`, for pair metrics.
        device: "auto", "cpu", "cuda" or None (cpu) for the pairwise distance computations.
        queries: evaluate retrieval on this many sampled queries (stratified by class, each exact against all N)
            with 95% intervals, instead of every point; None = every point (exact).
        seed: the seed of that sample (and of the euclidean class matrix's sample).
        euclidean_sample: above this many embeddings, the euclidean class matrix (O(N^2 D)) is computed on a
            seeded sample of about this many, stratified by class (at least 2 per class); cosine and squared
            euclidean are always exact (O(N D)).
        spread_sample: rows of the seeded subsample of uniformity, KoLeo and nearest-neighbour distances
            (O(N^2 D)); recorded as spread.n_subsample.
        shard: under torchrun, every process calls this alike and scores a share of the retrieval queries
            (`retrieval_metrics(shard=True)`); every process gets the one-process result.
    """
    if metric not in METRICS:
        raise ConfigError(f"metric {metric!r} is unknown; use one of {', '.join(METRICS)}")
    if not 0.0 < float(coverage) < 1.0:
        raise ConfigError(f"coverage {coverage} is outside (0, 1); give a fraction such as 0.5")
    x = validate_embeddings(embeddings, "embeddings")
    if labels is None:
        raise DataError("no labels given; the analysis compares classes, pass one label per embedding")
    codes, names = encode_labels(labels, len(x), class_names, "labels", "class_names")
    counts = np.bincount(codes, minlength=len(names))
    if exclude_self and counts.min() < 2:
        lonely = names[int(np.argmin(counts))]
        raise DataError(
            f"class {lonely!r} has a single embedding, so its intra-class distance is undefined; "
            "drop it or give it more embeddings"
        )
    idx = _check_triplets(triplets, len(x))
    if shard:  # before any slow work
        check_shards(min(queries, len(x)) if isinstance(queries, int) else len(x), "queries")
    dev = resolve_device(device)
    xt, yt = torch.from_numpy(x), torch.from_numpy(codes)
    # Squared euclidean distance ranks neighbours exactly as euclidean does, so retrieval uses the latter.
    # Cut-offs above the N - 1 other points are dropped rather than refused (tiny sets stay analyzable).
    # Retrieval runs first: a bad query sample is refused before the other passes over the data.
    ks = tuple(k for k in RETRIEVAL_K if k <= len(x) - 1)
    retrieval = retrieval_metrics(
        xt, yt, metric="cosine" if metric == "cosine" else "euclidean", k=ks, knn_k=min(10, len(x) - 1), device=dev,
        queries=queries, seed=seed, shard=shard,
    )  # fmt: skip
    dist = _class_distances(xt, yt, counts, metric, exclude_self, dev, euclidean_sample, seed)
    # The cosine distance sees directions only, so the picture is drawn from the unit-normalized embeddings.
    pca = pca_2d(torch.nn.functional.normalize(xt, dim=1) if metric == "cosine" else xt)
    ellipses = coverage_ellipses(pca.coords, yt, coverage=coverage)
    spread = spread_metrics(xt, yt, metric=metric, max_points=spread_sample)
    pairs = None if idx is None else pair_metrics(xt[idx[:, 0]], xt[idx[:, 1]], xt[idx[:, 2]])
    return Analysis(
        n=len(x), dim=x.shape[1], metric=metric, coverage=float(coverage), exclude_self=exclude_self,
        class_names=names, counts=counts.tolist(), distances=dist, pca=pca, ellipses=ellipses,
        retrieval=retrieval, spread=spread, pairs=pairs, labels=codes, embeddings=x,
    )  # fmt: skip


def _class_distances(xt, yt, counts, metric, exclude_self, dev, sample, seed):
    """`class_distance_matrix` of all rows, or for euclidean above `sample` rows of `class_sample`'s rows: each
    class-pair mean is then the mean over the sampled members' pairs, an unbiased estimate of the full one."""
    n = len(yt)
    if metric != "euclidean" or n <= sample:
        return class_distance_matrix(xt, yt, metric=metric, exclude_self=exclude_self, device=dev)
    rows = class_sample(yt.numpy(), sample, seed)
    pick = torch.from_numpy(rows)
    dist = class_distance_matrix(xt[pick], yt[pick], metric=metric, exclude_self=exclude_self, device=dev)
    dist.counts, dist.n_points, dist.sampled = np.asarray(counts, dtype=np.int64), len(rows), True  # all N's counts
    return dist


def _check_triplets(triplets: object, n: int) -> torch.Tensor | None:
    """(T, 3) int64 indices in [0, n), or None."""
    if triplets is None:
        return None
    t = triplets.detach().cpu().numpy() if hasattr(triplets, "detach") else np.asarray(triplets)
    if t.ndim != 2 or t.shape[1] != 3 or len(t) == 0:
        raise DataError(f"triplets have shape {t.shape}; give a (T, 3) array of (anchor, positive, negative)")
    if t.dtype.kind == "f" and np.all(t == np.round(t)):
        t = t.astype(np.int64)
    if t.dtype.kind not in "iu":
        raise DataError(f"triplets have dtype {t.dtype}; give integer indices into the embeddings")
    if t.min() < 0 or t.max() >= n:
        raise DataError(f"triplet index {int(t.max() if t.max() >= n else t.min())} is outside [0, {n}); "
                        "give row indices into the embeddings")  # fmt: skip
    return torch.from_numpy(t.astype(np.int64))
