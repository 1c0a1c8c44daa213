"""Figures, the self-contained `report.html`, the notebook view, the terminal summary and the saved folder of an
`Analysis` (the geometry layer's numbers, `latentatlas.analysis.analyze`).

The *reading* sentences are generated from the numbers, so the text can never disagree with the tables (the
seed blog quoted a margin of 0.70 next to a printed 0.8143).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from latentatlas.analysis.analyze import Analysis
from latentatlas.analysis.projector import write_projector_files
from latentatlas.outdir import output_dir
from latentatlas.report import html
from latentatlas.report.analysis_page import analysis_page, as_array, ellipse_info
from latentatlas.report.disentanglement_section import (
    CAPTION as INFORMATION_CAPTION,
)
from latentatlas.report.disentanglement_section import (
    disentanglement_lines,
    information_figure,
    write_information_figure,
)
from latentatlas.report.figures import (
    SCATTER_MAX,
    class_figure_size,
    heatmap,
    histogram,
    new_figure,
    png_uri,
    save_fig,
    scatter_with_ellipses,
)

__all__ = ["METRIC_LABELS", "make_figures", "notebook_html", "reading", "save_analysis", "summary_lines",
           "write_figures", "write_report"]  # fmt: skip

# Name the distance actually used: the seed's heatmap said "Distance L2" over cosine distances.
METRIC_LABELS = {
    "cosine": "cosine distance (1 - cos)",
    "euclidean": "euclidean distance ||a - b||",
    "sqeuclidean": "squared euclidean distance ||a - b||²",
}


def figure_captions(a: Analysis) -> dict[str, str]:
    """What to read in each figure of `make_figures` (also under the copies a run page shows)."""
    metric = METRIC_LABELS[a.metric]
    self_note = "self-pairs excluded" if a.exclude_self else "self-pairs (distance 0) included"
    basis = "L2-normalized embeddings" if a.metric == "cosine" else "embeddings"
    d = a.distances
    over = (f" Over a class-stratified seeded sample of {d.n_points:,} of the {a.n:,} embeddings (euclidean means "
            "need every pair: N² of them)." if getattr(d, "sampled", False) else "")  # fmt: skip
    drawn = (f" Drawn: a seeded random {SCATTER_MAX:,} of the {a.n:,} points; the PCA and the ellipses use all of "
             "them." if a.n > SCATTER_MAX else "")  # fmt: skip
    n_sub = int(a.spread.get("n_subsample", a.n))
    sub = f" Over the spread metrics' seeded subsample of {n_sub:,} of the {a.n:,} embeddings." if n_sub < a.n else ""
    return {
        "class_distances": f"Mean {metric} between classes; diagonal: intra-class, {self_note}.{over}",
        "pca_ellipses": f"2-D PCA of the {basis}, same scale on both axes; each ellipse covers {a.coverage:.0%} of "
        f"its class's points (center: median).{drawn}",
        "nn_distances": "Histogram of each embedding's euclidean distance to its nearest neighbour after L2 "
        f"normalization (the distance KoLeo uses); a pile near 0 means collapsed or duplicated embeddings.{sub}",
    }


def make_figures(a: Analysis) -> dict[str, tuple[Figure, str]]:
    """name -> (figure, caption): class-distance heatmap, PCA scatter with ellipses, NN-distance histogram."""
    metric = METRIC_LABELS[a.metric]
    c = len(a.class_names)
    fig, ax = new_figure(*class_figure_size(c, 0.55, 3, 2))
    heatmap(ax, as_array(a.distances.matrix), a.class_names, cbar_label=f"mean {metric}")
    ax.set_title(f"Mean {metric} between classes")
    caps = figure_captions(a)
    figures = {"class_distances": (fig, caps["class_distances"])}

    fig, ax = new_figure(7.5, 5.5)
    ellipses = [_ellipse(a.ellipses, k) for k in range(c)]
    scatter_with_ellipses(ax, as_array(a.pca.coords), a.labels, a.class_names, ellipses)
    evr = as_array(a.pca.explained_variance_ratio)
    ax.set_xlabel(f"PC1 ({100 * evr[0]:.1f}% of variance)")
    ax.set_ylabel(f"PC2 ({100 * evr[1]:.1f}% of variance)")
    ax.set_aspect("equal", adjustable="datalim")  # equal axes: ellipse shapes and areas are not distorted
    ax.set_title(f"PCA with ellipses covering {a.coverage:.0%} of each class")
    figures["pca_ellipses"] = (fig, caps["pca_ellipses"])

    counts, edges = a.spread.get("nn_hist_counts"), a.spread.get("nn_hist_edges")
    if counts is not None and edges is not None:
        fig, ax = new_figure(6.4, 4.0)
        # spread_metrics measures these on the unit sphere whatever the metric (as KoLeo does): say so.
        nn_label = "euclidean distance to the nearest neighbour, L2-normalized embeddings"
        histogram(ax, as_array(counts), as_array(edges), nn_label, "embeddings")
        ax.set_title("Nearest-neighbour distances (unit sphere)")
        figures["nn_distances"] = (fig, caps["nn_distances"])
    return figures


def save_analysis(
    a: Analysis,
    path: str | Path,
    force: bool = False,
    projector: bool = False,
    images: Any = None,
    disentanglement: dict | None = None,
) -> Path:
    """Write `analysis.json`, `figures/*.png`, `report.html` (and `projector/` if asked) into `path`.

    `images` (row i = embedding i, e.g. `latentatlas.data.row_images.load_row_images`) adds galleries of the
    embeddings a k-NN vote gets wrong. `disentanglement` (the numbers of `scores_summary`) adds the scores against
    known factors: a section of the page, `figures/factor_latent_information.png`, and `a.to_dict()` is expected
    to carry them (`latentatlas.api.Analysis` does). Refuses a non-empty folder unless `force`; writes into a
    temporary sibling folder renamed at the end, so `path` never holds a half-written result.
    """
    with output_dir(path, force) as tmp:
        text = json.dumps(a.to_dict(), indent=2, allow_nan=False)
        (tmp / "analysis.json").write_text(text + "\n", encoding="utf-8")
        figures = write_figures(a, tmp / "figures")
        if disentanglement is not None:
            figures["information"] = write_information_figure(disentanglement, tmp / "figures")
        write_report(a, tmp / "report.html", figures, images, disentanglement)
        if projector:
            (tmp / "projector").mkdir()
            write_projector_files(tmp / "projector", a.embeddings, a.labels, a.class_names)
    return Path(path)


def write_figures(a: Analysis, folder: Path) -> dict[str, tuple[Path, str]]:
    """Save `make_figures` as `folder/<name>.png`; name -> (path, caption)."""
    return {name: (save_fig(fig, Path(folder) / f"{name}.png"), cap) for name, (fig, cap) in make_figures(a).items()}


def write_report(
    a: Analysis,
    path: Path,
    figures: dict[str, tuple[Path, str]],
    images: Any = None,
    disentanglement: dict | None = None,
) -> Path:
    """Write the self-contained `report.html` (figures embedded, no external request); the k-NN confusion
    figure goes next to the others (`figures/confusion.png`)."""
    uris = {name: (html.data_uri(p), cap) for name, (p, cap) in figures.items()}
    confusion = Path(path).parent / "figures" / "confusion.png"
    page = analysis_page(a, uris, images, full=True, confusion_png=confusion, disentanglement=disentanglement)
    return page.write(path)


def notebook_html(a: Analysis, disentanglement: dict | None = None) -> str:
    """Compact HTML for Jupyter: findings, retrieval quality and the figures inline as PNG data URIs."""
    uris = {name: (png_uri(fig), cap) for name, (fig, cap) in make_figures(a).items()}
    if disentanglement is not None:
        uris["information"] = (png_uri(information_figure(disentanglement)), INFORMATION_CAPTION)
    title = html.escape(repr_title(a))
    parts = "".join(analysis_page(a, uris, full=False, disentanglement=disentanglement).parts)
    return f"<div class='latentatlas-analysis'><h3>{title}</h3>{parts}</div>"


def repr_title(a: Analysis) -> str:
    return f"Analysis: {a.n} embeddings (D={a.dim}), {len(a.class_names)} classes, {a.metric}"


def reading(a: Analysis) -> list[str]:
    """Plain sentences about the numbers: confusions, tightest and loosest classes, how intra was computed."""
    m, names = as_array(a.distances.matrix), a.class_names
    intra = np.diag(m)
    c = len(names)
    out = [
        f"Intra-class means {'exclude' if a.exclude_self else 'include'} each point's zero distance to itself"
        + ("." if a.exclude_self else ", so they are biased low (pass exclude_self=True / drop --include-self).")
    ]
    margin = float(a.distances.margin)
    verdict = "classes are separated on average" if margin > 0 else "classes overlap: inter <= intra on average"
    out.append(f"Margin inter - intra = {margin:.4f} ({METRIC_LABELS[a.metric]}): {verdict}.")
    # Confusion of a pair: its mean distance relative to the two classes' own spread; below 1 the classes are
    # closer to each other than their members are to one another.
    ratios = []
    for i in range(c):
        for j in range(i + 1, c):
            own = (intra[i] + intra[j]) / 2
            ratios.append((m[i, j] / own if own > 0 else float("inf"), i, j))
    ratios.sort()
    worst = ", ".join(f"{names[i]} / {names[j]} (inter/intra {r:.2f})" for r, i, j in ratios[:3])
    out.append(f"Most confusable pairs (smallest inter-class distance relative to intra-class): {worst}.")
    order = np.argsort(intra)
    out.append(
        f"Tightest class: {names[order[0]]} (intra {intra[order[0]]:.4f}); "
        f"loosest: {names[order[-1]]} (intra {intra[order[-1]]:.4f})."
    )
    return out


def summary_lines(a: Analysis, disentanglement: dict | None = None) -> list[str]:
    """Short terminal summary (with a line of disentanglement scores when given)."""
    d = a.distances
    lines = [
        repr_title(a) + (", self-pairs excluded" if a.exclude_self else ", self-pairs included"),
        f"intra {_f(d.intra_mean)} +- {_f(d.intra_std)}  inter {_f(d.inter_mean)} +- {_f(d.inter_std)}  "
        f"margin {_f(d.margin)}",
        f"ellipses ({a.coverage:.0%}): mean area {_f(a.ellipses.mean_area)}, median {_f(a.ellipses.median_area)}",
    ]
    for title, numbers in (("retrieval", a.retrieval), ("spread", a.spread), ("pairs", a.pairs)):
        if numbers:
            lines.append(f"{title}: " + ", ".join(f"{k} {v}" for k, v in _scalars(numbers)))
    r = a.retrieval
    if r.get("estimate"):
        bounds = ", ".join(f"{k[:-3]} [{_f(v[0])}, {_f(v[1])}]" for k, v in r.items() if k.endswith("_ci"))
        lines.append(f"retrieval is an estimate from {r['queries']:,} of the {r['n_references']:,} queries "
                     f"(seed {r['seed']}); {r['confidence']:.0%} intervals: {bounds}")  # fmt: skip
    return lines + disentanglement_lines(disentanglement) + reading(a)[2:]


def _scalars(numbers: dict) -> list[list[object]]:
    """The scalar entries of a metrics dict (lists such as histograms are left to the figures)."""
    rows = []
    for k, v in numbers.items():
        v = v.item() if hasattr(v, "item") and np.size(v) == 1 else v
        if isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool):
            rows.append([k, _f(v)])
    return rows


def _f(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return str(int(value))
    v = float(as_array(value))
    return f"{v:.4g}" if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5) else f"{v:.4f}"


def _ellipse(ellipses: object, k: int) -> tuple | None:
    e = ellipse_info(ellipses, k)
    if not e:
        return None
    return as_array(e["center"]), as_array(e["semi_axes"]), float(e["angle_deg"])
