"""After a metric-learning run: embed the test split with the best model, analyze its geometry, write the report."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from latentatlas.analysis.analyze import analyze
from latentatlas.report import html
from latentatlas.report.analysis_report import save_analysis
from latentatlas.report.training_curves import plot_training_curves

__all__ = ["SUMMARY_KEYS", "summary_numbers", "write_test_analysis"]

log = logging.getLogger("latentatlas")

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
    _write_report(run_dir, task.config, history, summary)
    return summary


def _write_report(run_dir: Path, config, history: list[dict[str, Any]], summary: dict[str, Any]) -> Path:
    figs = run_dir / "figures"
    figs.mkdir(exist_ok=True)
    curves = plot_training_curves(history, figs / "training_curves.png")
    parts = ["<h2>Test split</h2>", html.table([[k, v] for k, v in summary.items()], ["number", "value"])]
    if curves is not None:
        parts += ["<h2>Training</h2>", html.figure(curves, "Loss and validation metrics per epoch (metrics.jsonl).")]
    analysis_figs = sorted((run_dir / "analysis" / "figures").glob("*.png"))
    if analysis_figs:
        parts.append("<h2>Geometry of the test embeddings</h2>")
        parts += [html.figure(p, p.stem.replace("_", " ")) for p in analysis_figs]
        parts.append("<p class='note'>Full numbers: analysis/analysis.json and analysis/report.html.</p>")
    parts.append("<h2>Config</h2><pre>" + html.escape(_yaml(config)) + "</pre>")
    return html.write_page(run_dir / "report.html", f"latentatlas run {run_dir.name}", "".join(parts))


def _yaml(config) -> str:
    return yaml.safe_dump(config.to_dict(), sort_keys=False)
