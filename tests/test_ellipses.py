"""pca_2d against numpy's SVD; coverage ellipses on known ellipses, Gaussian samples and a plain-loop reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from latentatlas.analysis.ellipses import coverage_ellipses, pca_2d
from latentatlas.errors import ConfigError, DataError


def rotation(deg: float) -> np.ndarray:
    t = math.radians(deg)
    return np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])


def test_pca_matches_svd(rng):
    x = rng.normal(size=(300, 7)) @ rng.normal(size=(7, 7)) + 4.0
    got = pca_2d(torch.from_numpy(x))
    xc = x - x.mean(axis=0)
    _, sv, vt = np.linalg.svd(xc, full_matrices=False)
    for k in range(2):  # same axis up to sign
        assert abs(float(got.components[k] @ vt[k])) == pytest.approx(1.0, abs=1e-10)
    np.testing.assert_allclose(np.abs(got.coords), np.abs(xc @ vt[:2].T), atol=1e-9)
    np.testing.assert_allclose(got.explained_variance_ratio, sv[:2] ** 2 / np.sum(sv**2), rtol=1e-10)
    np.testing.assert_allclose(got.mean, x.mean(axis=0), rtol=1e-12)
    perm = rng.permutation(len(x))
    np.testing.assert_allclose(pca_2d(x[perm]).coords, got.coords[perm], atol=1e-9)  # deterministic signs


@pytest.mark.parametrize("angle", [0.0, 30.0, -60.0])
def test_points_on_a_known_ellipse_give_its_axes_and_area(angle):
    a, b, center = 3.0, 1.25, np.array([2.0, -1.0])
    theta = np.linspace(0, 2 * np.pi, 400, endpoint=False)  # symmetric: median = center exactly
    pts = np.c_[a * np.cos(theta), b * np.sin(theta)] @ rotation(angle).T + center
    ell = coverage_ellipses(pts, np.zeros(len(pts), dtype=int), coverage=0.5).ellipses[0]
    np.testing.assert_allclose(ell.center, center, atol=1e-12)
    np.testing.assert_allclose(ell.semi_axes, (a, b), rtol=1e-9)
    assert ell.area == pytest.approx(math.pi * a * b, rel=1e-9)
    assert ell.area == pytest.approx(math.pi * ell.width * ell.height / 4, rel=1e-12)
    assert ell.angle_deg == pytest.approx(angle, abs=1e-7)


@pytest.mark.parametrize("coverage", [0.5, 0.9])
def test_gaussian_ellipse_covers_its_share_of_fresh_samples(rng, coverage):
    rot = rotation(rng.uniform(-90, 90))
    cov = rot @ np.diag([4.0, rng.uniform(0.1, 1.0)]) @ rot.T
    mean = rng.normal(size=2) * 5
    n = 4000
    fit = coverage_ellipses(rng.multivariate_normal(mean, cov, size=n), np.zeros(n, dtype=int), coverage)
    ell = fit.ellipses[0]
    assert ell.coverage_achieved == pytest.approx(coverage, abs=1.0 / n + 1e-12)
    fresh = rng.multivariate_normal(mean, cov, size=n) - np.array(ell.center)
    u = fresh @ rotation(ell.angle_deg)  # coordinates along the ellipse's own axes
    inside = np.mean((u[:, 0] / ell.semi_axes[0]) ** 2 + (u[:, 1] / ell.semi_axes[1]) ** 2 <= 1.0)
    assert inside == pytest.approx(coverage, abs=5 * math.sqrt(coverage * (1 - coverage) / n) + 0.01)
    # For a Gaussian, d^2 ~ chi^2(2): the true ellipse has area pi * q * sqrt(det cov), q = -2 ln(1 - p).
    assert ell.area == pytest.approx(math.pi * -2 * math.log(1 - coverage) * math.sqrt(np.linalg.det(cov)), rel=0.08)


def test_matches_plain_loop_reference_and_normalization(rng):
    n = 240
    labels = rng.integers(0, 4, size=n) * 5
    pts = rng.normal(size=(n, 2)) @ rng.normal(size=(2, 2)) + labels[:, None] * 0.3
    got = coverage_ellipses(pts, labels, coverage=0.7)
    s2 = float(np.trace(np.cov(pts.T))) / 2
    assert got.scale == pytest.approx(math.sqrt(s2), rel=1e-12)
    for ell in got.ellipses:
        p = pts[labels == ell.label]
        med = [
            sorted(p[:, k])[len(p) // 2] if len(p) % 2 else np.mean(sorted(p[:, k])[len(p) // 2 - 1 :][:2])
            for k in range(2)
        ]
        c = np.cov(p.T)
        d2 = sorted(float((q - med) @ np.linalg.solve(c, q - med)) for q in p)
        pos = 0.7 * (len(d2) - 1)
        qv = d2[int(pos)] + (pos - int(pos)) * (d2[min(int(pos) + 1, len(d2) - 1)] - d2[int(pos)])
        lam = sorted(np.linalg.eigvalsh(c), reverse=True)
        np.testing.assert_allclose(ell.center, med, rtol=1e-12)
        np.testing.assert_allclose(ell.semi_axes, np.sqrt(qv * np.array(lam)), rtol=1e-9)
        assert ell.area_normalized == pytest.approx(ell.area / s2, rel=1e-12)
    areas = [e.area for e in got.ellipses]
    assert got.mean_area == pytest.approx(np.mean(areas)) and got.median_area == pytest.approx(np.median(areas))
    # One scale for both axes: scaling the plane changes raw areas by c^2 but no normalized area.
    scaled = coverage_ellipses(pts * 7.5, labels, coverage=0.7)
    assert scaled.mean_area == pytest.approx(got.mean_area * 7.5**2, rel=1e-9)
    assert scaled.median_area_normalized == pytest.approx(got.median_area_normalized, rel=1e-9)
    assert scaled.mean_area_normalized == pytest.approx(got.mean_area_normalized, rel=1e-9)
    assert got.to_dict()["ellipses"][0]["semi_axes"] == list(got.ellipses[0].semi_axes)


def test_small_classes_are_skipped_with_a_warning(rng):
    pts = rng.normal(size=(23, 2))
    labels = np.r_[np.zeros(20, dtype=int), [7, 7], [9]]
    with pytest.warns(UserWarning, match=r"class 7: 2 point\(s\), an ellipse needs >= 3"):
        got = coverage_ellipses(pts, labels, classes=[0, 7])
    assert [e.label for e in got.ellipses] == [0] and got.skipped == [7]


def test_bad_inputs_raise(rng):
    pts = rng.normal(size=(10, 2))
    labels = np.zeros(10, dtype=int)
    with pytest.raises(ConfigError, match=r"coverage: 1.5 is outside \(0, 1\]"):
        coverage_ellipses(pts, labels, coverage=1.5)
    with pytest.raises(DataError, match=r"coords: shape \(10, 3\) is not \(N, 2\)"):
        coverage_ellipses(rng.normal(size=(10, 3)), labels)
    with pytest.raises(DataError, match=r"classes: \[4\] do not occur in labels"):
        coverage_ellipses(pts, labels, classes=[0, 4])
    with pytest.raises(DataError, match="too small for 2-D PCA"):
        pca_2d(rng.normal(size=(1, 5)))
