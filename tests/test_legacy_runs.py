"""Run folders written before checkpoints carried checksums (tests/fixtures/legacy/) still load, embed and analyze,
each with one note that their checkpoint is unverified."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from latentatlas.cli.main import main

LEGACY = Path(__file__).resolve().parent / "fixtures" / "legacy"


def test_legacy_runs_embed_and_analyze(tmp_path, monkeypatch, capsys):
    shutil.copytree(LEGACY, tmp_path / "legacy")
    monkeypatch.chdir(tmp_path / "legacy")  # the metric run's data.images.path is relative
    monkeypatch.setenv("LATENTATLAS_CACHE", str(tmp_path / "cache"))
    assert main(["embed", "runs/metric-tiny", "--out", str(tmp_path / "e.npz"), "--no-progress"]) == 0
    kept = np.load("runs/metric-tiny/embeddings/test.npz")
    np.testing.assert_allclose(np.load(tmp_path / "e.npz")["embeddings"], kept["embeddings"], atol=1e-5)
    assert main(["analyze", "runs/shapes-tiny", "--out", str(tmp_path / "a")]) == 0
    assert (tmp_path / "a" / "report.html").is_file()
