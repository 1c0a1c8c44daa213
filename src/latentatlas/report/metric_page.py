"""`report.html` of a metric-learning run: findings, the test numbers beside the seed's published ones, the curve
that selects the checkpoint, the k-NN confusion matrix and the test images it gets wrong, the geometry figures,
the other numbers, details and a glossary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from latentatlas.analysis.confusion import KnnReview
from latentatlas.report import html, run_page
from latentatlas.report.findings import metric_run_findings
from latentatlas.report.gallery import confusion_table, mistakes_section, typical_section, write_confusion
from latentatlas.report.page import Page
from latentatlas.report.references import Reference, references_for

__all__ = ["MetricRun", "write_metric_page"]

GEOMETRY = ("pca_ellipses", "class_distances", "nn_distances")  # analysis/figures/<name>.png, in page order


@dataclass
class MetricRun:
    """What the page of a metric run is made from.

    Attributes:
        run_dir: the run folder. numbers: `training_numbers` + the task's summary (summary.json's content).
        analysis: analysis.json of the test split as a dict. config: config.yaml as a dict.
        history: metrics.jsonl rows. review: `knn_review` of the test embeddings.
        images: (N, C, H, W) uint8 test images, row i = embedding i. random: `random_spread(...)` or None.
        captions: caption of each analysis figure (name -> text).
    """

    run_dir: Path
    numbers: Mapping[str, Any]
    analysis: Mapping[str, Any]
    config: Mapping[str, Any]
    history: list[dict[str, Any]]
    review: KnnReview
    images: Any
    random: Mapping[str, float] | None = None
    captions: Mapping[str, str] | None = None


def fitting_references(run: MetricRun) -> dict[str, Reference]:
    """key -> the most specific published value that fits this run's config and classes."""
    names = list(run.analysis["class_names"])
    out = {}
    for key in run.numbers:
        refs = references_for(key, run.config, names)
        if refs:
            out[key] = refs[0]
    return out


def mistakes_parts(run: MetricRun, fig_dir: Path) -> list[str]:
    names = list(run.analysis["class_names"])
    r = run.review
    figure = html.figure(
        write_confusion(r, names, fig_dir / "confusion.png"),
        f"Each test image is classified by the majority class of its {r.k} nearest other test images "
        f"({r.metric} distance); row = true class, cells = share of its images per predicted class. "
        f"Accuracy {r.accuracy:.3f}.",
    )
    counts = html.details("The confusion matrix as counts", confusion_table(r, names))
    return [
        figure,
        counts,
        "<h3>Test images whose nearest neighbour has another class</h3>",
        mistakes_section(r, run.images, names),
        "<h3>The most typical test images of each class</h3>",
        typical_section(r, run.images, names),
    ]


def write_metric_page(run: MetricRun) -> Path:
    """Write `run_dir/report.html` (figures into `run_dir/figures/`); returns its path."""
    fig_dir = run.run_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    train = run.config.get("train", {})
    metric, mode = train.get("best_metric", "val_loss"), train.get("best_mode", "min")
    page = Page(f"Metric-learning run {run.run_dir.name}")
    page.findings(metric_run_findings(run.numbers, run.analysis, run.config, run.review, run.random))
    refs = fitting_references(run)
    headline, other = run_page.number_tables(page, run.numbers, refs)
    page.section("Test split, best checkpoint", headline, run_page.reference_note(refs))
    curves, times = run_page.curves(run.history, metric, mode, fig_dir)
    page.section("Training", curves)
    page.section("What the model gets wrong", *mistakes_parts(run, fig_dir))
    geometry = run.run_dir / "analysis" / "figures"
    captions = run.captions or {}
    figures = [html.figure(geometry / f"{n}.png", captions.get(n, "")) for n in GEOMETRY
               if (geometry / f"{n}.png").is_file()]  # fmt: skip
    note = "<p class='note'>Every number of the test embeddings: analysis/analysis.json and analysis/report.html.</p>"
    page.section("Geometry of the test embeddings", *figures, note if figures else "")
    page.section("Other numbers", other)
    files = (
        "config.yaml, metrics.jsonl (one row per epoch), summary.json (the numbers above), checkpoints/ (best and "
        "last), embeddings/test.npz (the test embeddings, labels and class names), analysis/ (their geometry)."
    )
    page.add(run_page.details(page, run.numbers, times, run.config, files))
    return page.write(run.run_dir / "report.html")
