"""A shapes run's summary carries its disentanglement scores, traversals and the factor x latent heatmap; the
numbers are the ones the scores give the run's best model again (nothing is lost in the wiring)."""

from __future__ import annotations

import json

import pytest

from latentatlas.config import config_from_dict
from latentatlas.errors import ConfigError
from latentatlas.tasks.inference import load_run_model
from latentatlas.tasks.pipeline import train
from latentatlas.tasks.shapes_scores import disentanglement_numbers

TINY = [
    "data.n_train=64",
    "data.n_val=16",
    "model.widths=[4, 8, 8]",
    "train.batch_size=16",
    "train.epochs=2",
    "train.progress=false",
    "analysis.grid_n=3",
    "analysis.n_samples=8",
    "analysis.n_morphs=1",
    "analysis.morph_steps=3",
    "analysis.score_figures=200",
    "analysis.factor_vae_points=20",
    "analysis.beta_vae_points=20",
]
SCORES = ["mig", "dci_disentanglement", "dci_completeness", "dci_informativeness", "sap", "factor_vae_score",
          "beta_vae_score", "traversal_validity"]  # fmt: skip


def test_a_shapes_run_reports_its_scores_as_its_best_model_gives_them(tmp_path):
    run = train(config_from_dict({"name": "s"}, TINY), run_dir=tmp_path / "run").run_dir
    summary = json.loads((run / "summary.json").read_text())
    for key in SCORES:
        assert summary[key] is None or 0.0 <= summary[key] <= 1.0, key
    assert summary["disentanglement_factors"] == ["orientation", "height", "radius"]
    assert len(summary["factor_latent_normalized_mi"]) == 3 and len(summary["factor_latent_normalized_mi"][0]) == 2
    model, config = load_run_model(run)
    again, _ = disentanglement_numbers(model, config)
    for key in SCORES[:-1]:
        assert again[key] == pytest.approx(summary[key], abs=1e-9), key
    page = (run / "report.html").read_text()
    for name in ("latent_traversals.png", "factor_latent_information.png"):
        assert (run / "figures" / name).is_file()
    assert page.count("data:image/png;base64,") >= 2


def test_disentanglement_settings_are_checked():
    with pytest.raises(ConfigError, match="analysis.score_figures: 10 is too few"):
        config_from_dict({}, ["analysis.score_figures=10"])
    with pytest.raises(ConfigError, match="analysis.factor_vae_points: 3"):
        config_from_dict({}, ["analysis.factor_vae_points=3"])
