"""`latentatlas analyze EMB --factors FILE` and `latentatlas.analyze(..., factors=...)`: MIG, DCI and SAP against
known factors in analysis.json, the report and the heatmap; `analyze RUN_DIR` recomputes a shapes run's scores."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

import latentatlas
from latentatlas.cli.main import main
from latentatlas.config import config_from_dict
from latentatlas.tasks.inference import load_run_model
from latentatlas.tasks.pipeline import train
from latentatlas.tasks.shapes_scores import disentanglement_numbers


def _reference_mig(codes: np.ndarray, factors: np.ndarray, bins: int = 20) -> float:
    """MIG written out independently: np.histogram bin edges, scikit-learn's mutual information."""
    binned = []
    for d in range(codes.shape[1]):
        edges = np.histogram_bin_edges(codes[:, d], bins)
        binned.append(np.clip(np.digitize(codes[:, d], edges[1:-1]), 0, bins - 1))
    gaps = []
    for k in range(factors.shape[1]):
        mi = sorted((mutual_info_score(b, factors[:, k]) for b in binned), reverse=True)
        gaps.append((mi[0] - (mi[1] if len(mi) > 1 else 0.0)) / mutual_info_score(factors[:, k], factors[:, k]))
    return float(np.mean(gaps))


def _disentangled(rng, n=400, k=3):
    factors = np.stack([rng.integers(0, c, n) for c in (3, 4, 5)[:k]], axis=1)
    codes = factors + 0.05 * rng.normal(size=factors.shape)
    return codes.astype(np.float32), factors


def test_cli_factors_file_gives_mig_near_one_equal_to_a_reference(tmp_path, rng, capsys):
    codes, factors = _disentangled(rng)
    np.savez(tmp_path / "e.npz", embeddings=codes, labels=factors[:, 0])
    np.save(tmp_path / "f.npy", factors)
    out = tmp_path / "out"
    assert main(["analyze", str(tmp_path / "e.npz"), "--factors", str(tmp_path / "f.npy"), "--out", str(out)]) == 0
    scores = json.loads((out / "analysis.json").read_text())["disentanglement"]
    assert scores["mig"] > 0.95
    assert scores["mig"] == pytest.approx(_reference_mig(codes.astype(np.float64), factors), abs=1e-9)
    assert scores["disentanglement_factors"] == ["factor_0", "factor_1", "factor_2"]
    assert scores["factor_vae_score"] is None and scores["beta_vae_score"] is None  # no generator here
    assert (out / "figures" / "factor_latent_information.png").is_file()
    page = (out / "report.html").read_text()
    assert "Disentanglement against the known factors" in page and "factor_latent_information.png" in page
    assert "disentanglement (factor_0, factor_1, factor_2): mig" in capsys.readouterr().out

    # a random rotation of the same code mixes the factors: MIG drops
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    np.savez(tmp_path / "r.npz", embeddings=(codes @ q).astype(np.float32), labels=factors[:, 0])
    out2 = tmp_path / "rot"
    assert main(["analyze", str(tmp_path / "r.npz"), "--factors", str(tmp_path / "f.npy"), "--out", str(out2)]) == 0
    assert json.loads((out2 / "analysis.json").read_text())["disentanglement"]["mig"] < scores["mig"] - 0.3


def test_factors_from_a_csv_header_the_npz_itself_and_named_columns_agree(tmp_path, rng):
    codes, factors = _disentangled(rng, k=2)
    np.savez(tmp_path / "e.npz", embeddings=codes, labels=factors[:, 0], factors=factors,
             factor_names=np.array(["shape", "size"]), shape=factors[:, 0], size=factors[:, 1])  # fmt: skip
    words = np.array(["cyl", "box", "ball"])[factors[:, 0]]  # a text factor becomes classes
    rows = "\n".join(f"{w},{s}" for w, s in zip(words, factors[:, 1]))
    (tmp_path / "f.csv").write_text("shape,size\n" + rows + "\n")
    # the same factors as columns of a CSV of embeddings: they are set aside, not embedding dimensions
    table = np.column_stack([codes, factors[:, 0], factors[:, 0], factors[:, 1]])
    lines = [",".join(f"{v:.9g}" for v in row) for row in table]
    (tmp_path / "e.csv").write_text("z1,z2,label,shape,size\n" + "\n".join(lines) + "\n")
    runs = [("e.npz", str(tmp_path / "f.csv")), ("e.npz", str(tmp_path / "e.npz")), ("e.npz", "shape,size"),
            ("e.csv", "shape,size")]  # fmt: skip
    results = []
    for i, (emb, spec) in enumerate(runs):
        out = tmp_path / f"o{i}"
        extra = ["--label-column", "label"] if emb.endswith(".csv") else []
        assert main(["analyze", str(tmp_path / emb), *extra, "--factors", spec, "--out", str(out)]) == 0
        results.append(json.loads((out / "analysis.json").read_text())["disentanglement"])
    assert json.loads((tmp_path / "o3" / "analysis.json").read_text())["dim"] == 2
    for r in results:
        assert r["disentanglement_factors"] == ["shape", "size"]
        assert r["mig"] == pytest.approx(results[0]["mig"], abs=1e-9)
        assert r["sap"] == pytest.approx(results[0]["sap"], abs=1e-9)


def test_python_api_takes_factors_and_wrong_length_is_refused(tmp_path, rng):
    codes, factors = _disentangled(rng)
    a = latentatlas.analyze(codes, factors[:, 0], factors={"a": factors[:, 0], "b": factors[:, 1], "c": factors[:, 2]})
    assert a.disentanglement["mig"] > 0.95 and a.to_dict()["disentanglement"]["disentanglement_factors"] == list("abc")
    assert "disentanglement (a, b, c)" in a.summary_text()
    assert "Disentanglement against the known factors" in a._repr_html_()
    a.save(tmp_path / "api")
    assert (tmp_path / "api" / "figures" / "factor_latent_information.png").is_file()
    assert latentatlas.analyze(codes, factors[:, 0]).disentanglement is None
    with pytest.raises(latentatlas.errors.DataError, match="factors have 399 rows for 400 codes"):
        latentatlas.analyze(codes, factors[:, 0], factors=factors[:-1])


TINY = ["data.n_train=32", "data.n_val=16", "model.widths=[4, 8, 8]", "train.batch_size=16", "train.epochs=1",
        "train.progress=false", "analysis.grid_n=2", "analysis.n_samples=4", "analysis.n_morphs=1",
        "analysis.morph_steps=2", "analysis.score_figures=200", "analysis.factor_vae_points=10",
        "analysis.beta_vae_points=10", "analysis.disentanglement=false"]  # fmt: skip


def test_analyze_run_dir_recomputes_a_shapes_runs_scores(tmp_path):
    # the run itself skips the scores (faster): analyze computes them from its checkpoint and generator anyway
    run = train(config_from_dict({"name": "s"}, TINY), run_dir=tmp_path / "run").run_dir
    out = tmp_path / "out"
    assert main(["analyze", str(run), "--out", str(out)]) == 0
    scores = json.loads((out / "analysis.json").read_text())["disentanglement"]
    model, config = load_run_model(run)
    config.analysis.factor_vae_points = 0  # the same fresh figures, without the (slower) sampler-based scores
    again, _ = disentanglement_numbers(model, config)
    for key in ("mig", "dci_disentanglement", "dci_informativeness", "sap"):
        assert scores[key] == pytest.approx(again[key], abs=1e-9), key
    for key in ("factor_vae_score", "beta_vae_score"):  # the generator's batches: only a shapes run has them
        assert 0.0 <= scores[key] <= 1.0 and again[key] is None, key
    assert scores["disentanglement_factors"] == ["orientation", "height", "radius"]
    assert (out / "figures" / "factor_latent_information.png").is_file()
    assert "Disentanglement against the known factors" in (out / "report.html").read_text()
    skipped = tmp_path / "skipped"
    assert main(["analyze", str(run), "--no-scores", "--out", str(skipped)]) == 0
    assert "disentanglement" not in json.loads((skipped / "analysis.json").read_text())
