"""The served one-point query's float16 pre-pass (`explorer.neighbours`): the same neighbours as the plain float32
product and as a float64 brute force, ties and degenerate rows included; the coarse error stays inside its bound."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import latentatlas.explorer.neighbours as nb
from latentatlas.explorer import NeighbourIndex


def _clustered(rng, n=3000, d=32, classes=5):
    centres = rng.normal(size=(classes, d)) * 2.0
    return (centres[rng.integers(0, classes, n)] + rng.normal(size=(n, d))).astype(np.float32)


def _plain(index, rows, k, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(nb, "COARSE_MIN_POINTS", 10**12)
        return index.query(rows, k)


def _brute(x, row, k):
    x64 = x.astype(np.float64)
    unit = x64 / np.linalg.norm(x64, axis=1, keepdims=True)
    s = unit @ unit[row]
    s[row] = -np.inf
    return np.lexsort((np.arange(len(x)), -s))[:k]  # highest first, ties by index


@pytest.mark.parametrize("k", [1, 10, 50])
def test_coarse_query_equals_plain_product_and_brute_force(rng, monkeypatch, k):
    x = _clustered(rng)
    x[5] = x[7] = x[9]  # exact ties: the order is by index
    monkeypatch.setattr(nb, "COARSE_MIN_POINTS", 0)
    index = NeighbourIndex(x)
    rows = [0, 5, 7, 9, *rng.integers(0, len(x), 6).tolist()]
    for row in rows:
        got, dist = index.query([row], k)
        want, want_dist = _plain(index, [row], k, monkeypatch)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_allclose(dist, want_dist)
        # float32 ranks: neighbours of near-equal float64 scores may swap; compare the sets of clear winners
        brute = _brute(x, row, k)
        assert len(set(got[0].tolist()) & set(brute.tolist())) >= k - 1
    assert index.coarse_ is not None and index.coarse_.dtype == torch.float16
    several, _ = index.query(rows[:3], k)  # a few rows at once take the same path
    np.testing.assert_array_equal(several, np.concatenate([index.query([r], k)[0] for r in rows[:3]]))


def test_degenerate_rows_fall_back_to_the_plain_product(monkeypatch):
    x = np.ones((400, 8), dtype=np.float32)  # every score ties: the cut would keep every point
    x[-1] = -1.0
    monkeypatch.setattr(nb, "COARSE_MIN_POINTS", 0)
    index = NeighbourIndex(x)
    got, _ = index.query([3], 5)
    np.testing.assert_array_equal(got, [[0, 1, 2, 4, 5]])
    np.testing.assert_array_equal(got, _plain(index, [3], 5, monkeypatch)[0])


def test_cut_widens_until_it_holds_every_candidate(rng):
    coarse = torch.tensor(rng.normal(size=5000), dtype=torch.float32)
    coarse[:600] = 10.0 + torch.linspace(0, 1e-4, 600)  # 600 points inside the band of the k-th score
    cand = nb._coarse_candidates(coarse, 10, width=16)
    want = torch.nonzero(coarse >= torch.topk(coarse, 10).values[-1] - 2 * nb.COARSE_ERROR).squeeze(1)
    assert torch.equal(cand, want) and len(cand) == 600


def test_float16_error_inside_the_bound(rng):
    x = _clustered(rng, n=4000, d=128)
    x[1] = x[0] + 1e-3 * rng.normal(size=128)  # nearly parallel rows: scores near 1
    unit = torch.nn.functional.normalize(torch.as_tensor(x), dim=1)
    coarse = (unit[:50].half() @ unit.half().T).float()
    exact = unit[:50].double() @ unit.double().T
    assert float((coarse - exact).abs().max()) <= nb.COARSE_ERROR / 2.5
