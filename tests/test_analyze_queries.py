"""`latentatlas analyze --queries Q`: sampled retrieval with 95% intervals in analysis.json, the report and the
terminal, equal to the library; Q = N gives the exact values."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from latentatlas.analysis.retrieval import retrieval_metrics
from latentatlas.api import analyze
from latentatlas.cli.main import main

KEYS = ("precision_at_1", "r_precision", "mean_average_precision_at_r", "recall_at_5", "knn_accuracy")


def overlapping(rng, n=300, c=5, d=8):
    y = rng.integers(0, c, n)
    x = (rng.normal(size=(c, d))[y] * 0.8 + rng.normal(size=(n, d))).astype(np.float32)
    return x, y


def test_cli_queries_write_estimates_with_intervals_everywhere(tmp_path, rng, capsys):
    x, y = overlapping(rng)
    np.savez(tmp_path / "e.npz", embeddings=x, labels=y)
    out = tmp_path / "out"
    argv = ["analyze", str(tmp_path / "e.npz"), "--out", str(out), "--queries", "60", "--seed", "4"]
    assert main([*argv, "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    r = json.loads((out / "analysis.json").read_text())["retrieval"]
    want = retrieval_metrics(x, y, k=(1, 5, 10), queries=60, seed=4)
    assert r["estimate"] is True and r["queries"] == 60 and r["n_references"] == 300 and r["seed"] == 4
    for key in KEYS:
        assert r[key] == want[key] and r[f"{key}_ci"] == want[f"{key}_ci"]
        assert 0 <= r[f"{key}_ci"][0] <= r[key] <= r[f"{key}_ci"][1] <= 1
    assert "retrieval is an estimate from 60 of the 300 queries (seed 4); 95% intervals: precision_at_1 [" in printed
    page = re.sub(r"<[^>]+>", " ", (out / "report.html").read_text())
    assert "Estimates: retrieval was scored on 60 queries sampled by class (seed 4) out of the 300 embeddings" in page
    lo, hi = (f"{v:.3f}" for v in r["precision_at_1_ci"])
    assert re.search(rf"Precision@1\s+↑\s+{r['precision_at_1']:.3f}\s+{lo} – {hi}", page)  # estimate | interval
    assert f"an estimate from 60 of the 300 queries, 95% interval {lo}–{hi}" in page  # the finding
    assert "Precision@1 95% interval" not in page  # bounds are beside the estimate, not rows of their own


def test_exact_run_has_no_estimate_note_and_q_equal_n_is_exact(tmp_path, rng):
    x, y = overlapping(rng, n=120)
    exact = analyze(x, y)
    everyone = analyze(x, y, queries=len(x), seed=9)
    for key in KEYS:
        assert everyone.retrieval[key] == pytest.approx(exact.retrieval[key], abs=1e-12)  # class-weighted sums
        assert everyone.retrieval[f"{key}_ci"] == [everyone.retrieval[key]] * 2  # a point: nothing left to sample
    exact.save(tmp_path / "exact")
    page = (tmp_path / "exact" / "report.html").read_text()
    assert "Estimates:" not in page and "an estimate from" not in page
