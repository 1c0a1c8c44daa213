"""`analyze` and `Analysis`: numbers equal the math modules', saving is atomic, figures and text are right."""

from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
import pytest
import torch
from PIL import Image

from latentatlas.api import analyze
from latentatlas.errors import ConfigError, DataError, LatentAtlasError
from latentatlas.report import analysis_report
from latentatlas.report.analysis_report import METRIC_LABELS, make_figures, reading


def clustered(rng, n_per=30, c=4, d=6, scale=3.0):
    centers = rng.normal(scale=scale, size=(c, d))
    y = np.repeat(np.arange(c), n_per)
    return (centers[y] + rng.normal(size=(len(y), d))).astype(np.float32), y


def _same(a, b):
    """Compare nested results (dicts, arrays, tensors, to_dict objects) exactly."""
    a, b = json.dumps(_plain(a), sort_keys=True), json.dumps(_plain(b), sort_keys=True)
    assert a == b


def _plain(v):
    from latentatlas.jsonio import to_jsonable

    return to_jsonable(v)


def _pairwise(x: np.ndarray, metric: str) -> np.ndarray:
    """(N, N) distances by the definitions, in float64."""
    if metric == "cosine":
        u = x / np.linalg.norm(x, axis=1, keepdims=True)
        return 1 - u @ u.T
    sq = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    return sq if metric == "sqeuclidean" else np.sqrt(sq)


def _class_means(d: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean distance between members of classes i and j, self-pairs left out of the diagonal."""
    c = y.max() + 1
    out = np.empty((c, c))
    for i in range(c):
        for j in range(c):
            block = d[np.ix_(y == i, y == j)]
            out[i, j] = block[~np.eye(len(block), dtype=bool)].mean() if i == j else block.mean()
    return out


def _retrieval(d: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """precision@1 and MAP@R by a per-query loop: neighbours by distance, ties by index, self left out."""
    p1, maps = [], []
    for q in range(len(y)):
        order = [i for i in np.lexsort((np.arange(len(y)), d[q])) if i != q]
        hits = y[order] == y[q]
        r = int((y == y[q]).sum()) - 1
        p1.append(hits[0])
        maps.append(sum(hits[k] * hits[: k + 1].sum() / (k + 1) for k in range(r)) / r)
    return float(np.mean(p1)), float(np.mean(maps))


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "sqeuclidean"])
def test_numbers_equal_independent_references(rng, metric):
    """Every headline number against NumPy/scikit-learn computations from the definitions (not the math modules)."""
    from sklearn.metrics import roc_auc_score

    x, y = clustered(rng)
    trip = rng.integers(0, len(x), size=(40, 3))
    a = analyze(x, y, metric=metric, coverage=0.7, triplets=trip)
    x64 = x.astype(np.float64)
    means = _class_means(_pairwise(x64, metric), y)
    np.testing.assert_allclose(a.distances.matrix, means, rtol=1e-9)
    off = means[~np.eye(len(means), dtype=bool)]
    assert a.distances.margin == pytest.approx(off.mean() - np.diag(means).mean(), rel=1e-9)
    # PCA plane: the top-2 right singular vectors of the centred (unit-normalized for cosine) data
    z = x64 / np.linalg.norm(x64, axis=1, keepdims=True) if metric == "cosine" else x64
    s = np.linalg.svd(z - z.mean(0), compute_uv=False)
    np.testing.assert_allclose(a.pca.explained_variance_ratio, (s**2 / (s**2).sum())[:2], rtol=1e-6)
    for e in a.ellipses.ellipses:  # each ellipse holds at least `coverage` of its class, as the empirical quantile
        assert 0.7 <= e.coverage_achieved <= 0.7 + 1.5 / e.n
    ranked = _pairwise(x64, "cosine" if metric == "cosine" else "euclidean")
    p1, map_r = _retrieval(ranked, y)
    assert a.retrieval["precision_at_1"] == pytest.approx(p1, abs=1e-12)
    assert a.retrieval["mean_average_precision_at_r"] == pytest.approx(map_r, rel=1e-9)
    u = x64 / np.linalg.norm(x64, axis=1, keepdims=True)
    cos_ap = (u[trip[:, 0]] * u[trip[:, 1]]).sum(1)
    cos_an = (u[trip[:, 0]] * u[trip[:, 2]]).sum(1)
    auc = roc_auc_score(np.r_[np.ones(40), np.zeros(40)], np.r_[cos_ap, cos_an])
    assert a.pairs["pair_auc"] == pytest.approx(auc, rel=1e-9)
    assert a.pairs["good_triplet_ratio"] == pytest.approx(np.mean(cos_ap > cos_an))
    assert a.counts == np.bincount(y).tolist() and a.n == len(x) and a.dim == x.shape[1]


def test_string_labels_and_torch_inputs_give_the_same_matrix(rng):
    x, y = clustered(rng)
    words = np.array(["wolf", "ant", "pig", "cow"])[y]  # sorted: ant cow pig wolf, so y 0 1 2 3 -> 3 0 2 1
    a = analyze(torch.from_numpy(x), words.tolist())
    b = analyze(x, np.array([3, 0, 2, 1])[y])
    assert a.class_names == ["ant", "cow", "pig", "wolf"]
    np.testing.assert_array_equal(a.distances.matrix, b.distances.matrix)


def test_to_dict_is_json_safe_and_complete(rng):
    x, y = clustered(rng)
    a = analyze(x, y, class_names=["a", "b", "c", "d"])
    d = json.loads(json.dumps(a.to_dict(), allow_nan=False))
    assert d["distances"]["matrix"] == np.asarray(a.distances.matrix).tolist()
    assert d["distances"]["margin"] == pytest.approx(a.distances.inter_mean - a.distances.intra_mean)
    assert d["class_names"] == ["a", "b", "c", "d"] and d["pairs"] is None
    assert d["retrieval"]["precision_at_1"] == a.retrieval["precision_at_1"]


def test_save_writes_the_files_and_refuses_existing_folders(rng, tmp_path):
    x, y = clustered(rng)
    a = analyze(x, y)
    out = a.save(tmp_path / "r")
    assert sorted(p.name for p in out.iterdir()) == ["analysis.json", "figures", "report.html"]
    assert json.loads((out / "analysis.json").read_text()) == json.loads(json.dumps(a.to_dict()))
    for png in (out / "figures").iterdir():
        with Image.open(png) as im:
            assert im.format == "PNG"
    with pytest.raises(LatentAtlasError, match="not empty; choose another --out or pass --force"):
        a.save(out)
    (out / "extra.txt").write_text("x")
    a.save(out, force=True, projector=True)
    assert not (out / "extra.txt").exists() and (out / "projector" / "tensors.tsv").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_failed_save_leaves_no_half_written_folder(rng, tmp_path, monkeypatch):
    x, y = clustered(rng)
    a = analyze(x, y)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(analysis_report, "write_report", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        a.save(tmp_path / "r")
    assert list(tmp_path.iterdir()) == []


def test_repr_html_embeds_the_figures(rng):
    x, y = clustered(rng)
    a = analyze(x, y, class_names=["alpha", "beta", "gamma", "delta"])
    page = a._repr_html_()
    uris = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(uris) == 4  # class distances, PCA, nearest-neighbour distances, k-NN confusion
    for uri in uris:
        with Image.open(io.BytesIO(base64.b64decode(uri))) as im:
            assert im.format == "PNG"
    assert all(name in page for name in ["alpha", "beta", "gamma", "delta"])
    assert f"{a.distances.margin:.4f}" in page and f"{a.distances.margin:.4f}" in a.summary_text()


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "sqeuclidean"])
def test_heatmap_names_the_metric_and_shows_the_values(rng, metric):
    x, y = clustered(rng, c=3)
    a = analyze(x, y, metric=metric, class_names=["p", "q", "r"])
    fig = make_figures(a)["class_distances"][0]
    heat, cbar = fig.axes[0], fig.axes[1]
    assert cbar.get_ylabel() == f"mean {METRIC_LABELS[metric]}"
    assert ("L2" in cbar.get_ylabel()) is False and (metric.replace("sq", "squared ") in cbar.get_ylabel())
    m = np.asarray(a.distances.matrix)
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in heat.texts}
    assert cells == {(i, j): f"{m[i, j]:.2f}" for i in range(3) for j in range(3)}
    assert [t.get_text() for t in heat.get_xticklabels()] == ["p", "q", "r"]


def test_pca_figure_axes_and_legend(rng):
    x, y = clustered(rng)
    a = analyze(x, y, class_names=["a", "b", "c", "d"])
    ax = make_figures(a)["pca_ellipses"][0].axes[0]
    evr = np.asarray(a.pca.explained_variance_ratio)
    assert ax.get_xlabel() == f"PC1 ({100 * evr[0]:.1f}% of variance)"
    assert ax.get_ylabel() == f"PC2 ({100 * evr[1]:.1f}% of variance)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c", "d"]
    assert len(ax.patches) == 4  # one ellipse per class, drawn with full axes 2a, 2b at the fitted angle
    for patch, e in zip(ax.patches, a.ellipses.ellipses, strict=True):
        assert patch.width == pytest.approx(2 * e.semi_axes[0]) and patch.height == pytest.approx(2 * e.semi_axes[1])
        assert patch.angle == pytest.approx(e.angle_deg) and patch.center == pytest.approx(e.center)


def test_reading_names_the_most_confusable_pair(rng):
    x, y = clustered(rng, c=5)
    x[y == 4] = x[y == 3] + 0.3 * rng.normal(size=x[y == 3].shape)  # classes 3 and 4 nearly coincide
    a = analyze(x, y, metric="euclidean", class_names=list("vwxyz"))
    m = np.asarray(a.distances.matrix)
    best, pair = np.inf, None
    for i in range(5):  # brute force: inter / mean intra, smallest first
        for j in range(i + 1, 5):
            ratio = m[i, j] / ((m[i, i] + m[j, j]) / 2)
            if ratio < best:
                best, pair = ratio, (i, j)
    text = " ".join(reading(a))
    assert f"pairs (smallest inter-class distance relative to intra-class): y / z (inter/intra {best:.2f})" in text
    assert pair == (3, 4)
    tight, loose = int(np.argmin(np.diag(m))), int(np.argmax(np.diag(m)))
    assert f"Tightest class: {'vwxyz'[tight]}" in text and f"loosest: {'vwxyz'[loose]}" in text
    assert "exclude each point's zero distance" in text


def test_bad_arguments(rng):
    x, y = clustered(rng)
    with pytest.raises(ConfigError, match="metric 'l1' is unknown; use one of cosine, euclidean, sqeuclidean"):
        analyze(x, y, metric="l1")
    with pytest.raises(ConfigError, match=r"coverage 0 is outside \(0, 1\)"):
        analyze(x, y, coverage=0)
    y1 = y.copy()
    y1[0] = 9
    with pytest.raises(DataError, match="class '9' has a single embedding"):
        analyze(x, y1)
    with pytest.raises(DataError, match=r"triplets have shape \(4, 2\); give a \(T, 3\) array"):
        analyze(x, y, triplets=np.zeros((4, 2), dtype=int))
    with pytest.raises(DataError, match="no labels given"):
        analyze(x, None)
    with pytest.raises(DataError, match="class_names: 2 class names for 4 classes"):
        analyze(x, y, class_names=["a", "b"])


def test_sampled_queries_give_an_estimate_whose_interval_holds_the_exact_value(rng):
    x, y = clustered(rng, n_per=60, scale=1.0)
    exact = analyze(x, y)
    sampled = analyze(x, y, queries=120, seed=3)
    assert sampled.retrieval["estimate"] is True and sampled.retrieval["n_queries"] == 120
    lo, hi = sampled.retrieval["precision_at_1_ci"]
    assert lo <= sampled.retrieval["precision_at_1"] <= hi
    everyone = analyze(x, y, queries=len(x))
    assert everyone.retrieval["precision_at_1"] == pytest.approx(exact.retrieval["precision_at_1"], abs=1e-12)
    with pytest.raises(ConfigError, match="queries"):
        analyze(x, y, queries=0)
