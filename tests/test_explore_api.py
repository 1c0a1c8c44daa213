"""`latentatlas.explore(...)` in Python: the function (also after importing the explorer package), an `Explorer`
that shows itself inline in Jupyter, saves and serves, from arrays, an `analyze` result, `ExplorerData` or a path."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import latentatlas
from latentatlas.errors import DataError
from latentatlas.explorer import explorer_data, notebook, write
from latentatlas.explorer.folder import read_manifest

from .explore_helpers import CLASS_NAMES, labelled
from .explore_runs import labelled_npz

SRC = Path(__file__).resolve().parents[1] / "src"


def test_explore_is_the_function_even_after_importing_the_explorer_package():
    code = (
        "import latentatlas.explorer.data, latentatlas.explorer, latentatlas\n"
        "import latentatlas.api\n"
        "assert latentatlas.explore is latentatlas.api.explore, latentatlas.explore\n"
        "assert callable(latentatlas.explore) and latentatlas.Explorer is latentatlas.api.Explorer\n"
        "print('ok')"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
    import latentatlas.explorer.data  # noqa: F401  (and in this process too)

    assert latentatlas.explore.__module__ == "latentatlas.api"


def test_arrays_with_pictures_in_any_layout_inline_and_save(rng, tmp_path):
    x, y = labelled(rng, n=80, d=6)
    pictures = torch.rand(80, 3, 40, 40)  # (N, C, H, W) floats: shrunk to 24 px thumbnails
    ex = latentatlas.explore(x, y, class_names=CLASS_NAMES, images=pictures, thumbnail_size=24,
                             metadata={"w": rng.random(80)}, color_by="w")  # fmt: skip
    assert ex.data.thumbnails.shape == (80, 24, 24, 3) and ex.data.thumbnails.dtype == np.uint8
    html = ex._repr_html_()
    assert html.startswith("<iframe srcdoc=") and "LATENTATLAS.manifest" in html
    page = ex.save(tmp_path / "ex")
    assert page == tmp_path / "ex" / "index.html" and read_manifest(tmp_path / "ex")["color_by"] == "w"
    assert repr(ex) == "<latentatlas Explorer: 80 points, 'latentatlas explorer'>"


def test_too_big_for_a_notebook_says_so_instead_of_a_traceback(rng, monkeypatch):
    x, y = labelled(rng, n=40, d=4)
    monkeypatch.setattr(write, "SINGLE_FILE_MAX_BYTES", 1000)
    monkeypatch.setattr(notebook, "SINGLE_FILE_MAX_BYTES", 1000)
    html = latentatlas.explore(x, y)._repr_html_()
    assert html.startswith("<p>inline explorer: ") and "use write_explorer(data, DIR)" in html


def test_from_an_analysis_explorer_data_and_a_file(rng, tmp_path):
    x, y = labelled(rng, n=60, d=5)
    a = latentatlas.analyze(x, y, class_names=CLASS_NAMES)
    ex = latentatlas.explore(a, color_by="class")
    np.testing.assert_array_equal(ex.data.coords, a.pca.coords.astype(np.float32))
    assert ex.data.ellipses is a.ellipses
    data = explorer_data(x, y)
    assert latentatlas.explore(data).data is data
    labelled_npz(tmp_path / "emb.npz")
    ex = latentatlas.explore(tmp_path / "emb.npz", metric="euclidean")
    assert ex.data.n == 90 and set(ex.data.metadata) == {"brightness", "split"} and ex.data.metric == "euclidean"
    with pytest.raises(DataError, match="the points have no labels; pass --labels FILE"):
        latentatlas.explore(x, color_by="class")


def test_serve_in_the_background(rng):
    x, y = labelled(rng, n=50, d=4)
    server = latentatlas.explore(x, y).serve()
    try:
        conn = http.client.HTTPConnection(*server.address, timeout=30)
        conn.request("GET", "/api/info")
        info = json.loads(conn.getresponse().read())
        conn.close()
    finally:
        server.close()
    assert server.url.startswith("http://127.0.0.1:") and info["n"] == 50 and info["neighbours"]
