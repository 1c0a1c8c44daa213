"""Shared tiny fixtures of the bad-input corpus: one finished shapes run, one finished metric run and their
images, trained once per session (a few seconds); every case gets a fresh, empty workspace as its current folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.bad_inputs.harness import Env

LEGACY = Path(__file__).resolve().parent.parent / "fixtures" / "legacy"

SHAPES = ["name=shapes-tiny", "data.n_train=16", "data.n_val=8", "model.widths=[4, 8, 8]", "train.batch_size=8",
          "train.epochs=1", "train.progress=false", "analysis.grid_n=2", "analysis.n_samples=4",
          "analysis.n_morphs=1", "analysis.morph_steps=2"]  # fmt: skip
METRIC = ["name=metric-tiny", "data.kind=images", "data.images.split=[0.5, 0.25, 0.25]",
          "data.images.val_triplets=12", "model.kind=cnn", "model.embedding_dim=8", "model.cnn_widths=[8, 16]",
          "model.cnn_stem=8", "train.classes_per_batch=4", "train.images_per_class=4", "train.epochs=1",
          "train.progress=false"]  # fmt: skip


@pytest.fixture(scope="session")
def shared(tmp_path_factory):
    """(shapes run, metric run, images zip), written once; cases must leave them as they are."""
    from latentatlas.config import config_from_dict
    from latentatlas.tasks.pipeline import train

    root = tmp_path_factory.mktemp("corpus-shared")
    data = root / "data"
    data.mkdir()
    images = data / "images.zip"
    shutil.copy(LEGACY / "images.zip", images)
    old = os.environ.get("LATENTATLAS_CACHE")
    os.environ["LATENTATLAS_CACHE"] = str(root / "cache")
    try:
        shapes = train(config_from_dict({}, SHAPES), run_dir=root / "shapes-run").run_dir
        metric = train(config_from_dict({}, [*METRIC, f"data.images.path={images}"]), run_dir=root / "metric-run")
    finally:
        if old is None:
            os.environ.pop("LATENTATLAS_CACHE", None)
        else:
            os.environ["LATENTATLAS_CACHE"] = old
    return shapes, metric.run_dir, images


@pytest.fixture
def env(shared, tmp_path, monkeypatch):
    w = tmp_path / "w"
    w.mkdir()
    monkeypatch.chdir(w)
    monkeypatch.setenv("LATENTATLAS_CACHE", str(w / ".cache"))
    return Env(w, *shared, monkeypatch)
