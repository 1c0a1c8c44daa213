"""What the explorer shows, as plain arrays: `ExplorerData` (the points) and `LatentSpace` (generative runs).

Everything here is data; `build.py` and `latent_build.py` compute it from embeddings or a decoder, `write.py`
packs it into the page. `validate()` checks shapes and dtypes and raises a one-line `DataError` naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from latentatlas.errors import ConfigError, DataError

METRICS = ("cosine", "euclidean", "sqeuclidean")
STATIC_NEIGHBOURS_MAX_N = 200_000  # above this the page says neighbours need --serve
MAX_K = 100  # largest neighbours_k precomputed per point (the server takes up to api.MAX_K)
CENTRE_QUANTITY = "distance to class centre"  # derived when labels are given (build.with_derived)
AGREEMENT_QUANTITY = "k-NN label agreement"  # derived when labels and static neighbours are given


@dataclass
class LatentPlane:
    """A 2-D plane of the latent space with its precomputed dense decode.

    A plane position (x, y) with slider values s (L - 2,) is the latent `origin + x basis[0] + y basis[1] +
    sum_k s_k basis[2 + k]`. Statically the page shows the decode of the nearest grid position of the nearest
    slice: slices sit at `slice_values` along basis[2] (L = 3), or one slice at `others_default` (L = 2 or > 3).

    Attributes:
        name: e.g. "z1-z2" or "PC1-PC2".
        axis_labels: names of the plane's two axes.
        origin: (L,) float64.
        basis: (L, L) float64 orthonormal rows; rows 0, 1 span the plane, rows 2.. are the slider axes.
        xs, ys: (G,) increasing grid positions along basis[0] and basis[1].
        others_default: (L - 2,) slider start values; others_range: (L - 2, 2) slider min and max.
        slice_values: (K,) positions along basis[2] of the precomputed slices (K = 1 when L != 3).
        images: (K, G * G, S, S) bool decodes, grid cell (iy, ix) at index iy * G + ix.
        valid: (K, G * G) bool oracle verdicts of `images`.
        coords: (N, 2) float32 the training latents projected onto the plane.
    """

    name: str
    axis_labels: tuple[str, str]
    origin: np.ndarray
    basis: np.ndarray
    xs: np.ndarray
    ys: np.ndarray
    others_default: np.ndarray
    others_range: np.ndarray
    slice_values: np.ndarray
    images: np.ndarray = field(repr=False)
    valid: np.ndarray = field(repr=False)
    coords: np.ndarray = field(repr=False)

    def validate(self, n: int, latent_dim: int, where: str) -> None:
        """Raise a DataError naming `where` when a shape does not fit N points in an L-dim latent space."""
        g, k = len(self.xs), len(self.slice_values)
        checks = [
            ("origin", self.origin.shape == (latent_dim,), f"({latent_dim},)"),
            ("basis", self.basis.shape == (latent_dim, latent_dim), f"({latent_dim}, {latent_dim})"),
            ("ys", self.ys.shape == (g,), f"({g},) like xs"),
            ("others_default", self.others_default.shape == (latent_dim - 2,), f"({latent_dim - 2},)"),
            ("others_range", self.others_range.shape == (latent_dim - 2, 2), f"({latent_dim - 2}, 2)"),
            ("images", self.images.ndim == 4 and self.images.shape[:2] == (k, g * g), f"({k}, {g * g}, S, S)"),
            ("valid", self.valid.shape == (k, g * g), f"({k}, {g * g})"),
            ("coords", self.coords.shape == (n, 2), f"({n}, 2)"),
        ]
        for name, ok, want in checks:
            if not ok:
                shape = getattr(self, name).shape
                raise DataError(f"{where}.{name}: shape {shape}, expected {want}; rebuild it with latent_space()")
        if g < 2 or np.any(np.diff(self.xs) <= 0) or np.any(np.diff(self.ys) <= 0):
            raise DataError(f"{where}.xs/ys: need >= 2 increasing grid positions; rebuild it with latent_space()")


@dataclass
class LatentSpace:
    """Latent-plane mode of a generative run: its planes, and what a live server needs to decode.

    Attributes:
        planes: precomputed planes; the first is shown first and gives `ExplorerData.coords`.
        latent_dim: L; image_size: S of the decoded figures.
        latents: (N, L) float32 training latents (posterior means), the explorer's points.
        pca_mean: (L,) and pca_axes: (L, L) rows by decreasing variance: served pages build any plane from them.
        morph_steps: frames of a morph, end points included.
        variational: True for a VAE (slerp is offered first).
    """

    planes: list[LatentPlane]
    latent_dim: int
    image_size: int
    latents: np.ndarray = field(repr=False)
    pca_mean: np.ndarray = field(repr=False)
    pca_axes: np.ndarray = field(repr=False)
    morph_steps: int = 12
    variational: bool = True

    def validate(self, n: int) -> None:
        if not self.planes:
            raise DataError("latent.planes: empty; latent_space() builds at least one plane")
        if self.latent_dim < 2:
            raise DataError(f"latent.latent_dim: {self.latent_dim}; the latent-plane mode needs a latent dim >= 2")
        if self.latents.shape != (n, self.latent_dim):
            raise DataError(f"latent.latents: shape {self.latents.shape}, expected ({n}, {self.latent_dim})")
        if self.morph_steps < 2:
            raise ConfigError(f"latent.morph_steps: {self.morph_steps}; use at least 2 (the two end points)")
        for i, plane in enumerate(self.planes):
            plane.validate(n, self.latent_dim, f"latent.planes[{i}]")
            if plane.images.shape[2:] != (self.image_size, self.image_size):
                raise DataError(f"latent.planes[{i}].images: figures are not {self.image_size} px squares")


@dataclass
class ExplorerData:
    """The points of an explorer and everything drawn with them.

    Attributes:
        coords: (N, 2) float32 map positions.
        projection: how `coords` were made, shown in the page (e.g. "PCA of the L2-normalized embeddings").
        embeddings: (N, D) float32 for nearest neighbours in the full space, or None.
        metric: "cosine", "euclidean" or "sqeuclidean": the neighbours' distance.
        labels: (N,) int class codes 0..C-1, or None; class_names: C names.
        metadata: {name: (N,) str or float} columns shown in the tooltip, colourable and searchable.
        quantities: {name: (N,) float} per-point numbers to colour by (e.g. distance to the class centre).
        thumbnails: (N, h, w) or (N, h, w, 3) uint8, or None.
        ellipses: per-class coverage ellipses (an analysis `EllipseSet`, labels = class codes), or None.
        class_distances: (C, C) class distance matrix, or None; class_distance_name says which distance.
        neighbours_k: neighbours precomputed per point (static, N <= STATIC_NEIGHBOURS_MAX_N) and listed.
        neighbours: "auto" (precompute when embeddings are given and N is small enough), True, or False.
        latent: latent-plane mode for AE/VAE runs, or None.
        title: page title; notes: lines shown under the title (how things were computed, what is left out).
        links: (text, href) pairs shown under the title, e.g. the report the explorer belongs to.
        color_by: the colouring shown first: "class", a metadata column or a quantity name (None: the first).
    """

    coords: np.ndarray
    projection: str = "given 2-D coordinates"
    embeddings: np.ndarray | None = None
    metric: str = "cosine"
    labels: np.ndarray | None = None
    class_names: list[str] | None = None
    metadata: dict[str, np.ndarray] = field(default_factory=dict)
    quantities: dict[str, np.ndarray] = field(default_factory=dict)
    thumbnails: np.ndarray | None = None
    ellipses: Any = None
    class_distances: np.ndarray | None = None
    class_distance_name: str = "mean distance"
    neighbours_k: int = 10
    neighbours: bool | str = "auto"
    latent: LatentSpace | None = None
    title: str = "latentatlas explorer"
    notes: list[str] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    color_by: str | None = None

    @property
    def n(self) -> int:
        return int(self.coords.shape[0])

    @property
    def static_neighbours(self) -> bool:
        """Whether the static page gets precomputed neighbours."""
        if self.embeddings is None or self.neighbours is False:
            return False
        if self.neighbours is True:
            return True
        return self.n <= STATIC_NEIGHBOURS_MAX_N

    def validate(self) -> None:
        """Check every field; raises DataError / ConfigError with one line naming the field and the fix."""
        n = self.n
        if self.coords.ndim != 2 or self.coords.shape[1] != 2 or n < 1:
            raise DataError(f"coords: shape {self.coords.shape}; give (N, 2) map positions, N >= 1")
        if not np.isfinite(self.coords).all():
            raise DataError("coords: NaN or inf positions; drop those points or fix the projection")
        if self.metric not in METRICS:
            raise ConfigError(f"metric: {self.metric!r} is unknown; use one of {', '.join(METRICS)}")
        if self.embeddings is not None and (self.embeddings.ndim != 2 or len(self.embeddings) != n):
            raise DataError(f"embeddings: shape {self.embeddings.shape}; give ({n}, D), one row per point")
        if not 1 <= self.neighbours_k <= min(MAX_K, max(n - 1, 1)):
            raise ConfigError(f"neighbours_k: {self.neighbours_k} is outside 1..{min(MAX_K, n - 1)}; lower it")
        self._validate_labels(n)
        for kind, columns in (("metadata", self.metadata), ("quantities", self.quantities)):
            for name, col in columns.items():
                if np.asarray(col).shape != (n,):
                    raise DataError(f"{kind}[{name!r}]: shape {np.asarray(col).shape}; give one value per point ({n},)")
        self._validate_thumbnails(n)
        if self.latent is not None:
            self.latent.validate(n)
        self._validate_color_by()

    def colourings(self) -> list[str]:
        """Names of the colourings the page offers, in its menu's order (derived quantities included)."""
        names = ["class"] if self.labels is not None else []
        names += list(self.metadata) + list(self.quantities)
        if self.labels is not None:
            derived = [CENTRE_QUANTITY] + ([AGREEMENT_QUANTITY] if self.static_neighbours else [])
            names += [q for q in derived if q not in self.quantities]
        return names

    def _validate_color_by(self) -> None:
        if self.color_by is None or self.color_by in self.colourings():
            return
        if self.labels is None and self.color_by in ("class", CENTRE_QUANTITY, AGREEMENT_QUANTITY):
            raise DataError(
                f"color_by {self.color_by!r}: the points have no labels; pass --labels FILE or --label-column "
                "NAME, or colour by a metadata column"
            )
        offered = ", ".join(repr(c) for c in self.colourings()) or "none (no labels, metadata or quantities)"
        raise ConfigError(f"color_by {self.color_by!r}: not a colouring of these points; use one of {offered}")

    def _validate_labels(self, n: int) -> None:
        if self.labels is None:
            if self.class_distances is not None or self.ellipses is not None:
                raise DataError("labels: None, but class ellipses or distances are given; pass the labels too")
            return
        labels = np.asarray(self.labels)
        if labels.shape != (n,) or labels.dtype.kind not in "iu":
            raise DataError(f"labels: shape {labels.shape} dtype {labels.dtype}; give ({n},) integer class codes")
        c = len(self.class_names) if self.class_names is not None else int(labels.max()) + 1
        if labels.min() < 0 or labels.max() >= c:
            raise DataError(f"labels: codes span {labels.min()}..{labels.max()}, outside 0..{c - 1}; encode them")
        if self.class_distances is not None and np.shape(self.class_distances) != (c, c):
            raise DataError(f"class_distances: shape {np.shape(self.class_distances)}, expected ({c}, {c})")

    def _validate_thumbnails(self, n: int) -> None:
        t = self.thumbnails
        if t is None:
            return
        if t.dtype != np.uint8 or len(t) != n or not (t.ndim == 3 or (t.ndim == 4 and t.shape[3] == 3)):
            raise DataError(
                f"thumbnails: shape {t.shape} dtype {t.dtype}; give ({n}, h, w) or ({n}, h, w, 3) uint8 images"
            )


def metadata_columns(metadata: Any, n: int) -> dict[str, np.ndarray]:
    """Metadata {name: (N,) values} as float64 (numbers, booleans as 0/1) or str arrays."""
    out = {}
    for name, col in (metadata or {}).items():
        arr = np.asarray(col.detach().cpu().numpy() if hasattr(col, "detach") else col)
        if arr.shape != (n,):
            raise DataError(f"metadata[{name!r}]: shape {arr.shape}; give one value per point ({n},)")
        out[str(name)] = arr.astype(np.float64) if arr.dtype.kind in "biuf" else arr.astype(str)
    return out
