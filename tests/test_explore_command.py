"""`latentatlas explore` on every kind of source: embeddings files with labels, metadata columns and pictures,
projector folders, `analyze --explore`, and run folders (a shapes VAE with its live decoder, a metric-learning CNN
with its test images), linked both ways with their reports; `--serve --port 0` prints the URL and stops on Ctrl-C."""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

import latentatlas
from latentatlas.cli.main import main
from latentatlas.explorer.folder import read_array, read_manifest
from latentatlas.latentmaps.codec import decode_latents, encode_dataset
from latentatlas.tasks.explore_run import run_points
from latentatlas.tasks.inference import load_run_model

from .explore_runs import colour_folder, labelled_npz, metric_run, shapes_run

SRC = Path(__file__).resolve().parents[1] / "src"


def _explore(capsys, *argv) -> Path:
    code = main(["explore", *map(str, argv)])
    out = capsys.readouterr().out
    assert code == 0, out
    return Path(out.strip().splitlines()[-1].removeprefix("explorer: "))


def _names(manifest: dict, key: str) -> set[str]:
    return {c["name"] for c in manifest[key]}


def test_npz_brings_labels_metadata_and_pictures(tmp_path, capsys):
    labelled_npz(tmp_path / "emb.npz", n=90, images=True)
    page = _explore(capsys, tmp_path / "emb.npz", "--out", tmp_path / "ex", "--color-by", "brightness")
    assert page == tmp_path / "ex" / "index.html"
    m = read_manifest(tmp_path / "ex")
    assert m["n"] == 90 and m["class_names"] == ["ant", "bee", "cat"] and m["color_by"] == "brightness"
    assert _names(m, "metadata") == {"brightness", "split"}
    kinds = {c["name"]: c["kind"] for c in m["metadata"]}
    assert kinds == {"brightness": "numeric", "split": "categorical"}
    assert m["thumbnails"]["n"] == 90 and m["thumbnails"]["channels"] == 3 and m["links"] == []


def test_csv_with_labels_file_metadata_file_and_image_folder(tmp_path, capsys):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 3))
    (tmp_path / "emb.csv").write_text("\n".join(",".join(f"{v:.5f}" for v in row) for row in x) + "\n")
    (tmp_path / "labels.txt").write_text("\n".join(f"class{i // 10}" for i in range(40)) + "\n")
    (tmp_path / "meta.tsv").write_text("file\tscore\n" + "".join(f"f{i}.png\t{i / 4}\n" for i in range(40)))
    colour_folder(tmp_path / "pics", per_class=10, side=80)
    _explore(capsys, tmp_path / "emb.csv", "--out", tmp_path / "ex", "--labels", tmp_path / "labels.txt",
             "--metadata", tmp_path / "meta.tsv", "--images", tmp_path / "pics", "--thumbnail-size", "20")  # fmt: skip
    m = read_manifest(tmp_path / "ex")
    assert m["class_names"] == ["class0", "class1", "class2", "class3"]
    score = next(c for c in m["metadata"] if c["name"] == "score")
    np.testing.assert_allclose(read_array(tmp_path / "ex", score["values"]), np.arange(40) / 4)
    assert (m["thumbnails"]["tile_h"], m["thumbnails"]["tile_w"]) == (20, 20)  # 80 px pictures shrunk to 20


def test_projector_folder_and_safetensors_metadata(tmp_path, capsys):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(30, 4))
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "tensors.tsv").write_text("".join("\t".join(map(str, r)) + "\n" for r in x))
    rows = "".join(f"{i % 3}\t{'abc'[i % 3]}\t{'red' if i < 15 else 'blue'}\t{i}\n" for i in range(30))
    (proj / "metadata.tsv").write_text("label\tclass_name\tcolour\tweight\n" + rows)
    _explore(capsys, proj, "--out", tmp_path / "ex1", "--metric", "euclidean")
    m = read_manifest(tmp_path / "ex1")
    assert m["class_names"] == ["a", "b", "c"] and _names(m, "metadata") == {"colour", "weight"}
    save_file({"embeddings": x.astype(np.float32), "labels": np.arange(30) % 2, "age": np.arange(30.0)},
              str(tmp_path / "emb.safetensors"))  # fmt: skip
    _explore(capsys, tmp_path / "emb.safetensors", "--out", tmp_path / "ex2", "--single-file")
    assert (tmp_path / "ex2" / "explorer.html").is_file() and not (tmp_path / "ex2" / "data").exists()
    assert _names(read_manifest(tmp_path / "ex2"), "metadata") == {"age"}


def test_analyze_explore_writes_one_beside_the_report_and_links_both_ways(tmp_path, capsys):
    labelled_npz(tmp_path / "emb.npz")
    assert main(["analyze", str(tmp_path / "emb.npz"), "--out", str(tmp_path / "a"), "--explore"]) == 0
    assert f"explorer: {tmp_path / 'a' / 'explorer' / 'index.html'}" in capsys.readouterr().out
    report = (tmp_path / "a" / "report.html").read_text()
    assert report.count('href="explorer/index.html"') == 1
    m = read_manifest(tmp_path / "a" / "explorer")
    assert m["links"] == [{"text": "Back to the report", "href": "../report.html"}] and m["ellipses"]


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return shapes_run(tmp_path_factory.mktemp("shapes"), latent_dim=3)


def test_shapes_run_latents_factors_figures_and_links(shapes, capsys):
    page = _explore(capsys, shapes, "--grid", "8", "--slices", "3", "--color-by", "height")
    assert page == shapes / "explorer" / "index.html"
    m = read_manifest(shapes / "explorer")
    assert m["n"] == 64 and m["color_by"] == "height" and {"height", "radius", "type"} <= _names(m, "metadata")
    assert "reconstruction valid" in _names(m, "quantities")
    assert m["latent"]["latent_dim"] == 3 and len(m["latent"]["planes"][0]["slice_values"]) == 3
    assert m["thumbnails"]["n"] == 64 and m["thumbnails"]["tile_h"] == 64
    assert m["links"] == [{"text": "Back to the report", "href": "../report.html"}]
    mu = read_array(shapes / "explorer", m["latent"]["latents"])
    model, config = load_run_model(shapes)
    np.testing.assert_allclose(mu, run_points(shapes).embeddings, rtol=1e-5, atol=1e-6)
    figures = run_points(shapes).images
    np.testing.assert_allclose(mu, encode_dataset(model, figures)[0], rtol=1e-4, atol=1e-5)
    # again: refused without --force; with it, the report still holds exactly one link
    assert main(["explore", str(shapes)]) == 2
    assert "not empty" in capsys.readouterr().err
    _explore(capsys, shapes, "--grid", "4", "--force")
    assert (shapes / "report.html").read_text().count('href="explorer/index.html"') == 1


def test_shapes_run_served_decode_is_the_models(shapes):
    server = latentatlas.explore(shapes, grid_n=4, n_slices=1).serve()
    try:
        z = [[0.3, -0.2, 0.1], [1.0, 0.5, -0.4]]
        conn = http.client.HTTPConnection(*server.address, timeout=60)
        conn.request("POST", "/api/decode", body=json.dumps({"z": z}))
        r = json.loads(conn.getresponse().read())
        conn.close()
    finally:
        server.close()
    probs = np.frombuffer(base64.b64decode(r["probs"]), np.uint8).reshape(2, 64, 64)
    want = decode_latents(load_run_model(shapes)[0], np.array(z, np.float32))
    assert np.abs(probs / 255.0 - want).max() <= 0.5 / 255 + 1e-6


def test_metric_run_test_embeddings_with_their_images(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LATENTATLAS_CACHE", str(tmp_path / "cache"))
    run = metric_run(tmp_path)
    points = run_points(run)
    _explore(capsys, run, "--out", run / "explorer")
    m = read_manifest(run / "explorer")
    test = np.load(run / "embeddings" / "test.npz")
    assert m["n"] == len(test["labels"]) == len(points.images) and m["thumbnails"]["channels"] == 3
    np.testing.assert_allclose(points.embeddings, test["embeddings"], rtol=1e-4, atol=1e-5)
    assert m["class_names"] == ["class0", "class1", "class2", "class3"]
    assert 'href="explorer/index.html"' in (run / "report.html").read_text()


def test_serve_port_0_prints_the_url_and_stops_on_ctrl_c(tmp_path):
    labelled_npz(tmp_path / "emb.npz")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    cmd = [sys.executable, "-m", "latentatlas", "explore", str(tmp_path / "emb.npz"), "--serve", "--port", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        line = proc.stdout.readline()
        assert line.startswith("latentatlas explorer: http://127.0.0.1:"), line
        host, port = line.split()[2].removeprefix("http://").rstrip("/").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.request("GET", "/api/info")
        info = json.loads(conn.getresponse().read())
        conn.close()
        assert info["n"] == 90 and info["neighbours"] is True
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["emb.npz"]  # the temporary explorer is gone
