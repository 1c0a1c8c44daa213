"""Speed and memory of the embedding-geometry math: class distance matrix and retrieval metrics.

Each measurement runs in a fresh subprocess: it builds seeded random clustered data, notes its peak resident
memory (`resource.getrusage(RUSAGE_SELF).ru_maxrss`, which sees torch's allocations, unlike tracemalloc), runs
the method once, and reports the wall time and the growth of the peak ("extra peak memory" = memory the method
needed beyond the data it was given; a lower bound when it can reuse memory the data generation freed).
Usage: `python -m benchmarks.run_all --only bench_analysis [--quick]`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SETUP = """
import json, resource, time
import numpy as np, torch
def data(n, d, c, seed=0):
    # Filled in chunks, so that building the data leaves no large temporary in the peak memory.
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, c, (n,), generator=g)
    centers = torch.randn(c, d, generator=g) * 0.6
    x = torch.empty(n, d)
    for s in range(0, n, 65536):
        x[s : s + 65536] = centers[labels[s : s + 65536]] + torch.randn(min(65536, n - s), d, generator=g)
    return x, labels
def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # MiB on Linux
"""

OURS_DIST = """
from latentatlas.analysis.distances import class_distance_matrix
x, y = data({n}, {d}, {c})
base = peak(); t = time.perf_counter()
res = class_distance_matrix(x, y, metric="{metric}", exclude_self={exclude_self})
out = dict(seconds=time.perf_counter() - t, extra_mb=peak() - base, value=res.matrix.tolist())
"""

SEED_DIST = """
x, y = data({n}, {d}, {c})
base = peak(); t = time.perf_counter()
# The seed: for every pair of classes, the full |i| x |j| cosine-distance block, then its mean.
u = torch.nn.functional.normalize(x.double(), dim=1)
m = np.zeros(({c}, {c}))
for i in range({c}):
    for j in range({c}):
        m[i, j] = float((1.0 - u[y == i] @ u[y == j].T).mean())
out = dict(seconds=time.perf_counter() - t, extra_mb=peak() - base, value=m.tolist())
"""

OURS_RETRIEVAL = """
from latentatlas.analysis.retrieval import retrieval_metrics
x, y = data({n}, {d}, {c})
base = peak(); t = time.perf_counter()
res = retrieval_metrics(x, y, metric="cosine", dtype=torch.{dtype})
out = dict(seconds=time.perf_counter() - t, extra_mb=peak() - base, value=res)
"""

# where our time goes: the same call with the block steps wrapped in timers (a separate run, so the timers do
# not touch the timing above)
OURS_BREAKDOWN = """
import latentatlas.analysis.retrieval as R
x, y = data({n}, {d}, {c})
spent = dict(product=0.0, topk=0.0, metrics=0.0)
def timed(name, f):
    def g(*a, **k):
        t0 = time.perf_counter(); r = f(*a, **k); spent[name] += time.perf_counter() - t0
        return r
    return g
R._scores, R._ranked_neighbours = timed("product", R._scores), timed("topk", R._ranked_neighbours)
R._block_totals = timed("metrics", R._block_totals)
t = time.perf_counter()
R.retrieval_metrics(x, y, metric="cosine", dtype=torch.float32)
out = dict(seconds=time.perf_counter() - t, **spent)
"""

PML_RETRIEVAL = """
from pytorch_metric_learning.distances import CosineSimilarity
from pytorch_metric_learning.utils.accuracy_calculator import AccuracyCalculator
from pytorch_metric_learning.utils.inference import CustomKNN
x, y = data({n}, {d}, {c})
base = peak(); t = time.perf_counter()
calc = AccuracyCalculator(include=("precision_at_1", "r_precision", "mean_average_precision_at_r"),
                          k="max_bin_count", device=torch.device("cpu"),
                          knn_func=CustomKNN(CosineSimilarity(), batch_size={batch}))
res = calc.get_accuracy(x, y)
out = dict(seconds=time.perf_counter() - t, extra_mb=peak() - base, value=res)
"""


def _measure(body: str, **fmt: object) -> dict:
    code = SETUP + textwrap.dedent(body).format(**fmt) + "\nprint(json.dumps(out))\n"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False, timeout=3600
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _max_diff(a: object, b: object) -> float:
    import numpy as np

    return float(np.max(np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))))


def _distance_section(quick: bool) -> list[str]:
    n_big, n_seed = (20_000, 5_000) if quick else (1_000_000, 20_000)
    lines = ["### Class distance matrix (D = 128, 10 classes)", ""]
    big = _measure(OURS_DIST, n=n_big, d=128, c=10, metric="cosine", exclude_self=True)
    lines += [f"Cosine, N = {n_big:,}: **{big['seconds']:.2f} s**, extra peak memory {big['extra_mb']:.0f} MiB.", ""]
    ours = _measure(OURS_DIST, n=n_seed, d=128, c=10, metric="cosine", exclude_self=False)
    seed = _measure(SEED_DIST, n=n_seed, d=128, c=10)
    lines += [
        f"Against the seed's 100 full pairwise blocks at N = {n_seed:,} (both include self-pairs, as the seed did):",
        "",
        "| method | time (s) | extra peak (MiB) |",
        "|---|---|---|",
        f"| seed: 100 blocks | {seed['seconds']:.3f} | {seed['extra_mb']:.0f} |",
        f"| class sums | {ours['seconds']:.3f} | {ours['extra_mb']:.0f} |",
        "",
        f"Speed-up {seed['seconds'] / ours['seconds']:.1f}x; largest difference between the two matrices "
        f"{_max_diff(seed['value'], ours['value']):.1e}.",
        "",
        "Growth with N (exclude_self=True):",
        "",
        "| metric | N | time (s) | extra peak (MiB) |",
        "|---|---|---|---|",
    ]
    sizes = [2_000, 20_000] if quick else [10_000, 100_000, 1_000_000]
    for metric in ("cosine", "sqeuclidean"):
        for n in sizes:
            r = (
                big
                if (metric == "cosine" and n == n_big)
                else _measure(OURS_DIST, n=n, d=128, c=10, metric=metric, exclude_self=True)
            )
            lines.append(f"| {metric} | {n:,} | {r['seconds']:.3f} | {r['extra_mb']:.0f} |")
    euclid_sizes = [2_000, 4_000] if quick else [10_000, 30_000]
    timings = []
    for n in euclid_sizes:
        r = _measure(OURS_DIST, n=n, d=128, c=10, metric="euclidean", exclude_self=True)
        timings.append(r["seconds"])
        lines.append(f"| euclidean | {n:,} | {r['seconds']:.3f} | {r['extra_mb']:.0f} |")
    per_pair = timings[-1] / (euclid_sizes[-1] ** 2 / 2)
    lines += [
        "",
        f"Euclidean needs all N^2 / 2 pairs: {per_pair * 1e9:.2f} ns per pair at N = {euclid_sizes[-1]:,}, so "
        f"about {per_pair * 5e9:.0f} s at N = 100,000 and {per_pair * 5e11 / 3600:.1f} h at N = 1,000,000 "
        "(quadratic extrapolation, not run).",
        "",
    ]
    return lines


def _retrieval_section(quick: bool) -> list[str]:
    n = 5_000 if quick else 50_000
    batch = 1024
    lines = [
        f"### Retrieval metrics, N = {n:,}, D = 128, 10 and 100 classes",
        "",
        'PML: `AccuracyCalculator(k="max_bin_count")` with `CustomKNN(CosineSimilarity(), batch_size='
        f"{batch})` (faiss is not installed; without a batch size PML would build the full N x N matrix). "
        "Ours: float32 similarities (as PML), queries grouped by class, top max(R_c) per block.",
        "",
        "| classes | R | method | time (s) | extra peak (MiB) | speed-up vs PML | max difference vs PML |",
        "|---|---|---|---|---|---|---|",
    ]
    values, split = [], []
    for c in (10, 100):
        pml = _measure(PML_RETRIEVAL, n=n, d=128, c=c, batch=batch)
        ours = _measure(OURS_RETRIEVAL, n=n, d=128, c=c, dtype="float32")
        parts = _measure(OURS_BREAKDOWN, n=n, d=128, c=c)
        diff = max(abs(ours["value"][k] - v) for k, v in pml["value"].items())
        lines += [
            f"| {c} | ~{n // c - 1:,} | PML 2.9 | {pml['seconds']:.2f} | {pml['extra_mb']:.0f} | 1x | 0 |",
            f"| {c} | ~{n // c - 1:,} | latentatlas | {ours['seconds']:.2f} | {ours['extra_mb']:.0f} | "
            f"{pml['seconds'] / ours['seconds']:.2f}x | {diff:.1e} |",
        ]
        values.append(f"{c} classes: " + ", ".join(f"{k} = {v:.4f}" for k, v in pml["value"].items()))
        split.append(
            f"| {c} | {parts['seconds']:.2f} | "
            + " | ".join(f"{parts[k]:.2f} ({parts[k] / parts['seconds']:.0%})" for k in ("product", "topk", "metrics"))
            + f" | {pml['seconds'] / parts['product']:.1f}x |"
        )
    return lines + [
        "",
        "Values (PML): " + "; ".join(values) + ".",
        "",
        "Where our time goes (a separate run with the block steps timed): the (block, N) similarity product, the "
        "top-k selection with its tie ordering, and the metrics from the neighbour tables; the last column is "
        "PML's total over our product alone, a bound on any speed-up that keeps the product.",
        "",
        "| classes | total (s) | product (s) | top-k (s) | metrics (s) | PML total / our product |",
        "|---|---|---|---|---|---|",
        *split,
        "",
    ]


def run(quick: bool = False) -> str:
    """Markdown section: class distance matrix and retrieval timings and memory."""
    lines = ["## Embedding geometry (`latentatlas.analysis`)", "", __doc__.split("\n\n")[1].replace("\n", " "), ""]
    lines += _distance_section(quick)
    lines += _retrieval_section(quick)
    return "\n".join(lines)


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
