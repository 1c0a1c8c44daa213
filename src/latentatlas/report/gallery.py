"""Pictures of what a model gets wrong: the k-NN confusion matrix, and galleries of queries with their neighbours.

Input is a `latentatlas.analysis.confusion.KnnReview` and the images behind its rows; thumbnails are PNG data URIs,
so the page stays one offline file. A neighbour of the query's class is framed green, another class red.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from latentatlas.analysis.confusion import KnnReview
from latentatlas.report import html
from latentatlas.report.figures import class_figure_size, heatmap, new_figure, save_fig

TABLE_MAX = 50  # classes up to which the page also shows the confusion matrix as counts
THUMB = 64  # pixels on the page; smaller images are enlarged without smoothing


def plot_confusion(review: KnnReview, class_names: Sequence[str]):
    """Figure of the confusion matrix: each row (true class) as shares of its queries per predicted class."""
    c = review.confusion.astype(np.float64)
    shares = c / np.maximum(c.sum(axis=1, keepdims=True), 1)
    n = len(class_names)
    fig, ax = new_figure(*class_figure_size(n, 0.6, 3, 2))
    heatmap(ax, shares, list(class_names), cbar_label="share of the true class's queries")
    ax.set_xlabel(f"predicted class (majority of the {review.k} nearest, {review.metric})")
    ax.set_ylabel("true class")
    ax.set_title(f"k-NN confusion matrix, accuracy {review.accuracy:.3f}")
    return fig


def write_confusion(review: KnnReview, class_names: Sequence[str], path: str | Path) -> Path:
    """`plot_confusion` saved as a PNG."""
    return save_fig(plot_confusion(review, class_names), path)


def confusion_table(review: KnnReview, class_names: Sequence[str]) -> str:
    """The confusion matrix as counts: a row per true class, a column per predicted class, the diagonal bold."""
    if len(class_names) > TABLE_MAX:
        return (f"<p class='note'>{len(class_names):,} classes: the {len(class_names) ** 2:,} counts are left out of "
                "the page (the figure shows the shares).</p>")  # fmt: skip
    names = [html.escape(c) for c in class_names]
    head = "<tr><th>true class \u2193 predicted \u2192</th>" + "".join(f"<th>{c}</th>" for c in names) + "</tr>"
    body = []
    for i, name in enumerate(names):
        cells = [f"<td class='diag'>{int(v):,}</td>" if i == j else f"<td>{int(v):,}</td>"
                 for j, v in enumerate(review.confusion[i])]  # fmt: skip
        body.append(f"<tr><th scope='row'>{name}</th>{''.join(cells)}</tr>")
    table = f"<table class='confusion'><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"
    return f"<div class='wide'>{table}</div>"


def to_rgb(image: Any) -> np.ndarray:
    """(H, W), (H, W, C) or (C, H, W) with C in {1, 3}, uint8 or float in [0, 1] (numpy or torch) -> (H, W, 3) uint8."""
    a = image.detach().cpu().numpy() if hasattr(image, "detach") else np.asarray(image)
    if a.ndim == 3 and a.shape[0] in (1, 3) and a.shape[-1] not in (1, 3):
        a = np.moveaxis(a, 0, -1)  # channels first -> last
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim == 2:
        a = np.stack([a] * 3, axis=-1)
    if a.ndim != 3 or a.shape[-1] != 3:
        raise ValueError(f"image of shape {a.shape}: expected (H, W), (H, W, C) or (C, H, W) with C = 1 or 3")
    if a.dtype != np.uint8:
        a = (np.clip(a.astype(np.float64), 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    return a


def thumbnail_uri(image: Any, size: int = THUMB) -> str:
    """An image as a PNG data URI, enlarged (nearest neighbour) to at least `size` pixels on its longer side."""
    a = to_rgb(image)
    scale = max(1, -(-size // max(a.shape[:2])))
    pil = Image.fromarray(a)
    if scale > 1:
        pil = pil.resize((a.shape[1] * scale, a.shape[0] * scale), Image.NEAREST)
    buf = io.BytesIO()
    pil.save(buf, format="PNG", optimize=True)
    return html.bytes_uri(buf.getvalue())


def _thumb(uri: str, caption: str, kind: str, title: str) -> str:
    return (
        f'<figure class="thumb {kind}" title="{html.escape(title)}"><img src="{uri}" alt="{html.escape(title)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def gallery_rows(
    review: KnnReview, class_names: Sequence[str], queries: Sequence[int], show: int = 5
) -> list[dict[str, Any]]:
    """What a gallery shows, as plain data: per query its index, class, and its first `show` neighbours
    (index, class, distance), nearest first."""
    rows = []
    for q in (int(v) for v in queries):
        nbrs = [
            (int(j), class_names[int(review.labels[j])], float(d))
            for j, d in zip(review.neighbours[q, :show], review.distances[q, :show])
        ]
        rows.append({"query": q, "class": class_names[int(review.labels[q])], "neighbours": nbrs})
    return rows


def gallery_html(
    review: KnnReview, images: Any, class_names: Sequence[str], queries: Sequence[int], show: int = 5
) -> str:
    """HTML of a gallery: one line per query, the query then its nearest neighbours with their classes.
    `images[i]` is the image of row i of the review (see `to_rgb` for the layouts accepted)."""
    lines = []
    for row in gallery_rows(review, class_names, queries, show):
        q, own = row["query"], row["class"]
        parts = [_thumb(thumbnail_uri(images[q]), own, "query", f"query {q}: {own}"), "<span class='arrow'>→</span>"]
        for j, name, d in row["neighbours"]:
            kind = "right" if name == own else "wrong"
            parts.append(_thumb(thumbnail_uri(images[j]), name, kind, f"image {j}: {name}, distance {d:.3f}"))
        lines.append(f"<div class='row' data-query='{q}'>{''.join(parts)}</div>")
    return f"<div class='gallery'>{''.join(lines)}</div>"


def mistakes_section(
    review: KnnReview, images: Any, class_names: Sequence[str], n: int = 12, per_class: int = 2, show: int = 5
) -> str:
    """Queries whose nearest neighbour is of another class (the most other-class neighbours first), or a note
    that there is none."""
    queries = review.mistakes(n=n, per_class=per_class)
    if len(queries) == 0:
        return "<p class='note'>Every query's nearest neighbour has its class.</p>"
    note = (
        f"<p class='note'>Images whose nearest neighbour has another class, with their {show} nearest "
        f"({review.metric} distance); green frame = same class as the query, red = another class. At most "
        f"{per_class} per class, those with the most other-class neighbours first.</p>"
    )
    return note + gallery_html(review, images, class_names, queries, show)


def typical_section(
    review: KnnReview, images: Any, class_names: Sequence[str], per_class: int = 1, show: int = 5
) -> str:
    """The best-retrieved queries of each class (most same-class neighbours, then the closest)."""
    note = (
        f"<p class='note'>The most typical images of each class: the most same-class images among their "
        f"{review.k} nearest, then the closest ones; shown with their {show} nearest.</p>"
    )
    return note + gallery_html(review, images, class_names, review.typical(per_class), show)
