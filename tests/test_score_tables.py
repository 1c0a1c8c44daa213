"""`compare` and `sweep` tables show the disentanglement scores of shapes runs (values as in summary.json, mean
and std as numpy gives them), and leave out the cells of factor x latent matrices."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from latentatlas.cli.main import main
from latentatlas.latentmaps.disentanglement import scores_summary
from latentatlas.report.runs import load_run, summary_table
from latentatlas.report.sweep_report import sweep_table
from latentatlas.sweep import plan_sweep, run_sweep, summarize_sweep
from latentatlas.sweep import run as sweep_mod

SCORES = ("mig", "dci_disentanglement", "dci_completeness", "dci_informativeness", "sap", "factor_vae_score",
          "beta_vae_score")  # fmt: skip


def _scores(rng) -> dict:
    factors = np.stack([rng.integers(0, 3, 120), rng.integers(0, 4, 120)], axis=1)
    codes = factors @ rng.normal(size=(2, 3)) + 0.3 * rng.normal(size=(120, 3))
    summary = scores_summary(codes, factors, names=["shape", "size"])
    summary["factor_vae_score"], summary["beta_vae_score"] = float(rng.random()), float(rng.random())
    return {"grid_validity": float(rng.random()), **summary}


def _run(root, name, rng):
    run = root / name
    run.mkdir(parents=True)
    (run / "summary.json").write_text(json.dumps(_scores(rng)))
    (run / "config.yaml").write_text(yaml.safe_dump({"model": {"kind": "vae", "latent_dim": 3}, "seed": 0}))
    return run


def test_compare_table_shows_the_scores_but_not_matrix_cells(tmp_path, rng, capsys):
    runs = [_run(tmp_path, f"r{i}", rng) for i in range(2)]
    _, rows = summary_table([load_run(r) for r in runs])
    table = {row[0]: row[1:] for row in rows}
    for j, run in enumerate(runs):
        summary = json.loads((run / "summary.json").read_text())
        for key in SCORES:
            assert table[key][j] == summary[key], key
        assert table["mig_per_factor[1]"][j] == summary["mig_per_factor"][1]
    assert not [k for k in table if k.startswith("factor_latent_")]
    assert main(["compare", *map(str, runs), "--out", str(tmp_path / "c")]) == 0
    printed = capsys.readouterr().out
    assert all(f"\n{key} " in printed for key in SCORES)
    assert "factor_latent_normalized_mi" not in printed


class ScoresTrain:
    """Stands in for `train`: a summary.json with disentanglement scores of random codes."""

    def __init__(self, rng):
        self.rng, self.values = rng, {}

    def __call__(self, config, runs_root="runs", run_dir=None, resume=None, progress=None):
        run_dir.mkdir(parents=True, exist_ok=True)
        summary = _scores(self.rng)
        self.values[run_dir.name] = summary
        (run_dir / "summary.json").write_text(json.dumps(summary))


def test_sweep_table_shows_mean_and_std_of_the_scores(tmp_path, rng, monkeypatch):
    fake = ScoresTrain(rng)
    monkeypatch.setattr(sweep_mod, "train", fake)
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"name": "c", "seed": 0, "model": {"kind": "vae"}}))
    plan = plan_sweep(config, {"loss.beta": [0.5, 2]}, seeds=3)
    run_sweep(plan, tmp_path / "sw")
    summary = summarize_sweep(tmp_path / "sw")
    assert set(SCORES) <= set(summary["metrics"])
    assert not [m for m in summary["metrics"] if m.startswith("factor_latent_")]
    for group in summary["groups"]:
        members = [fake.values[n] for n in group["runs"]]
        for key in SCORES:
            values = np.array([m[key] for m in members])
            assert group["mean"][key] == pytest.approx(values.mean(), rel=1e-12), key
            assert group["std"][key] == pytest.approx(values.std(ddof=1), rel=1e-12), key
    _, rows = sweep_table(summary)
    assert set(SCORES) <= {row[0] for row in rows}
