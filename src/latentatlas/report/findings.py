"""Findings: the 3-6 sentences a report opens with, written from its numbers and quoting them.

One function per report kind takes the plain files' contents (summary.json, analysis.json as dicts): a metric run,
`analyze` of any embeddings, a shapes run, and the demo's AE-vs-VAE comparison (`compare` and sweeps are in
`findings_compare`). Numbers are printed as the tables print them (`quantities.format_value`), so a sentence and
its table agree; a seed's published value stands beside ours where one fits the run (`references`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from latentatlas.analysis.spread import sphere_stats
from latentatlas.report import html
from latentatlas.report.quantities import display_name, format_value, is_missing
from latentatlas.report.references import references_for

MAX_SENTENCES = 6
_CODE = re.compile(r"`([^`]+)`")
DENOMINATORS = (2, 3, 4, 5, 10)  # "3 test images in 4", "7 in 10"


@dataclass(frozen=True)
class Finding:
    """One sentence, optionally pointing to a page (`href`, shown as `link_text`)."""

    text: str
    href: str | None = None
    link_text: str | None = None


def findings_html(findings: Sequence[Finding]) -> str:
    """The findings as the paragraph a page opens with (an empty string when there is none)."""
    if not findings:
        return ""
    parts = []
    for f in findings:
        tail = f" {html.link(f.href, f.link_text or f.href)}" if f.href else ""
        text = _CODE.sub(lambda m: f"<code>{m[1]}</code>", html.escape(f.text))  # `a command` as code
        parts.append(f"<span class='finding'>{text}{tail}</span>")
    return f"<section class='findings'><h2>Findings</h2><p>{' '.join(parts)}</p></section>"


def share_in_words(share: float, plural: str, singular: str) -> str:
    """0.754 -> "3 test images in 4" (the nearest n/d with d in 2, 3, 4, 5, 10); "almost every test image" above
    0.95 ("every" at 1.000), "almost no test image" below 0.05 ("no" at 0.000)."""
    if share > 0.95:
        return f"{'every' if share >= 0.9995 else 'almost every'} {singular}"
    if share < 0.05:
        return f"{'no' if share < 0.0005 else 'almost no'} {singular}"
    n, d = min(
        ((round(share * d), d) for d in DENOMINATORS if 0 < round(share * d) < d),
        key=lambda f: (abs(share - f[0] / f[1]), f[1]),
    )
    return f"{n} {singular if n == 1 else plural} in {d}"


def _v(key: str, value: Any) -> str:
    return format_value(key, value)


def get_number(numbers: Mapping[str, Any], key: str) -> Any:
    """numbers[key] when it is a finite number (not a flag), else None."""
    value = numbers.get(key)
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return value if number and not is_missing(value) else None


def _reference(key: str, config: Mapping[str, Any] | None, class_names: Sequence[str] | None) -> str:
    refs = references_for(key, config, class_names) if class_names is not None else []
    return f"; {refs[0].describe()}" if refs else ""


def precision_sentence(key: str, value: float, plural: str, singular: str, map_at_r: float | None) -> Finding:
    """E.g. "Test precision@1 0.754: the nearest neighbour of 3 test images in 4 has the same class (MAP@R 0.612)"."""
    extra = f" (MAP@R {_v('map_at_r', map_at_r)})" if map_at_r is not None else ""
    words = share_in_words(value, plural, singular)
    return Finding(f"{display_name(key)} {_v(key, value)}: the nearest neighbour of {words} has the same class{extra}.")


def confused_pair(matrix: Any, class_names: Sequence[str]) -> tuple[int, int, float, float, float]:
    """The pair of classes with the smallest mean distance relative to their own spread (the mean of their two
    intra-class distances): (i, j, ratio, distance, own spread)."""
    m = np.asarray(matrix, dtype=np.float64)
    intra = np.diag(m)
    best = None
    for i in range(len(m)):
        for j in range(i + 1, len(m)):
            own = (intra[i] + intra[j]) / 2
            ratio = m[i, j] / own if own > 0 else np.inf
            if best is None or ratio < best[2]:
                best = (i, j, float(ratio), float(m[i, j]), float(own))
    return best


def confusion_sentence(matrix: Any, class_names: Sequence[str], review: Any = None) -> Finding | None:
    """The most confused pair from the class distance matrix, and the k-NN vote's largest confusion if given."""
    if matrix is None or len(class_names) < 2:
        return None
    i, j, ratio, dist, own = confused_pair(matrix, class_names)
    a, b = class_names[i], class_names[j]
    overlap = ": they overlap" if ratio < 1 else ""
    text = (
        f"{a[:1].upper()}{a[1:]} and {b} are the most confused pair: their mean distance ({dist:.3f}) is "
        f"{ratio:.2f}x their own spread ({own:.3f}, the mean of their intra-class distances){overlap}."
    )
    pairs = review.confused_pairs(1) if review is not None else []
    if pairs:
        t, p, count, share = pairs[0]
        text += (
            f" The {review.k}-NN vote most often takes {class_names[t]} for {class_names[p]}: {count} of the "
            f"{int(review.confusion[t].sum())} {class_names[t]} images ({100 * share:.0f}%)."
        )
    return Finding(text)


def spread_sentence(
    koleo: float | None, uniformity: float | None, random: Mapping[str, float] | None
) -> Finding | None:
    """KoLeo and uniformity, read against random directions of the same number and dimension when given."""
    if koleo is None or uniformity is None:
        return None
    if not random:
        return Finding(
            f"KoLeo {koleo:.3f} and uniformity {uniformity:.3f}: lower values mean the embeddings spread "
            "more evenly over the sphere (both depend on the number of embeddings)."
        )
    rk, ru = random["koleo"], random["uniformity"]
    if koleo > rk + 0.05 * abs(rk):
        verdict = "the embeddings crowd together more than random directions do"
    elif koleo < rk - 0.05 * abs(rk):
        verdict = "the embeddings spread more evenly than random directions"
    else:
        verdict = "the embeddings spread about as evenly as random directions"
    return Finding(
        f"KoLeo {koleo:.3f} against {rk:.3f} for random directions of the same number and dimension: "
        f"{verdict}; uniformity {uniformity:.3f} (random {ru:.3f}, lower = more even)."
    )


def margin_sentence(prefix: str, numbers: Mapping[str, Any], reference: str = "") -> Finding | None:
    """Margin = inter - intra with its two parts, and the seed's value where one fits."""
    m, inter, intra = (get_number(numbers, f"{prefix}{k}") for k in ("margin", "inter", "intra"))
    if m is None or inter is None or intra is None:
        return None
    verdict = "classes are apart on average" if m > 0 else "classes overlap on average"
    name = display_name(f"{prefix}margin")
    return Finding(f"{name} {m:.3f} (inter-class {inter:.3f} minus intra-class {intra:.3f}): {verdict}{reference}.")


def estimate_note(r: Mapping[str, Any]) -> str:
    """For sampled retrieval (`--queries`): "; estimated from 10,000 of the 1,000,000 queries, 95% interval
    0.741-0.758" (precision@1's interval)."""
    lo, hi = r.get("precision_at_1_ci") or (None, None)
    interval = f", 95% interval {_v('precision_at_1', lo)}–{_v('precision_at_1', hi)}" if lo is not None else ""
    return f"; an estimate from {r['queries']:,} of the {r['n_references']:,} queries{interval}"


def random_spread(n: int, dim: int, seed: int = 0) -> dict[str, float]:
    """KoLeo and uniformity of `n` random Gaussian directions in `dim` dimensions, the baseline of
    `spread_sentence`. Cost O(n^2 dim): pass the analysis' `spread.n_subsample` as n."""
    x = np.random.default_rng(seed).standard_normal((int(n), int(dim)))
    uniform, nn = sphere_stats(x)  # one pass over the pairs for both
    return {"koleo": float(-np.mean(np.log(nn + 1e-8))), "uniformity": uniform}


def metric_run_findings(
    summary: Mapping[str, Any],
    analysis: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    review: Any = None,
    random: Mapping[str, float] | None = None,
) -> list[Finding]:
    """Findings of a metric-learning run: precision@1 in words, pair AUC beside the seed's, the most confused
    pair, KoLeo and uniformity, the margin beside the seed's, and a warning when triplets leak.

    Args:
        summary: summary.json. analysis: analysis/analysis.json (class names and distance matrix).
        config: config.yaml as a dict (which seed numbers fit). review: a `KnnReview` of the test embeddings.
        random: `random_spread(...)` of the test split's size and dimension.
    """
    names = list(analysis["class_names"]) if analysis else None
    p1 = get_number(summary, "test_precision_at_1")
    out = [
        None if p1 is None else precision_sentence("test_precision_at_1", p1, "test images", "test image",
                                                   get_number(summary, "test_map_at_r")),
        auc_sentence(summary, _reference("test_pair_auc", config, names)),
        confusion_sentence(analysis["distances"]["matrix"], names, review) if analysis else None,
        spread_sentence(get_number(summary, "test_koleo"), get_number(summary, "test_uniformity"), random),
        margin_sentence("test_", summary, _reference("test_margin", config, names)),
        leak_sentence(get_number(summary, "triplet_leak_images")),
    ]  # fmt: skip
    return [f for f in out if f is not None][:MAX_SENTENCES]


def auc_sentence(summary: Mapping[str, Any], reference: str = "") -> Finding | None:
    """E.g. "Test pair AUC 0.948 (good-triplet ratio 0.912)", and the seed's value where one fits."""
    auc, good = get_number(summary, "test_pair_auc"), get_number(summary, "test_good_triplet_ratio")
    if auc is None:
        return None
    ratio = f" (good-triplet ratio {_v('test_good_triplet_ratio', good)})" if good is not None else ""
    return Finding(f"Test pair AUC {_v('test_pair_auc', auc)}{ratio}{reference}.")


def leak_sentence(leak: int | None) -> Finding | None:
    """The seed's split by triplet puts training images into validation triplets: say how many."""
    if not leak:
        return None
    return Finding(f"{leak} training images also appear in validation triplets (the seed's split by triplet), so "
                   "validation numbers are optimistic; the test split holds none of them.")  # fmt: skip


def analyze_findings(
    analysis: Mapping[str, Any], review: Any = None, random: Mapping[str, float] | None = None
) -> list[Finding]:
    """Findings of `analyze` on any embeddings (analysis.json as a dict)."""
    r, s, d = analysis.get("retrieval") or {}, analysis.get("spread") or {}, analysis.get("distances") or {}
    names = list(analysis["class_names"])
    out = [
        Finding(
            f"{analysis['n']:,} embeddings of dimension {analysis['dim']} in {len(names)} classes, "
            f"{analysis['metric']} distance."
        )
    ]
    if get_number(r, "precision_at_1") is not None:
        map_r = get_number(r, "mean_average_precision_at_r")
        p1 = precision_sentence("precision_at_1", r["precision_at_1"], "embeddings", "embedding", map_r)
        out.append(Finding(p1.text[:-1] + estimate_note(r) + ".") if r.get("estimate") else p1)
    out.append(confusion_sentence(d.get("matrix"), names, review))
    out.append(spread_sentence(get_number(s, "koleo"), get_number(s, "uniformity"), random))
    numbers = {"margin": d.get("margin"), "inter": d.get("inter_mean"), "intra": d.get("intra_mean")}
    out.append(margin_sentence("", numbers))
    auc = get_number(analysis.get("pairs") or {}, "pair_auc")
    if auc is not None:
        out.append(Finding(f"Pair AUC {_v('pair_auc', auc)} on the given triplets."))
    return [f for f in out if f is not None][:MAX_SENTENCES]
