"""The validity oracle: IoU against a brute-force reference, calibration, recovered factors, input handling."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from latentatlas.cli.main import main
from latentatlas.data.oracle import ValidityOracle, calibrate, dilate
from latentatlas.data.shapes import FAMILIES, ShapesConfig, generate, render
from latentatlas.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def oracle() -> ValidityOracle:
    return ValidityOracle().fit()


def test_dilate_matches_a_pixel_loop():
    img = np.random.default_rng(0).random((2, 12, 10)) < 0.08
    out = dilate(img, 1)
    for n in range(2):
        for i in range(12):
            for j in range(10):
                assert out[n, i, j] == img[n, max(i - 1, 0) : i + 2, max(j - 1, 0) : j + 2].any()
    assert np.array_equal(dilate(img, 2), dilate(dilate(img, 1), 1))


def test_best_iou_matches_brute_force_sets():
    small = ValidityOracle(families=("cylinder", "box"), bank_steps=(3, 2)).fit()
    bank = small.bank_.T > 0  # (M, S*S) dilated bank images
    images = generate(ShapesConfig(family=["cylinder", "box"]), 6, seed=11)[0]
    images[0] = np.random.default_rng(1).random((64, 64)) < 0.3
    scores = small.score(images)
    for k, img in enumerate(dilate(images, 1).reshape(6, -1)):
        a = set(np.flatnonzero(img))
        ious = [len(a & set(np.flatnonzero(b))) / len(a | set(np.flatnonzero(b))) for b in bank]
        assert scores.iou[k] == pytest.approx(max(ious), abs=1e-6)
        assert scores.factors["height"][k] == small.bank_factors_["height"][int(np.argmax(ious))]


def test_bank_covers_the_factor_grid():
    o = ValidityOracle(families=("cylinder", "sphere"), bank_steps=(5, 4)).fit()
    f = o.bank_factors_
    assert o.bank_.shape == (64 * 64, 5 * 4 * 2 + 4 * 2)  # a sphere's bank varies its radius only
    cyl = f["family"] == FAMILIES.index("cylinder")
    assert np.allclose(np.unique(f["height"][cyl]), np.linspace(12, 32, 5))
    assert np.allclose(np.unique(f["radius"]), np.linspace(6, 14, 4))
    assert np.allclose(f["height"][~cyl], 2 * f["radius"][~cyl])
    # Default resolution: one bank point every 0.5 px of each range.
    assert ValidityOracle().fit().bank_.shape[1] == 41 * 17 * 2


def test_bank_figures_score_one_with_their_own_factors(oracle):
    pick = np.arange(0, oracle.bank_.shape[1], 97)
    raw = render({k: v[pick] for k, v in oracle.bank_factors_.items()})
    s = oracle.score(raw)
    assert np.allclose(s.iou, 1.0) and s.valid.all()
    for key in ("height", "radius", "orientation", "family"):
        assert np.array_equal(s.factors[key], oracle.bank_factors_[key][pick])


def test_calibration_accepts_fresh_figures_and_rejects_the_rest(oracle):
    result = calibrate(oracle, n=300, seed=1)
    rows = result["rows"]
    assert rows["fresh renders"]["valid_rate"] >= 0.99
    for name, row in rows.items():
        if name != "fresh renders":
            assert row["valid_rate"] <= 0.01, name
    assert {f"other family: {f}" for f in FAMILIES[1:]} <= set(rows)
    # Recovered factors: the bank's 0.5 px spacing bounds the error near a quarter pixel on average.
    assert result["height_mae"] < 0.5 and result["radius_mae"] < 0.5
    assert result["orientation_accuracy"] == 1.0


def test_multi_family_oracle_recovers_the_family():
    o = ValidityOracle(families=FAMILIES).fit()
    images, truth = generate(ShapesConfig(family=list(FAMILIES)), 150, seed=4)
    s = o.score(images)
    assert s.valid_rate >= 0.99
    assert np.mean(s.factors["family"] == truth["family"]) >= 0.99
    assert np.array_equal(s.factors["orientation"], truth["orientation"])


def test_batch_scores_equal_one_by_one(oracle):
    images = generate(ShapesConfig(), 20, seed=9)[0]
    images[::3] = np.random.default_rng(0).random((7, 64, 64)) < 0.2
    batch = ValidityOracle(chunk=6).fit().score(images)
    for k in range(len(images)):
        one = oracle.score(images[k : k + 1])
        assert one.iou[0] == pytest.approx(batch.iou[k], abs=1e-6) and one.valid[0] == batch.valid[k]
        assert all(one.factors[key][0] == batch.factors[key][k] for key in one.factors)


def test_probability_maps_and_tensors_are_binarized_at_half(oracle):
    images = generate(ShapesConfig(), 8, seed=2)[0]
    rng = np.random.default_rng(3)
    probs = np.where(images, rng.uniform(0.5, 1.0, images.shape), rng.uniform(0.0, 0.499, images.shape))
    expected = oracle.score(images).iou
    assert np.array_equal(oracle.score(probs.astype(np.float32)).iou, expected)
    assert np.array_equal(oracle.score(torch.from_numpy(probs)[:, None]).iou, expected)  # (N, 1, S, S) tensor


def test_valid_rate_and_threshold(oracle):
    images = generate(ShapesConfig(), 10, seed=5)[0]
    images[:4] = False
    s = oracle.score(images)
    assert s.valid_rate == pytest.approx(0.6)
    assert np.array_equal(s.valid, s.iou >= oracle.threshold)
    assert np.isnan(oracle.score(np.zeros((0, 64, 64), bool)).valid_rate)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"families": ("cilinder",)}, ConfigError, r"oracle\.shapes_cfg\.family: 'cilinder' is not one of"),
        ({"threshold": 1.5}, ConfigError, r"oracle\.threshold: 1\.5 is not an IoU"),
        ({"bank_steps": (0, 3)}, ConfigError, r"oracle\.bank_steps"),
        ({"shapes_cfg": ShapesConfig(shift=(-1.0, 1.0))}, ConfigError, r"fixed center"),
    ],
)
def test_bad_parameters_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        ValidityOracle(**kwargs).fit()


def test_bad_images_are_named(oracle):
    with pytest.raises(DataError, match="call fit"):
        ValidityOracle().score(np.zeros((1, 64, 64)))
    with pytest.raises(DataError, match=r"expected \(N, 64, 64\)"):
        oracle.score(np.zeros((2, 32, 32)))
    with pytest.raises(DataError, match="NaN"):
        oracle.score(np.full((1, 64, 64), np.nan))


def test_cli_calibrate_prints_the_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "calib.json"
    assert main(["shapes", "calibrate", "--n", "20", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| fresh renders | 1.000 |" in printed and "| blank | 0.000 |" in printed
    data = json.loads(out.read_text())
    assert data["families"] == ["cylinder"] and data["rows"]["fresh renders"]["valid_rate"] == 1.0
    assert main(["shapes", "calibrate", "--n", "20", "--out", str(out)]) == 2
    assert main(["shapes", "calibrate", "--n", "0"]) == 2
