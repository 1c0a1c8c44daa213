"""The page of an `Analysis` (`analyze`'s report.html and its notebook view): findings, retrieval quality, class
distances, the PCA map, spread, what a k-NN vote gets wrong (with the images when given), the other numbers,
details and a glossary.

The k-NN review and the random baseline of the spread are O(N^2 D): above `REVIEW_MAX` embeddings the review runs
on a seeded subsample (the page says so).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latentatlas.analysis.analyze import Analysis
from latentatlas.analysis.confusion import KnnReview, knn_review
from latentatlas.report import html
from latentatlas.report.disentanglement_section import disentanglement_parts
from latentatlas.report.figures import png_uri
from latentatlas.report.findings import analyze_findings, random_spread
from latentatlas.report.gallery import (
    confusion_table,
    mistakes_section,
    plot_confusion,
    typical_section,
    write_confusion,
)
from latentatlas.report.page import Page, is_number, split_headline
from latentatlas.report.quantities import format_value
from latentatlas.report.runs import flatten

REVIEW_MAX = 10_000  # embeddings the k-NN review looks at (a seeded subsample above)
REVIEW_K = 10  # neighbours voting, as retrieval's knn_accuracy
SETUP = ("n", "dim", "num_classes", "metric", "coverage", "exclude_self")
CLASS_HEADERS = ["class", "images", "intra-class distance", "nearest class", "distance to it", "ellipse area",
                 "normalized area", "coverage reached"]  # fmt: skip
AREA_NOTE = (
    "<p class='note'>Areas are pi * a * b with a, b the semi-axes (not pi * width * height). Normalized areas divide "
    "every PCA coordinate by one scale s, the total standard deviation sqrt(trace(Cov) / 2), which keeps shapes and "
    "area ratios.</p>"
)


@dataclass
class Review:
    """A k-NN review of (a subsample of) an analysis: `rows[i]` is the embedding behind the review's row i."""

    review: KnnReview
    rows: np.ndarray


def as_array(value: object) -> np.ndarray:
    """A tensor, list or array as a float NumPy array."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=float)


def ellipse_info(ellipses: object, k: int) -> dict:
    """Class code k's `Ellipse` as a dict (center, semi_axes, angle_deg, area, ...), or {} if it was skipped."""
    for e in ellipses.ellipses:
        if int(e.label) == k:
            return vars(e)
    return {}


def review_analysis(a: Analysis, max_points: int = REVIEW_MAX, seed: int = 0) -> Review:
    """`knn_review` of the analysis' embeddings with its metric (squared euclidean ranks as euclidean does)."""
    rows = np.arange(a.n)
    if a.n > max_points:
        rows = np.sort(np.random.default_rng(seed).choice(a.n, size=max_points, replace=False))
    labels = np.asarray(a.labels)[rows]
    metric = "cosine" if a.metric == "cosine" else "euclidean"
    k = min(REVIEW_K, len(rows) - 1)
    return Review(knn_review(np.asarray(a.embeddings)[rows], labels, k=k, metric=metric), rows)


@functools.lru_cache(maxsize=8)
def _random(n: int, dim: int) -> tuple[tuple[str, float], ...]:
    return tuple(random_spread(n, dim).items())


def baseline(a: Analysis) -> dict[str, float]:
    """KoLeo and uniformity of random directions of the analysis' spread subsample size and dimension."""
    return dict(_random(int(a.spread["n_subsample"]), int(a.dim)))


def class_rows(a: Analysis) -> list[list[object]]:
    m = as_array(a.distances.matrix)
    rows = []
    for k, name in enumerate(a.class_names):
        near = min((j for j in range(len(m)) if j != k), key=lambda j: m[k, j])
        e = ellipse_info(a.ellipses, k)
        rows.append([name, a.counts[k], m[k, k], a.class_names[near], m[k, near], e.get("area"),
                     e.get("area_normalized"), e.get("coverage_achieved")])  # fmt: skip
    return rows


def numbers(a: Analysis) -> dict[str, Any]:
    """analysis.json's scalars as flat keys (`retrieval.precision_at_1`), without lists and per-class entries."""
    tree = {k: v for k, v in a.to_dict().items() if k not in ("class_names", "counts")}
    tree["distances"] = {k: v for k, v in tree["distances"].items() if k != "matrix"}  # C^2 entries, all skipped
    flat = flatten(tree)
    skip = ("distances.classes", "distances.counts", "distances.matrix", "ellipses.ellipses", "ellipses.skipped",
            "spread.nn_hist", "distances.metric", "distances.exclude_self", "ellipses.coverage",
            "disentanglement")  # fmt: skip
    keep = {k: v for k, v in flat.items() if not k.startswith(skip) and (is_number(v) or isinstance(v, str))}
    return {k: v for k, v in keep.items() if "_ci[" not in k}  # intervals go beside their estimate


def retrieval_table(page: Page, a: Analysis, nums: Mapping[str, Any], keys: list[str]) -> str:
    """The headline table; for sampled queries (`--queries`) each estimate with its 95% interval, and a note
    saying that these are estimates and from how many queries."""
    r = a.retrieval
    if not r.get("estimate"):
        return page.table({k: [nums[k]] for k in keys}, ["value"])
    rows = {}
    for k in keys:
        ci = r.get(k.removeprefix("retrieval.") + "_ci") if k.startswith("retrieval.") else None
        rows[k] = [nums[k], "–" if ci is None else f"{format_value(k, ci[0])} – {format_value(k, ci[1])}"]
    note = (f"<p class='note'>Estimates: retrieval was scored on {r['queries']:,} queries sampled by class "
            f"(seed {r['seed']}) out of the {r['n_references']:,} embeddings, each ranked exactly against all "
            f"{r['n_references']:,}; the {r['confidence']:.0%} confidence interval of each value over all the "
            f"queries stands beside it ({r['n_lone_queries']:,} sampled queries alone in their class were left "
            "out, as in the exact computation).</p>")  # fmt: skip
    return note + page.table(rows, ["estimate", f"{r['confidence']:.0%} interval"])


def mistakes_parts(a: Analysis, r: Review, images: Any = None, confusion_png: Path | None = None) -> list[str]:
    """The confusion figure (written to `confusion_png` when given, else made in memory) and its counts; with
    `images`, the galleries of mistakes and typical examples."""
    names, rv = a.class_names, r.review
    sample = f" on a random {len(r.rows):,} of the {a.n:,} embeddings" if len(r.rows) < a.n else ""
    caption = (f"Each embedding is classified by the majority class of its {rv.k} nearest others{sample} "
               f"({rv.metric} distance); row = true class, cells = share per predicted class. "
               f"Accuracy {rv.accuracy:.3f}.")  # fmt: skip
    if confusion_png is not None:
        uri = html.data_uri(write_confusion(rv, names, confusion_png))
    else:
        uri = png_uri(plot_confusion(rv, names))
    parts = [f'<figure><img src="{uri}" alt="confusion.png"><figcaption>{html.escape(caption)}</figcaption></figure>',
             html.details("The confusion matrix as counts", confusion_table(rv, names))]  # fmt: skip
    if images is not None:
        shown = np.asarray(images)[r.rows] if len(r.rows) < a.n else images
        parts += ["<h3>Embeddings whose nearest neighbour has another class</h3>", mistakes_section(rv, shown, names),
                  "<h3>The most typical embeddings of each class</h3>", typical_section(rv, shown, names)]  # fmt: skip
    return parts


def analysis_page(
    a: Analysis,
    figures: Mapping[str, tuple[str, str]],
    images: Any = None,
    full: bool = True,
    confusion_png: Path | None = None,
    disentanglement: Mapping[str, Any] | None = None,
) -> Page:
    """The page; `figures` are name -> (data URI, caption) of `make_figures`; `images[i]` is embedding i's image;
    the confusion figure is written to `confusion_png` when given. `full=False` (the notebook view) leaves out the
    per-class table, the galleries and the details. `disentanglement`: the scores against known factors (their
    heatmap is `figures["information"]`)."""
    r = review_analysis(a)
    page = Page(f"Embedding geometry: {a.n:,} embeddings, {len(a.class_names)} classes")
    page.findings(analyze_findings(a.to_dict(), r.review, baseline(a)))
    nums = numbers(a)
    head, rest = split_headline(list(nums))
    page.section("Retrieval quality", retrieval_table(page, a, nums, head))
    per_class = html.table(class_rows(a), CLASS_HEADERS, cls="classes") if full else ""
    page.section("Class distances", _img(figures, "class_distances"), per_class)
    page.section("PCA and coverage ellipses", _img(figures, "pca_ellipses"), AREA_NOTE if full else "")
    page.section("Spread", _img(figures, "nn_distances"))
    if disentanglement is not None:
        uri = figures["information"][0] if "information" in figures else None
        page.section("Disentanglement against the known factors", *disentanglement_parts(page, disentanglement, uri))
    page.section("What a k-NN vote gets wrong", *mistakes_parts(a, r, images if full else None, confusion_png))
    other = [k for k in rest if k not in SETUP]
    page.section("Other numbers", page.table({k: [nums[k]] for k in other}, ["value"]))
    if full:
        setup = page.table({k: [nums[k]] for k in SETUP if k in nums}, ["value"], grouped=False)
        page.add(html.details("Details: setup", setup))
    return page


def _img(figures: Mapping[str, tuple[str, str]], name: str) -> str:
    if name not in figures:
        return ""
    uri, cap = figures[name]
    return f'<figure><img src="{uri}" alt="{name}.png"><figcaption>{html.escape(cap)}</figcaption></figure>'
