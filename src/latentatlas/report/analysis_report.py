"""Figures, the self-contained `report.html`, the notebook view, the terminal summary and the saved folder of an
`Analysis` (the geometry layer's numbers, `latentatlas.analysis.analyze`).

The *reading* sentences are generated from the numbers, so the text can never disagree with the tables (the
seed blog quoted a margin of 0.70 next to a printed 0.8143).
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from latentatlas.analysis.analyze import Analysis
from latentatlas.analysis.projector import write_projector_files
from latentatlas.outdir import output_dir
from latentatlas.report import html
from latentatlas.report.figures import heatmap, histogram, new_figure, save_fig, scatter_with_ellipses

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
    return {
        "class_distances": f"Mean {metric} between classes; diagonal: intra-class, {self_note}.",
        "pca_ellipses": f"2-D PCA of the {basis}, same scale on both axes; each ellipse covers {a.coverage:.0%} of "
        "its class's points (center: median).",
        "nn_distances": "Histogram of each embedding's euclidean distance to its nearest neighbour after L2 "
        "normalization (the distance KoLeo uses); a pile near 0 means collapsed or duplicated embeddings.",
    }


def make_figures(a: Analysis) -> dict[str, tuple[Figure, str]]:
    """name -> (figure, caption): class-distance heatmap, PCA scatter with ellipses, NN-distance histogram."""
    metric = METRIC_LABELS[a.metric]
    c = len(a.class_names)
    fig, ax = new_figure(max(5.5, 0.55 * c + 3), max(4.5, 0.5 * c + 2))
    heatmap(ax, _np(a.distances.matrix), a.class_names, cbar_label=f"mean {metric}")
    ax.set_title(f"Mean {metric} between classes")
    caps = figure_captions(a)
    figures = {"class_distances": (fig, caps["class_distances"])}

    fig, ax = new_figure(7.5, 5.5)
    ellipses = [_ellipse(a.ellipses, k) for k in range(c)]
    scatter_with_ellipses(ax, _np(a.pca.coords), a.labels, a.class_names, ellipses)
    evr = _np(a.pca.explained_variance_ratio)
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
        histogram(ax, _np(counts), _np(edges), nn_label, "embeddings")
        ax.set_title("Nearest-neighbour distances (unit sphere)")
        figures["nn_distances"] = (fig, caps["nn_distances"])
    return figures


def save_analysis(a: Analysis, path: str | Path, force: bool = False, projector: bool = False) -> Path:
    """Write `analysis.json`, `figures/*.png`, `report.html` (and `projector/` if asked) into `path`.

    Refuses a non-empty folder unless `force`; writes into a temporary sibling folder renamed at the end,
    so `path` never holds a half-written result.
    """
    with output_dir(path, force) as tmp:
        text = json.dumps(a.to_dict(), indent=2, allow_nan=False)
        (tmp / "analysis.json").write_text(text + "\n", encoding="utf-8")
        figures = write_figures(a, tmp / "figures")
        write_report(a, tmp / "report.html", figures)
        if projector:
            (tmp / "projector").mkdir()
            write_projector_files(tmp / "projector", a.embeddings, a.labels, a.class_names)
    return Path(path)


def write_figures(a: Analysis, folder: Path) -> dict[str, tuple[Path, str]]:
    """Save `make_figures` as `folder/<name>.png`; name -> (path, caption)."""
    return {name: (save_fig(fig, Path(folder) / f"{name}.png"), cap) for name, (fig, cap) in make_figures(a).items()}


def write_report(a: Analysis, path: Path, figures: dict[str, tuple[Path, str]]) -> Path:
    """Write the self-contained `report.html` (figures embedded, no external request)."""
    images = {name: (html.data_uri(p), cap) for name, (p, cap) in figures.items()}
    title = f"Embedding geometry: {a.n} embeddings, {len(a.class_names)} classes"
    return html.write_page(path, title, _body(a, images, full=True))


def notebook_html(a: Analysis) -> str:
    """Compact HTML for Jupyter: setup, reading, summary numbers and the figures inline as PNG data URIs."""
    images = {}
    for name, (fig, cap) in make_figures(a).items():
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80)
        images[name] = (f"data:image/png;base64,{base64.b64encode(buf.getvalue()).decode('ascii')}", cap)
    title = html.escape(repr_title(a))
    return f"<div class='latentatlas-analysis'><h3>{title}</h3>{_body(a, images, full=False)}</div>"


def repr_title(a: Analysis) -> str:
    return f"Analysis: {a.n} embeddings (D={a.dim}), {len(a.class_names)} classes, {a.metric}"


def _body(a: Analysis, images: dict[str, tuple[str, str]], full: bool) -> str:
    d = a.distances
    setup = [["embeddings", a.n], ["dimension", a.dim], ["classes", len(a.class_names)], ["metric", a.metric],
             ["self-pairs in intra-class means", "excluded" if a.exclude_self else "included"],
             ["ellipse coverage", a.coverage]]  # fmt: skip
    parts = ["<h2>Setup</h2>", html.table(setup, ["", "value"])]
    parts += ["<h2>Reading</h2><ul>", *(f"<li>{html.escape(s)}</li>" for s in reading(a)), "</ul>"]
    summary = [
        ["intra-class", _f(d.intra_mean), _f(d.intra_std)],
        ["inter-class", _f(d.inter_mean), _f(d.inter_std)],
        ["margin (inter - intra)", _f(d.margin), ""],
    ]
    parts += ["<h2>Class distances</h2>", html.table(summary, ["", "mean", "std"])]
    parts += [_img(images, "class_distances")]
    if full:
        headers = ["class", "n", "intra", "nearest class", "distance", "ellipse area", "normalized area",
                   "coverage reached"]  # fmt: skip
        parts += [html.table(_class_rows(a), headers)]
    area_rows = [["mean", _f(a.ellipses.mean_area), _f(a.ellipses.mean_area_normalized)],
                 ["median", _f(a.ellipses.median_area), _f(a.ellipses.median_area_normalized)]]  # fmt: skip
    parts += ["<h2>PCA and coverage ellipses</h2>", _img(images, "pca_ellipses")]
    parts += [html.table(area_rows, ["ellipse area", "PCA units", "normalized"])]
    parts += ["<p class='note'>Areas are pi * a * b with a, b the semi-axes (not pi * width * height). "
              "Normalized areas divide every PCA coordinate by one scale s, the total standard deviation "
              f"sqrt(trace(Cov) / 2) = {_f(a.ellipses.scale)}, which keeps shapes and area ratios.</p>"]  # fmt: skip
    for title, numbers in (("Retrieval", a.retrieval), ("Spread", a.spread), ("Triplet pairs", a.pairs)):
        if numbers:
            parts += [f"<h2>{title}</h2>", html.table(_scalars(numbers), ["", "value"])]
        if title == "Spread" and "nn_distances" in images:
            parts += [_img(images, "nn_distances")]
    return "".join(parts)


def _img(images: dict[str, tuple[str, str]], name: str) -> str:
    if name not in images:
        return ""
    uri, cap = images[name]
    return f'<figure><img src="{uri}" alt="{name}.png"><figcaption>{html.escape(cap)}</figcaption></figure>'


def _class_rows(a: Analysis) -> list[list[object]]:
    m = _np(a.distances.matrix)
    rows = []
    for k, name in enumerate(a.class_names):
        others = [j for j in range(len(m)) if j != k]
        near = min(others, key=lambda j: m[k, j])
        e = _ellipse_info(a.ellipses, k)
        rows.append([name, a.counts[k], _f(m[k, k]), a.class_names[near], _f(m[k, near]),
                     _f(e.get("area")), _f(e.get("area_normalized")), _f(e.get("coverage_achieved"))])  # fmt: skip
    return rows


def reading(a: Analysis) -> list[str]:
    """Plain sentences about the numbers: confusions, tightest and loosest classes, how intra was computed."""
    m, names = _np(a.distances.matrix), a.class_names
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


def summary_lines(a: Analysis) -> list[str]:
    """Short terminal summary."""
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
    return lines + reading(a)[2:]


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
    v = float(_np(value))
    return f"{v:.4g}" if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5) else f"{v:.4f}"


def _np(value: object) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=float)


def _ellipse_info(ellipses: object, k: int) -> dict:
    """Class code k's `Ellipse` as a dict (center, semi_axes, angle_deg, area, ...), or {} if it was skipped."""
    for e in ellipses.ellipses:
        if int(e.label) == k:
            return vars(e)
    return {}


def _ellipse(ellipses: object, k: int) -> tuple | None:
    e = _ellipse_info(ellipses, k)
    if not e:
        return None
    return _np(e["center"]), _np(e["semi_axes"]), float(e["angle_deg"])
