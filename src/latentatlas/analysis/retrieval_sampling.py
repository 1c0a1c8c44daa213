"""Retrieval metrics of a stratified random sample of queries, with 95% confidence intervals.

Design: the N points are cut into strata (each class with at least 2 expected queries is its own stratum; the
smaller classes share one), and Q queries are drawn without replacement, proportionally to the strata's sizes
(largest remainders; the shared stratum gets at least 2 when it has 2 points). Every sampled query is scored
exactly against all N references. Lone queries (no other member of their class) are skipped, as in the exact
path, so the full-N value is a ratio: theta = sum_q z_q / sum_q a_q, with a_q = 1 for a scored query (z_q its
value) and a_q = z_q = 0 for a lone one.

Estimate: the combined ratio estimator (Cochran 1977, "Sampling Techniques", section 6.11)
theta^ = sum_h N_h zbar_h / sum_h N_h abar_h, which is the class-weighted mean of the sampled values when
every stratum is one class. Its linearized variance is

    V = (1 / A^2) sum_h N_h^2 (1 - n_h / N_h) s_h^2 / n_h,   A = sum_h N_h abar_h,

s_h^2 the sample variance of d_q = z_q - theta^ a_q in stratum h (all d_q lie in an interval of length 1, so a
stratum with one sampled query uses the bound N_h / (4 (N_h - 1))). Interval: Wilson's score interval at the
Kish effective sample size n_eff = theta^ (1 - theta^) / V (Korn & Graubard 1998), which stays inside [0, 1] and
does not collapse to a point when every sampled query scores 1 (then n_eff = scored / (1 - Q / N)). When Q = N
every stratum is complete: V = 0, the estimate is the exact value and the interval is that point.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from latentatlas.errors import ConfigError

CONFIDENCE = 0.95


@dataclass(frozen=True)
class QuerySample:
    """Stratified sample of query indices.

    Attributes:
        rows: (Q,) int64 sampled point indices, grouped by stratum.
        stratum: (Q,) int64 stratum of each sampled point.
        sizes: (H,) int64 points per stratum (N_h); taken: (H,) int64 sampled per stratum (n_h).
    """

    rows: np.ndarray
    stratum: np.ndarray
    sizes: np.ndarray
    taken: np.ndarray


def stratified_queries(codes: np.ndarray, queries: int, seed: int) -> QuerySample:
    """Draw `queries` of the N points (class codes (N,) in 0..C-1), stratified by class, seeded."""
    n = len(codes)
    if isinstance(queries, bool) or not isinstance(queries, (int, np.integer)) or not 1 <= queries <= n:
        raise ConfigError(f"queries: {queries!r} is outside 1..{n} (the number of points); pick a count in that range")
    counts = np.bincount(codes)
    own = counts * queries >= 2 * n  # at least 2 expected queries
    of_class = np.where(own, np.cumsum(own) - 1, int(own.sum()))  # small classes share the last stratum
    unit = of_class[codes]
    sizes = np.bincount(unit)
    taken = _allocate(sizes, queries, pooled=not own.all())
    order = np.argsort(unit, kind="stable")
    rng = np.random.default_rng(seed)
    starts = np.cumsum(sizes) - sizes
    rows = np.concatenate(
        [order[s + np.sort(rng.choice(m, size=t, replace=False))] for s, m, t in zip(starts, sizes, taken)]
    )
    return QuerySample(rows.astype(np.int64), unit[rows], sizes, taken)


def _allocate(sizes: np.ndarray, q: int, pooled: bool) -> np.ndarray:
    """Proportional allocation of q over strata of `sizes` by largest remainders; the pooled (last) stratum,
    if any, gets at least min(2, its size), taken from the strata with the most."""
    n = int(sizes.sum())
    taken = (q * sizes) // n
    remainder = (q * sizes) % n
    extra = q - int(taken.sum())
    taken[np.argsort(-remainder, kind="stable")[:extra]] += 1
    if pooled and len(sizes) > 1:
        while taken[-1] < min(2, sizes[-1]):
            donor = int(np.argmax(taken[:-1]))
            if taken[donor] <= 1:
                break
            taken[donor] -= 1
            taken[-1] += 1
    return taken


def interval_estimates(
    values: np.ndarray, scored: np.ndarray, sample: QuerySample
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimates of the full-N means and their 95% confidence intervals.

    Args:
        values: (Q, M) float64 per-query values in [0, 1], in the order of sample.rows (rows of lone queries
            ignored).
        scored: (Q,) bool, False for lone queries.
        sample: the QuerySample.

    Returns:
        estimate, low, high: (M,) float64 each.
    """
    a = scored.astype(np.float64)
    z = np.where(scored[:, None], values, 0.0)
    h, sizes, taken = sample.stratum, sample.sizes.astype(np.float64), sample.taken.astype(np.float64)
    zbar = _segment_sum(z, h, len(sizes)) / taken[:, None]  # (H, M)
    abar = _segment_sum(a[:, None], h, len(sizes))[:, 0] / taken  # (H,)
    total_a = float((sizes * abar).sum())
    theta = (sizes[:, None] * zbar).sum(axis=0) / total_a  # (M,)
    d = z - a[:, None] * theta[None, :]  # (Q, M)
    dbar = _segment_sum(d, h, len(sizes)) / taken[:, None]
    ss = _segment_sum((d - dbar[h]) ** 2, h, len(sizes))  # (H, M)
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = np.where(taken[:, None] >= 2, ss / (taken[:, None] - 1), sizes[:, None] / (4 * (sizes[:, None] - 1)))
    fpc = 1.0 - taken / sizes  # 0 for complete strata
    terms = np.where(fpc[:, None] > 0, sizes[:, None] ** 2 * fpc[:, None] * s2 / taken[:, None], 0.0)
    var = terms.sum(axis=0) / total_a**2
    if not bool((fpc > 0).any()):
        return theta, theta.copy(), theta.copy()
    low, high = zip(*(_wilson(t, v, int(scored.sum()), float(taken.sum() / sizes.sum())) for t, v in zip(theta, var)))
    return theta, np.array(low), np.array(high)


def _wilson(p: float, var: float, n_scored: int, fraction: float) -> tuple[float, float]:
    """Wilson score interval of a mean in [0, 1] with variance var, at the Kish effective sample size."""
    zq = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)
    p = min(max(p, 0.0), 1.0)
    n_eff = p * (1 - p) / var if var > 0 and 0 < p < 1 else n_scored / (1.0 - fraction)
    k = zq * zq / n_eff
    center = (p + k / 2) / (1 + k)
    half = zq / (1 + k) * np.sqrt(p * (1 - p) / n_eff + k / (4 * n_eff))
    # At p = 0 or 1 one bound is p itself (in exact arithmetic; rounding could leave it a hair inside).
    low = 0.0 if p == 0.0 else min(p, max(0.0, center - half))
    high = 1.0 if p == 1.0 else max(p, min(1.0, center + half))
    return low, high


def _segment_sum(x: np.ndarray, seg: np.ndarray, n_seg: int) -> np.ndarray:
    """(n_seg, M) sums of the rows of x (Q, M) by segment id seg (Q,)."""
    return np.stack([np.bincount(seg, weights=x[:, j], minlength=n_seg) for j in range(x.shape[1])], axis=1)
