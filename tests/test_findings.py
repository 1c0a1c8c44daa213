"""Findings quote the numbers they are made from: every number is parsed back out of the sentences."""

import re

import numpy as np
import pytest

import latentatlas
from latentatlas.analysis.confusion import knn_review
from latentatlas.report.findings import (
    analyze_findings,
    confused_pair,
    findings_html,
    metric_run_findings,
    random_spread,
    share_in_words,
)
from latentatlas.report.findings_compare import compare_findings, sweep_findings
from latentatlas.report.findings_shapes import ae_vae_findings, shapes_run_findings

CIFAR = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?")


def numbers(text):
    return [float(m.replace(",", "")) for m in NUMBER.findall(text)]


def quotes(text, value, digits=3):
    """Whether `text` holds `value` rounded to `digits` decimals."""
    return any(abs(x - value) <= 0.5 * 10**-digits + 1e-12 for x in numbers(text))


@pytest.mark.parametrize(
    "share, words",
    [
        (0.754, "3 test images in 4"),
        (0.7, "7 test images in 10"),
        (0.5, "1 test image in 2"),
        (0.31, "3 test images in 10"),
        (0.97, "almost every test image"),
        (1.0, "every test image"),
        (0.02, "almost no test image"),
        (0.0, "no test image"),
    ],
)
def test_shares_in_words(share, words):
    assert share_in_words(share, "test images", "test image") == words


def test_the_fraction_in_words_is_the_nearest_one(rng):
    for share in rng.uniform(0.05, 0.95, size=200):
        n, d = map(int, re.match(r"(\d+) \w+ in (\d+)", share_in_words(share, "xs", "x")).groups())
        best = min(abs(share - a / b) for b in (2, 3, 4, 5, 10) for a in range(1, b))
        assert abs(share - n / d) == pytest.approx(best)


def metric_inputs(rng):
    matrix = rng.uniform(0.6, 1.2, size=(10, 10))
    matrix = (matrix + matrix.T) / 2
    np.fill_diagonal(matrix, rng.uniform(0.2, 0.5, size=10))
    summary = {
        "test_precision_at_1": rng.uniform(0.3, 0.9),
        "test_map_at_r": rng.uniform(0.2, 0.6),
        "test_pair_auc": rng.uniform(0.8, 0.99),
        "test_good_triplet_ratio": rng.uniform(0.7, 0.95),
        "test_koleo": rng.uniform(1, 3),
        "test_uniformity": -rng.uniform(1, 3),
        "test_intra": 0.3,
        "test_inter": 1.0,
        "test_margin": 0.7,
        "triplet_leak_images": 17,
    }
    analysis = {"class_names": CIFAR, "distances": {"matrix": matrix.tolist()}}
    config = {"loss": {"koleo": {"weight": 0.0}}, "train": {"accumulation": 1}}
    return summary, analysis, config


def test_metric_run_findings_quote_summary_analysis_and_the_seed(rng):
    summary, analysis, config = metric_inputs(rng)
    labels = np.repeat(np.arange(10), 6)
    review = knn_review(rng.normal(size=(60, 4)), labels, k=3)
    found = metric_run_findings(summary, analysis, config, review, random={"koleo": 0.5, "uniformity": -3.5})
    text = [f.text for f in found]
    assert 3 <= len(found) <= 6
    assert quotes(text[0], summary["test_precision_at_1"]) and quotes(text[0], summary["test_map_at_r"])
    assert share_in_words(summary["test_precision_at_1"], "test images", "test image") in text[0]
    assert quotes(text[1], summary["test_pair_auc"]) and quotes(text[1], 0.9538, 4)  # the seed's published AUC
    i, j, ratio, dist, own = confused_pair(np.array(analysis["distances"]["matrix"]), CIFAR)
    m = np.array(analysis["distances"]["matrix"])
    brute = min((m[a, b] / ((m[a, a] + m[b, b]) / 2), a, b) for a in range(10) for b in range(a + 1, 10))
    assert (i, j) == brute[1:] and ratio == pytest.approx(brute[0])
    assert CIFAR[i].capitalize() in text[2] and quotes(text[2], ratio, 2) and quotes(text[2], dist)
    t, p, count, share = review.confused_pairs(1)[0]
    assert f"takes {CIFAR[t]} for {CIFAR[p]}: {count} of the 6 {CIFAR[t]} images ({100 * share:.0f}%)" in text[2]
    assert quotes(text[3], summary["test_koleo"]) and quotes(text[3], 0.5) and "crowd together" in text[3]
    assert all(quotes(text[4], v) for v in (0.7, 1.0, 0.3)) and quotes(text[4], 0.8143, 4)
    assert numbers(text[5])[0] == 17


def test_a_reference_appears_only_where_it_fits(rng):
    summary, analysis, config = metric_inputs(rng)
    koleo = {"loss": {"koleo": {"weight": 0.1}}, "train": {"accumulation": 4}}
    margin = metric_run_findings(summary, analysis, koleo)[4].text
    assert quotes(margin, 0.5425, 4) and not quotes(margin, 0.8143, 4)  # KoLeo 0.1, 4 x 16 accumulation
    other = {**analysis, "class_names": [f"c{k}" for k in range(10)]}
    assert "seed 000" not in " ".join(f.text for f in metric_run_findings(summary, other, config))


def test_analyze_findings_quote_analysis_json(rng):
    labels = np.repeat(np.arange(4), 15)
    x = rng.normal(size=(60, 6)) + np.eye(6)[labels]
    a = latentatlas.analyze(x, labels, class_names=list("wxyz")).to_dict()
    rnd = random_spread(a["spread"]["n_subsample"], a["dim"])
    text = [f.text for f in analyze_findings(a, random=rnd)]
    assert numbers(text[0])[:3] == [60, 6, 4]
    assert quotes(text[1], a["retrieval"]["precision_at_1"])
    assert quotes(text[1], a["retrieval"]["mean_average_precision_at_r"])
    assert quotes(text[3], a["spread"]["koleo"]) and quotes(text[3], a["spread"]["uniformity"])
    assert quotes(text[3], rnd["koleo"]) and quotes(text[3], rnd["uniformity"])
    d = a["distances"]
    assert quotes(text[4], d["margin"]) and quotes(text[4], d["inter_mean"]) and quotes(text[4], d["intra_mean"])


def test_random_spread_is_the_spread_of_random_directions():
    r = random_spread(500, 16)
    assert -4.0 < r["uniformity"] < -3.0 and 0 < r["koleo"]  # t = 2 uniformity of a uniform sphere in 16-D: ~-3.5
    assert random_spread(500, 16) == r  # seeded


SHAPES = {
    "grid_n": 15,
    "grid_kind": "prior quantiles",
    "grid_validity": 0.92,
    "variational": True,
    "sample_validity": 0.8825,
    "n_samples": 400,
    "val_recon_validity": 0.96,
    "morph_validity": 0.9417,
    "morph_smoothness": 1.83,
    "morph_monotonicity": 0.88,
    "latent_empty_cells": 0.32,
    "latent_type_separation": 0.41,
    "active_units": 2,
    "latent_dim": 2,
    "active_threshold": 0.01,
    "kl_total": 5.27,
    "family_separation": 0.35,
    "family_morph_validity": 0.8,
    "family_morph_path": "cylinder->capsule->sphere",
}


def test_shapes_findings_quote_the_summary():
    text = [f.text for f in shapes_run_findings(SHAPES)]
    assert len(text) == 6
    assert numbers(text[0])[:2] == [round(0.92 * 225), 225] and quotes(text[0], 0.92)
    assert quotes(text[1], 0.8825) and numbers(text[1])[1] == 400 and quotes(text[1], 0.96)
    assert quotes(text[2], 0.9417) and quotes(text[2], 1.83, 2) and quotes(text[2], 0.88)
    assert quotes(text[3], 0.32) and quotes(text[3], 0.41, 2)
    assert numbers(text[4])[:2] == [2, 2] and quotes(text[4], 5.27, 2)
    assert quotes(text[5], 0.35, 2) and quotes(text[5], 0.8) and "cylinder -> capsule -> sphere" in text[5]
    ae = {**SHAPES, "variational": False, "kl_total": None, "grid_kind": "bounding box"}
    assert "KL" not in shapes_run_findings(ae)[4].text and "bounding box" in shapes_run_findings(ae)[0].text


def test_ae_vae_findings_open_with_this_runs_validity_difference():
    ae = {**SHAPES, "grid_validity": 0.865, "sample_validity": 0.88, "latent_empty_cells": 0.38}
    found = ae_vae_findings(ae, SHAPES, study_href="../docs/studies/vae.md")
    first = found[0].text
    assert first.startswith("In this run the VAE's decoded grid")
    assert numbers(first) == pytest.approx([0.92, 0.865, 0.055])
    assert quotes(found[1].text, 0.8825) and quotes(found[1].text, 0.88)
    assert found[-1].href == "../docs/studies/vae.md"
    assert '<a href="../docs/studies/vae.md">' in findings_html(found)
    assert "--seeds 3" in ae_vae_findings(ae, SHAPES)[-1].text  # no study yet: how to get mean ± std


def test_compare_findings_rank_runs_against_the_previous_best():
    runs = [
        ("a", {"test_precision_at_1": 0.70, "test_pair_auc": 0.90, "epochs_trained": 5}),
        ("b", {"test_precision_at_1": 0.76, "test_pair_auc": 0.90}),
    ]
    text = [f.text for f in compare_findings(runs)]
    assert numbers(text[0])[0] == 2
    assert text[1].startswith("Test precision@1: b 0.760, ahead of a 0.700 by 0.060")
    assert "tie at 0.900" in text[2]
    assert not any("Epochs" in t for t in text)  # no better direction: not ranked


def sweep(groups):
    return {
        "swept": ["loss.koleo.weight"],
        "counts": {"planned": 6, "done": 6, "failed": 0, "pending": 0},
        "metrics": ["test_precision_at_1"],
        "groups": [
            {
                "label": f"loss.koleo.weight={w}",
                "n": 3,
                "mean": {"test_precision_at_1": m},
                "std": {"test_precision_at_1": s},
                "count": {"test_precision_at_1": 3},
            }
            for w, m, s in groups
        ],
    }


def test_sweep_findings_mark_differences_beyond_twice_the_spread():
    clear = sweep_findings(sweep([(0, 0.293, 0.006), (0.01, 0.330, 0.004)]))
    assert numbers(clear[0].text)[:4] == [6, 6, 0, 2]
    assert clear[1].text.startswith("Test precision@1: loss.koleo.weight=0.01 0.330 ± 0.004 (n = 3)")
    assert quotes(clear[1].text, 0.037) and clear[1].text.endswith("more than twice the spread.")
    unclear = sweep_findings(sweep([(0, 0.293, 0.03), (0.01, 0.330, 0.02)]))[1].text
    assert "within twice the spread (0.060): not a clear difference" in unclear
