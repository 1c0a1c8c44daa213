"""The explorer's Python side: neighbours and quantities against brute force, data checks, atlases, packing,
and writing (folder, single file, refusals)."""

import base64
import io
import json
import re
import sys
import types

import numpy as np
import pytest
import torch
from PIL import Image

from latentatlas.analysis import analyze, pca_2d
from latentatlas.errors import ConfigError, DataError, LatentAtlasError
from latentatlas.explorer import ExplorerData, NeighbourIndex, explorer_data, from_analysis, projection, write_explorer
from latentatlas.explorer import data as data_module
from latentatlas.explorer import write as write_module
from latentatlas.explorer.atlas import atlas_layout, atlas_pngs
from latentatlas.explorer.build import AGREEMENT_QUANTITY, CENTRE_QUANTITY, with_derived
from latentatlas.explorer.folder import read_array, read_manifest
from latentatlas.explorer.neighbours import distance_to_class_centre, knn_agreement
from latentatlas.explorer.pack import pack

from .explore_helpers import CLASS_NAMES, brute_knn, labelled


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "sqeuclidean"])
def test_neighbours_equal_brute_force(rng, metric):
    x, _ = labelled(rng, n=300, d=9)
    want_idx, want_dist = brute_knn(x, 7, metric)
    index = NeighbourIndex(x, metric, memory_budget=300 * 4 * 37)  # blocks of ~37 queries
    idx, dist = index.all(7)
    np.testing.assert_array_equal(idx, want_idx)
    np.testing.assert_allclose(dist, want_dist, rtol=1e-5, atol=1e-6)
    one_idx, one_dist = index.query([5, 17], 7)
    np.testing.assert_array_equal(one_idx, want_idx[[5, 17]])
    np.testing.assert_allclose(one_dist, want_dist[[5, 17]], rtol=1e-12, atol=1e-12)


def test_neighbours_refuse_bad_k_and_metric(rng):
    x, _ = labelled(rng, n=20)
    with pytest.raises(ConfigError, match=r"k: 20 is outside 1\.\.19"):
        NeighbourIndex(x).query([0], 20)
    with pytest.raises(ConfigError, match="metric: 'manhattan' is unknown"):
        NeighbourIndex(x, "manhattan")


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "sqeuclidean"])
def test_distance_to_class_centre_and_agreement(rng, metric):
    x, y = labelled(rng, n=200, d=5)
    got = distance_to_class_centre(x, y, metric, chunk=33)
    xd = x.astype(np.float64)
    for i in rng.choice(len(x), 10, replace=False):
        members = xd[y == y[i]]
        if metric == "cosine":
            c = (members / np.linalg.norm(members, axis=1, keepdims=True)).mean(0)
            want = 1 - xd[i] @ c / (np.linalg.norm(xd[i]) * np.linalg.norm(c))
        else:
            want = ((xd[i] - members.mean(0)) ** 2).sum()
            want = want if metric == "sqeuclidean" else np.sqrt(want)
        assert got[i] == pytest.approx(want, rel=1e-5, abs=1e-6)
    idx, _ = brute_knn(x, 5, metric)
    want_agree = [np.mean([y[j] == y[i] for j in idx[i]]) for i in range(len(x))]
    np.testing.assert_allclose(knn_agreement(idx, y), want_agree, rtol=1e-6)


def test_explorer_data_maps_and_derives(rng):
    x, y = labelled(rng, n=150, d=6)
    data = explorer_data(x, y, class_names=CLASS_NAMES, metric="cosine", neighbours_k=4)
    want = pca_2d(torch.nn.functional.normalize(torch.from_numpy(x), dim=1)).coords
    np.testing.assert_allclose(data.coords, want, rtol=1e-5, atol=1e-6)
    assert "PCA of the L2-normalized embeddings" in data.projection
    assert data.class_distances.shape == (4, 4) and len(data.ellipses.ellipses) == 4
    full, nn = with_derived(data)
    np.testing.assert_array_equal(nn.index, brute_knn(x, 4, "cosine")[0])
    assert set(full.quantities) == {CENTRE_QUANTITY, AGREEMENT_QUANTITY}
    raw = explorer_data(x[:, :2], y, metric="euclidean")
    np.testing.assert_array_equal(raw.coords, x[:, :2])
    assert "own plane" in raw.projection


def test_large_n_has_no_static_neighbours_and_says_so(rng, monkeypatch):
    monkeypatch.setattr(data_module, "STATIC_NEIGHBOURS_MAX_N", 50)
    monkeypatch.setattr("latentatlas.explorer.build.STATIC_NEIGHBOURS_MAX_N", 50)
    x, y = labelled(rng, n=80)
    full, nn = with_derived(explorer_data(x, y))
    assert nn is None and AGREEMENT_QUANTITY not in full.quantities
    assert any("--serve" in note for note in full.notes)


def test_from_analysis_keeps_its_numbers(rng):
    x, y = labelled(rng, n=120, d=5)
    result = analyze(x, y, class_names=CLASS_NAMES)
    data = from_analysis(result, neighbours_k=3)
    np.testing.assert_array_equal(data.coords, result.pca.coords.astype(np.float32))
    np.testing.assert_array_equal(data.class_distances, result.distances.matrix)
    assert data.ellipses is result.ellipses and data.class_names == CLASS_NAMES


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (dict(coords=np.zeros((5, 3), np.float32)), r"coords: shape \(5, 3\)"),
        (dict(labels=np.array([0, 1, 2, 3, 9])), r"labels: codes span 0\.\.9, outside 0\.\.3"),
        (dict(metadata={"m": np.zeros(4)}), r"metadata\['m'\]: shape \(4,\)"),
        (dict(thumbnails=np.zeros((5, 4, 4), np.float32)), r"thumbnails: shape \(5, 4, 4\) dtype float32"),
        (dict(embeddings=np.zeros((4, 3), np.float32)), r"embeddings: shape \(4, 3\); give \(5, D\)"),
        (dict(metric="manhattan"), "metric: 'manhattan' is unknown"),
        (dict(neighbours_k=5), r"neighbours_k: 5 is outside 1\.\.4"),
    ],
)
def test_validate_names_the_field(change, match):
    base = dict(coords=np.zeros((5, 2), np.float32), labels=np.array([0, 1, 2, 3, 0]), class_names=CLASS_NAMES)
    base["neighbours_k"] = 2
    with pytest.raises((DataError, ConfigError), match=match):
        ExplorerData(**{**base, **change}).validate()


def test_atlases_hold_any_count_of_thumbnails(rng):
    layout = atlas_layout(70_000, 1, 1)
    assert layout.per_atlas == 65_536 and layout.sheets == 2
    assert layout.locate(65_536 + 257) == (1, 1, 1)
    thumbs = rng.integers(0, 256, size=(150, 6, 5, 3), dtype=np.uint8)
    layout, pngs = atlas_pngs(thumbs, max_side=40)  # 6 tiles a side: 36 per sheet, 5 sheets
    assert (layout.per_side, len(pngs)) == (6, 5)
    for t in (0, 37, 149):
        sheet, x0, y0 = layout.locate(t)
        img = np.asarray(Image.open(io.BytesIO(pngs[sheet])))
        np.testing.assert_array_equal(img[y0 : y0 + 6, x0 : x0 + 5], thumbs[t])


def _chunk_array(bundle, ref):
    raw = base64.b64decode(json.loads(bundle.chunks[ref["chunk"]]))
    return np.frombuffer(raw, dtype={"float32": "<f4", "uint8": "u1", "uint32": "<u4"}[ref["dtype"]])


def test_pack_round_trips_arrays(rng):
    x, y = labelled(rng, n=40, d=3)
    meta = {"split": np.array(["a", "b"] * 20), "weight": rng.random(40)}
    full, nn = with_derived(explorer_data(x, y, class_names=CLASS_NAMES, metadata=meta, neighbours_k=3))
    b = pack(full, nn)
    m = b.manifest
    np.testing.assert_array_equal(_chunk_array(b, m["coords"]).reshape(-1, 2), full.coords)
    np.testing.assert_array_equal(_chunk_array(b, m["labels"]), y)
    cat = m["metadata"][0]
    assert cat["kind"] == "categorical" and json.loads(b.chunks[cat["categories"]["chunk"]]) == ["a", "b"]
    np.testing.assert_array_equal(_chunk_array(b, m["neighbours"]["index"]).reshape(-1, 3), nn.index)
    assert m["class_names"] == CLASS_NAMES and len(m["ellipses"]["items"]) == 4


def test_write_folder_refuses_a_full_folder_and_reads_back(rng, tmp_path):
    x, y = labelled(rng, n=60, d=4)
    data = explorer_data(x, y, class_names=CLASS_NAMES, neighbours_k=3)
    page = write_explorer(data, tmp_path / "ex", with_embeddings=True)
    assert page == tmp_path / "ex" / "index.html"
    names = {p.name for p in (tmp_path / "ex").iterdir()}
    assert names == {"index.html", "explorer.css", "js", "data", "embeddings.npy"}
    assert read_manifest(tmp_path / "ex")["n"] == 60
    np.testing.assert_array_equal(read_array(tmp_path / "ex", read_manifest(tmp_path / "ex")["labels"]), y)
    before = page.read_text()
    with pytest.raises(LatentAtlasError, match="not empty; choose another --out or pass --force"):
        write_explorer(data, tmp_path / "ex")
    assert page.read_text() == before
    html = page.read_text()
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "the page must load nothing from the network"


def test_single_file_refuses_above_the_limit_with_its_size(rng, tmp_path, monkeypatch):
    x, y = labelled(rng, n=60, d=4)
    data = explorer_data(x, y, neighbours_k=3)
    page = write_explorer(data, tmp_path / "one", single_file=True)
    assert [p.name for p in (tmp_path / "one").iterdir()] == ["explorer.html"]
    size = page.stat().st_size
    monkeypatch.setattr(write_module, "SINGLE_FILE_MAX_BYTES", size - 1)
    with pytest.raises(LatentAtlasError, match=rf"would be {size / 1e6:.1f} MB, above the .* MB limit"):
        write_explorer(data, tmp_path / "two", single_file=True)
    assert not (tmp_path / "two").exists()


class _FakeUMAP:
    """Stands in for umap.UMAP (whose first fit compiles for a minute): a fixed linear map, recording its calls."""

    calls: list = []

    def __init__(self, **kwargs):
        self.kwargs = kwargs

    def fit_transform(self, x):
        _FakeUMAP.calls.append(("fit", len(x)))
        return x[:, :2] * 2.0

    def transform(self, x):
        _FakeUMAP.calls.append(("transform", len(x)))
        return x[:, :2] * 2.0


def test_umap_is_fitted_on_a_sample_and_the_page_says_so(rng, monkeypatch):
    monkeypatch.setitem(sys.modules, "umap", types.SimpleNamespace(UMAP=_FakeUMAP))
    monkeypatch.setattr(projection, "UMAP_FIT_MAX", 40)
    _FakeUMAP.calls = []
    x, y = labelled(rng, n=100, d=5)
    data = explorer_data(x, y, metric="euclidean", projection="umap")
    assert _FakeUMAP.calls == [("fit", 40), ("transform", 60)]
    np.testing.assert_allclose(data.coords, x[:, :2] * 2.0, rtol=1e-6)
    assert data.notes == ["UMAP was fitted on a random sample of 40 of the 100 points; the others are placed by it"]
    monkeypatch.setitem(sys.modules, "umap", None)  # not installed
    with pytest.raises(ConfigError, match=r"umap-learn is not installed; pip install .latentatlas\[umap\]. \(the umap"):
        explorer_data(x, y, projection="umap")
