"""Embeddings with many more dimensions than rows (D >> N): PCA and effective rank come from the N x N Gram matrix,
exactly as from the D x D covariance, without ever building a D x D matrix; half-precision files load as float32."""

from __future__ import annotations

import numpy as np
import torch
from safetensors.torch import save_file

import latentatlas.analysis.ellipses as ellipses
import latentatlas.analysis.spread as spread
from latentatlas.analysis.io import load_embeddings
from latentatlas.api import analyze


def _brute_pca(x: np.ndarray):
    xc = x.astype(np.float64) - x.mean(axis=0)
    _, s, vt = np.linalg.svd(xc, full_matrices=False)
    comps = vt[:2] * np.sign(vt[:2][np.arange(2), np.abs(vt[:2]).argmax(axis=1)])[:, None]
    return comps, xc @ comps.T, s**2 / (s**2).sum()


def test_gram_pca_and_effective_rank_equal_the_svd(rng, monkeypatch):
    x = (rng.normal(size=(15, 300)) * np.linspace(4, 0.1, 300)).astype(np.float32)
    monkeypatch.setattr(ellipses, "scatter_matrix", None)  # a D x D matrix would be a bug now
    monkeypatch.setattr(spread, "scatter_matrix", None)
    pca = ellipses.pca_2d(x)
    comps, coords, ratio = _brute_pca(x)
    np.testing.assert_allclose(pca.components, comps, atol=1e-9)
    np.testing.assert_allclose(pca.coords, coords, atol=1e-7)
    np.testing.assert_allclose(pca.explained_variance_ratio, ratio[:2], atol=1e-12)
    s = np.linalg.svd(x.astype(np.float64) - x.mean(axis=0), compute_uv=False)
    p = s / s.sum()
    np.testing.assert_allclose(spread.effective_rank(x), np.exp(-(p * np.log(p)).sum()), rtol=1e-6)


def test_analyze_of_twenty_rows_of_eight_thousand_dimensions(rng, monkeypatch):
    monkeypatch.setattr(ellipses, "scatter_matrix", None)
    monkeypatch.setattr(spread, "scatter_matrix", None)
    x = rng.normal(size=(20, 8000)).astype(np.float32)
    result = analyze(x, np.arange(20) % 4)
    assert result.dim == 8000 and np.isfinite(result.pca.coords).all()


def test_two_rows_and_constant_data(rng):
    pca = ellipses.pca_2d(rng.normal(size=(2, 50)))
    assert pca.components.shape == (2, 50) and np.isfinite(pca.components).all()
    assert spread.effective_rank(np.ones((3, 40))) == 0.0


def test_bfloat16_and_float16_safetensors_load_as_float32(tmp_path):
    for dtype in (torch.bfloat16, torch.float16):
        t = torch.randn(6, 5).to(dtype)
        save_file({"embeddings": t, "labels": torch.arange(6) % 2}, str(tmp_path / "e.safetensors"))
        data = load_embeddings(tmp_path / "e.safetensors")
        assert data.embeddings.dtype == np.float32
        np.testing.assert_array_equal(data.embeddings, t.float().numpy())
