"""After a metric-learning run: embed the test split with the best model, analyze its geometry, write the report."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from latentatlas.analysis.analyze import analyze
from latentatlas.analysis.confusion import knn_review
from latentatlas.report.analysis_report import figure_captions, save_analysis
from latentatlas.report.findings import random_spread
from latentatlas.report.metric_page import MetricRun, write_metric_page
from latentatlas.report.run_page import training_numbers

__all__ = ["SUMMARY_KEYS", "summary_numbers", "write_test_analysis"]

log = logging.getLogger("latentatlas")

REVIEW_K = 10  # neighbours voting in the k-NN review of the test split (as retrieval's knn_accuracy)

# Numbers of the test analysis copied into summary.json (the seed's table and what comparisons need).
SUMMARY_KEYS = {
    "precision_at_1": ("retrieval", "precision_at_1"),
    "r_precision": ("retrieval", "r_precision"),
    "map_at_r": ("retrieval", "mean_average_precision_at_r"),
    "knn_accuracy": ("retrieval", "knn_accuracy"),
    "pair_auc": ("pairs", "pair_auc"),
    "good_triplet_ratio": ("pairs", "good_triplet_ratio"),
    "intra": ("distances", "intra_mean"),
    "inter": ("distances", "inter_mean"),
    "margin": ("distances", "margin"),
    "ellipse_mean_area": ("ellipses", "mean_area"),
    "ellipse_median_area": ("ellipses", "median_area"),
    "ellipse_mean_area_normalized": ("ellipses", "mean_area_normalized"),
    "uniformity": ("spread", "uniformity"),
    "koleo": ("spread", "koleo"),
}


def summary_numbers(numbers: dict[str, Any], prefix: str = "test") -> dict[str, Any]:
    out = {}
    for key, (section, name) in SUMMARY_KEYS.items():
        part = numbers.get(section) or {}
        if name in part:
            out[f"{prefix}_{key}"] = part[name]
    return out


def write_test_analysis(task, run_dir: Path, history: list[dict[str, Any]]) -> dict[str, Any]:
    """Writes `embeddings/test.npz`, `analysis/` (analysis.json, figures, report) and `report.html`."""
    emb, labels, triplets = task.test_embeddings()
    names = task.data.images.class_names
    out = run_dir / "embeddings"
    out.mkdir(exist_ok=True)
    np.savez(out / "test.npz", embeddings=emb.numpy(), labels=labels, class_names=np.array(names))
    analysis = analyze(emb, labels, class_names=names, metric="cosine", triplets=triplets)
    save_analysis(analysis, run_dir / "analysis", force=True)
    summary = summary_numbers(analysis.to_dict())
    summary["n_test"] = int(len(labels))
    summary["triplet_leak_images"] = int(task.data.leak)
    _write_report(task, run_dir, history, summary, analysis)
    return summary


def _write_report(task, run_dir: Path, history: list[dict[str, Any]], summary: dict[str, Any], analysis) -> Path:
    """The run's page: k-NN review and thumbnails of the test split, the random baseline of its spread."""
    t = task.config.train
    numbers = {"run": run_dir.name, **training_numbers(history, t.best_metric, t.best_mode), **summary}
    a = analysis.to_dict()
    review = knn_review(analysis.embeddings, analysis.labels, k=min(REVIEW_K, analysis.n - 1), metric="cosine")
    images = task.data.images.images[torch.as_tensor(task.data.test_idx)]  # (N, C, H, W) uint8, row i = query i
    run = MetricRun(
        run_dir=run_dir,
        numbers=numbers,
        analysis=a,
        config=task.config.to_dict(),
        history=history,
        review=review,
        images=images,
        random=random_spread(a["spread"]["n_subsample"], analysis.dim),
        captions=figure_captions(analysis),
    )
    return write_metric_page(run)
