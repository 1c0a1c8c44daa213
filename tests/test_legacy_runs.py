"""Run folders written by earlier versions (tests/fixtures/legacy, made before the one-directional restructuring)
still load, resume, `embed` and `analyze`, and give the numbers their own files recorded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from latentatlas.analysis.io import load_embeddings
from latentatlas.cli.main import main
from latentatlas.jsonio import read_jsonl
from latentatlas.tasks.inference import embed_run, load_run_model
from latentatlas.train.checkpoint import load_checkpoint

LEGACY = Path(__file__).parent / "fixtures" / "legacy"


@pytest.fixture
def legacy(tmp_path, monkeypatch):
    """A copy of the legacy folder as the working directory (the metric run's data path is relative)."""
    root = tmp_path / "legacy"
    shutil.copytree(LEGACY, root)
    monkeypatch.chdir(root)
    monkeypatch.setenv("LATENTATLAS_CACHE", str(tmp_path / "cache"))
    return root


@pytest.mark.parametrize("name", ["shapes-tiny", "metric-tiny"])
def test_a_legacy_run_resumes_to_more_epochs(legacy, name, capsys):
    run = Path("runs") / name
    before = read_jsonl(run / "metrics.jsonl")
    assert main(["train", "--resume", str(run), "train.epochs=3"]) == 0
    after = read_jsonl(run / "metrics.jsonl")
    assert [r["epoch"] for r in after] == [1, 2, 3]
    assert after[:2] == before  # the rows it had are kept as they were
    assert load_checkpoint(run / "checkpoints" / "last.safetensors").epoch == 2
    summary = json.loads((run / "summary.json").read_text())
    assert summary["epochs_trained"] == 3
    assert (run / "report.html").is_file()


def test_a_legacy_metric_run_embeds_its_test_split_as_it_recorded(legacy):
    data = embed_run("runs/metric-tiny", progress=False)
    recorded = np.load("runs/metric-tiny/embeddings/test.npz")
    np.testing.assert_allclose(data.embeddings, recorded["embeddings"], atol=1e-5)
    assert data.class_names == [str(n) for n in recorded["class_names"]]
    assert main(["embed", "runs/metric-tiny", "--data", "images.zip", "--out", "all.npz"]) == 0
    assert len(load_embeddings("all.npz").embeddings) == 64


def test_a_legacy_shapes_run_loads_and_analyzes(legacy, capsys):
    model, config = load_run_model("runs/shapes-tiny")
    assert config.model.kind == "vae" and model.latent_dim == 2
    with torch.no_grad():
        assert model.decode(torch.zeros(1, 2)).shape == (1, 1, 64, 64)
    # --no-scores: the scores' path is test_analyze_factors' (a legacy config takes the default, slower counts)
    assert main(["analyze", "runs/shapes-tiny", "--out", "maps", "--no-scores"]) == 0
    analysis = json.loads(Path("maps/analysis.json").read_text())
    assert analysis["n"] == config.data.n_val and analysis["dim"] == 2 and "disentanglement" not in analysis
    assert config.analysis.disentanglement and config.analysis.score_figures == 2000  # defaults fill the old file


def test_a_legacy_metric_run_analyzes_to_its_recorded_numbers(legacy, capsys):
    assert main(["analyze", "runs/metric-tiny", "--out", "geometry"]) == 0
    analysis = json.loads(Path("geometry/analysis.json").read_text())
    summary = json.loads(Path("runs/metric-tiny/summary.json").read_text())
    # summary.json's test numbers were computed by the old code from the same best checkpoint and test split
    assert analysis["retrieval"]["precision_at_1"] == pytest.approx(summary["test_precision_at_1"], abs=1e-6)
    assert analysis["distances"]["margin"] == pytest.approx(summary["test_margin"], abs=1e-5)
