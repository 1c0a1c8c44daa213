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

from latentatlas.analysis.distances import class_distance_matrix
from latentatlas.analysis.ellipses import coverage_ellipses, pca_2d
from latentatlas.analysis.pairs import pair_metrics
from latentatlas.analysis.retrieval import retrieval_metrics
from latentatlas.analysis.spread import spread_metrics
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


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "sqeuclidean"])
def test_numbers_equal_the_math_functions(rng, metric):
    x, y = clustered(rng)
    trip = rng.integers(0, len(x), size=(40, 3))
    a = analyze(x, y, metric=metric, coverage=0.7, triplets=trip)
    xt = torch.from_numpy(x)
    _same(a.distances, class_distance_matrix(x, y, metric=metric))
    pca = pca_2d(torch.nn.functional.normalize(xt, dim=1) if metric == "cosine" else xt)
    np.testing.assert_array_equal(np.asarray(a.pca.coords), np.asarray(pca.coords))
    _same(a.ellipses, coverage_ellipses(pca.coords, y, coverage=0.7))
    _same(a.retrieval, retrieval_metrics(x, y, metric="cosine" if metric == "cosine" else "euclidean"))
    _same(a.spread, spread_metrics(x, y, metric=metric))
    _same(a.pairs, pair_metrics(x[trip[:, 0]], x[trip[:, 1]], x[trip[:, 2]]))
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
    assert len(uris) == 3
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
