"""Exact 2-D PCA and per-class coverage ellipses in the PCA plane.

The seed draws, per class, the ellipse that holds a fraction `coverage` of the class's points: centred on the
coordinate-wise median, shaped by the class covariance, sized by the empirical `coverage` quantile q of the
squared Mahalanobis distances d^2 = (p - m)^T Sigma^-1 (p - m). Its semi-axes are sqrt(q * lambda_k) for the
covariance eigenvalues lambda_k, so its area is pi * a * b (NOT pi * width * height: width and height are full
axis lengths 2a and 2b, the seed's 4x error). Areas are also reported in a normalized frame that divides every
coordinate by ONE scale s (the total standard deviation sqrt(trace(Cov) / 2) of all points), which keeps shapes
and ratios of areas; normalized area = area / s^2.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from latentatlas.analysis.inputs import (
    CHUNK,
    as_labels,
    as_matrix,
    centred_gram,
    centred_times,
    scatter_matrix,
    symmetric_eigh,
)
from latentatlas.errors import ConfigError, DataError


@dataclass
class PCA2D:
    """First two principal axes. coords: (N, 2), components: (2, D) unit rows, mean: (D,),
    explained_variance_ratio: (2,) share of the total variance along each axis."""

    coords: np.ndarray
    components: np.ndarray
    mean: np.ndarray
    explained_variance_ratio: np.ndarray


def pca_2d(x: Any) -> PCA2D:
    """Exact PCA onto 2 axes in float64: from the D x D covariance (O(N D^2)) when D <= N, else from the N x N
    Gram matrix of the centred rows (O(N^2 D)), whose eigenvectors u give the components (x - m)^T u / sigma.

    Args:
        x: (N, D) float embeddings, N >= 2, D >= 2.

    Returns:
        PCA2D; each component's largest-magnitude entry is positive, so the result is deterministic.
    """
    xt = as_matrix(x, dtype=None)  # float32 stays float32; chunks are promoted to float64
    if xt.shape[0] < 2 or xt.shape[1] < 2:
        raise DataError(f"embeddings: shape {tuple(xt.shape)} is too small for 2-D PCA; need N >= 2, D >= 2")
    if xt.shape[1] <= xt.shape[0]:
        mean, scatter = scatter_matrix(xt)
        eigval, eigvec = symmetric_eigh(scatter / (xt.shape[0] - 1))  # ascending
        eigval = eigval.clamp(min=0.0)
        comps = eigvec[:, [-1, -2]].T  # (2, D), largest variance first
    else:
        mean, gram = centred_gram(xt)
        eigval, u = symmetric_eigh(gram / (xt.shape[0] - 1))  # (N,) ascending: the nonzero ones of the covariance
        eigval = eigval.clamp(min=0.0)
        comps = _gram_components(xt, mean, u[:, [-1, -2]])
    sign = torch.sign(comps.gather(1, comps.abs().argmax(dim=1, keepdim=True)))
    comps = comps * sign
    coords = torch.cat([(xt[s : s + CHUNK].to(torch.float64) - mean) @ comps.T for s in range(0, len(xt), CHUNK)])
    total = float(eigval.sum())
    ratio = eigval[[-1, -2]] / total if total > 0 else torch.zeros(2, dtype=torch.float64)
    return PCA2D(coords.cpu().numpy(), comps.cpu().numpy(), mean.cpu().numpy(), ratio.cpu().numpy())


def _gram_components(x: torch.Tensor, mean: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """(2, D) unit principal axes from the Gram eigenvectors u (N, 2); a zero-variance axis stays a zero row."""
    v = centred_times(x, mean, u).T  # (2, D), norms sigma_k
    norms = v.norm(dim=1, keepdim=True)
    return torch.where(norms > 0, v / norms.clamp(min=1e-300), torch.zeros_like(v))


@dataclass
class Ellipse:
    """One class's coverage ellipse. semi_axes: (a, b) with a >= b; angle_deg: major axis vs the x axis,
    in (-90, 90]; area = pi a b; area_normalized = area / s^2; coverage_achieved: share of the class inside."""

    label: int
    n: int
    center: tuple[float, float]
    semi_axes: tuple[float, float]
    angle_deg: float
    area: float
    area_normalized: float
    coverage_achieved: float

    @property
    def width(self) -> float:
        """Full major-axis length 2a (matplotlib's Ellipse width); area is pi * width * height / 4."""
        return 2.0 * self.semi_axes[0]

    @property
    def height(self) -> float:
        """Full minor-axis length 2b."""
        return 2.0 * self.semi_axes[1]


@dataclass
class EllipseSet:
    """Coverage ellipses of several classes; `scale` is the s of the normalized frame."""

    ellipses: list[Ellipse]
    coverage: float
    scale: float
    skipped: list[int] = field(default_factory=list)

    def _stat(self, fn: Any, attr: str) -> float:
        values = [getattr(e, attr) for e in self.ellipses]
        return float(fn(values)) if values else math.nan

    @property
    def mean_area(self) -> float:
        return self._stat(np.mean, "area")

    @property
    def median_area(self) -> float:
        return self._stat(np.median, "area")

    @property
    def mean_area_normalized(self) -> float:
        return self._stat(np.mean, "area_normalized")

    @property
    def median_area_normalized(self) -> float:
        return self._stat(np.median, "area_normalized")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "coverage": self.coverage,
            "scale": self.scale,
            "mean_area": self.mean_area,
            "median_area": self.median_area,
            "mean_area_normalized": self.mean_area_normalized,
            "median_area_normalized": self.median_area_normalized,
            "skipped": list(self.skipped),
            "ellipses": [
                {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(e).items()} for e in self.ellipses
            ],
        }


def coverage_ellipses(coords: Any, labels: Any, coverage: float = 0.5, classes: Any = None) -> EllipseSet:
    """Per class (>= 3 points) the ellipse holding `coverage` of its points.

    Args:
        coords: (N, 2) float, e.g. `pca_2d(x).coords`.
        labels: (N,) integer labels.
        coverage: target fraction in (0, 1].
        classes: labels to fit, in this order (default: all, sorted); the normalizing scale uses all points.

    Returns:
        EllipseSet; classes with < 3 points or collinear points are skipped with a warning.
    """
    pts = as_matrix(coords, name="coords").cpu().numpy()
    if pts.shape[1] != 2:
        raise DataError(f"coords: shape {pts.shape} is not (N, 2); project to 2-D first (pca_2d)")
    if not 0.0 < coverage <= 1.0:
        raise ConfigError(f"coverage: {coverage} is outside (0, 1]; use e.g. 0.5")
    codes, all_classes, _ = as_labels(labels, pts.shape[0])
    lab = all_classes[codes.numpy()]
    wanted = all_classes if classes is None else np.asarray(classes).reshape(-1)
    missing = sorted(set(wanted.tolist()) - set(all_classes.tolist()))
    if missing:
        raise DataError(f"classes: {missing} do not occur in labels; pass labels that occur or classes=None")
    # One scale for the whole plane (not one per axis): shapes and area ratios survive normalization.
    scale = math.sqrt(np.trace(np.atleast_2d(np.cov(pts.T))) / 2.0) if len(pts) > 1 else 0.0
    ellipses, skipped = [], []
    for c in wanted.tolist():
        ell = _fit(pts[lab == c], int(c), coverage, scale)
        if ell is None:
            skipped.append(int(c))
        else:
            ellipses.append(ell)
    return EllipseSet(ellipses, coverage, scale, skipped)


def _fit(p: np.ndarray, label: int, coverage: float, scale: float) -> Ellipse | None:
    """Coverage ellipse of one class's (n, 2) points, or None (with a warning) if it cannot be fitted."""
    if len(p) < 3:
        warnings.warn(f"class {label}: {len(p)} point(s), an ellipse needs >= 3; skipped", stacklevel=3)
        return None
    center = np.median(p, axis=0)
    cov = np.cov(p.T)  # (2, 2), unbiased
    eigval, eigvec = np.linalg.eigh(cov)  # ascending
    if eigval[0] <= 1e-12 * max(eigval[1], 1e-300):
        warnings.warn(f"class {label}: points are collinear (singular covariance); skipped", stacklevel=3)
        return None
    diff = p - center
    d2 = np.einsum("ni,ij,nj->n", diff, np.linalg.inv(cov), diff)  # squared Mahalanobis to the median
    q = float(np.quantile(d2, coverage))
    a, b = math.sqrt(q * eigval[1]), math.sqrt(q * eigval[0])
    angle = math.degrees(math.atan2(eigvec[1, 1], eigvec[0, 1]))
    angle = angle - 180.0 if angle > 90.0 else angle + 180.0 if angle <= -90.0 else angle
    area = math.pi * a * b
    return Ellipse(
        label=label,
        n=len(p),
        center=(float(center[0]), float(center[1])),
        semi_axes=(a, b),
        angle_deg=angle,
        area=area,
        area_normalized=area / scale**2 if scale > 0 else math.nan,
        coverage_achieved=float(np.mean(d2 <= q)),
    )
