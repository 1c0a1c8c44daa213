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

from latentatlas.analysis.retrieval_blocks import COUNTING_MIN_FRACTION  # the default the library runs

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
import latentatlas.analysis.retrieval_blocks as blocks
from latentatlas.analysis.retrieval import retrieval_metrics
blocks.COUNTING_MIN_FRACTION = {fraction}  # 1e9: every block ranked by topk to depth R (the former method)
x, y = data({n}, {d}, {c})
base = peak(); t = time.perf_counter()
res = retrieval_metrics(x, y, metric="cosine", dtype=torch.float32, queries={queries})
out = dict(seconds=time.perf_counter() - t, extra_mb=peak() - base, value=res)
"""

# The same call with every block reduced to its (block, N) product: the product's share of our time.
PRODUCT_ONLY = """
import latentatlas.analysis.retrieval as R
import latentatlas.analysis.retrieval_blocks as blocks
def product_only(scorer, layout, rows, ks, knn_k, buffer, counting=None):
    blocks._leave_one_out_scores(scorer, layout, rows, buffer)
    return torch.zeros(len(rows), 4 + len(ks), dtype=torch.float64)
R.query_values = product_only
x, y = data({n}, {d}, {c})
t = time.perf_counter()
R.retrieval_metrics(x, y, metric="cosine", dtype=torch.float32)
out = dict(seconds=time.perf_counter() - t)
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

# The whole `analyze` (numbers, figures, report.html) as the command runs it, with sampled queries.
OURS_ANALYZE = """
import tempfile
from pathlib import Path
import latentatlas
x, y = data({n}, {d}, {c})
t = time.perf_counter()
a = latentatlas.analyze(x, y, queries={queries}, seed=0, device="cpu")
numbers = time.perf_counter() - t
a.save(Path(tempfile.mkdtemp()) / "out")
r = a.retrieval
half = max((r[k][1] - r[k][0]) / 2 for k in r if k.endswith("_ci"))
out = dict(seconds=time.perf_counter() - t, numbers_s=numbers, peak_mb=peak(), half=half,
           p1=r["precision_at_1"], p1_ci=r["precision_at_1_ci"], n_subsample=a.spread["n_subsample"])
"""

PML_KEYS = ("precision_at_1", "r_precision", "mean_average_precision_at_r")


def _measure(body: str, timeout: float = 3600, limit_mb: int | None = None, **fmt: object) -> dict:
    """Run one measurement in a fresh subprocess; raise if it fails."""
    out = _try_measure(body, timeout, limit_mb, **fmt)
    if "error" in out:
        raise RuntimeError(f"benchmark subprocess failed: {out['error']}")
    return out


def _try_measure(body: str, timeout: float, limit_mb: int | None, **fmt: object) -> dict:
    """Run one measurement; {"error": what happened} if it fails, is killed, or passes `timeout` seconds.

    limit_mb caps the subprocess's address space (RLIMIT_AS), so that a method that tries to allocate more than
    the machine has fails with an allocation error instead of swapping or waking the OOM killer.
    """
    limit = (
        ""
        if limit_mb is None
        else (f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({limit_mb} * 2**20, {limit_mb} * 2**20))\n")
    )
    code = limit + SETUP + textwrap.dedent(body).format(**fmt) + "\nprint(json.dumps(out))\n"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"error": f"stopped after {timeout:.0f} s (time limit)"}
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        return {"error": (lines[-1] if lines else f"exit code {proc.returncode}")[:300]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _memory_limit_mb() -> int:
    """Three quarters of the machine's memory, in MiB."""
    kb = int(next(ln for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal")).split()[1])
    return int(kb * 0.75 / 1024)


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
        'Ours: float32 similarities (as PML), counting (docs/analysis-math.md); "top-R" is the former method '
        '(every block ranked by `topk` to depth R), run for comparison; "product alone" is the same call with '
        "every block reduced to its (block, N) product, the floor of any exact method that keeps the product.",
        "",
        "| classes | R | method | time (s) | extra peak (MiB) | speed-up vs PML | max difference vs PML | "
        "time / product |",
        "|---|---|---|---|---|---|---|---|",
    ]
    values = []
    for c in (10, 100):
        pml = _measure(PML_RETRIEVAL, n=n, d=128, c=c, batch=batch)
        ours = _measure(OURS_RETRIEVAL, n=n, d=128, c=c, fraction=COUNTING_MIN_FRACTION, queries=None)
        top_r = _measure(OURS_RETRIEVAL, n=n, d=128, c=c, fraction=1e9, queries=None)
        product = _measure(PRODUCT_ONLY, n=n, d=128, c=c)["seconds"]
        lines.append(f"| {c} | ~{n // c - 1:,} | PML 2.9 | {pml['seconds']:.2f} | {pml['extra_mb']:.0f} | 1x | 0 | "
                     f"{pml['seconds'] / product:.1f} |")  # fmt: skip
        for name, r in (("latentatlas", ours), ("latentatlas top-R", top_r)):
            diff = max(abs(r["value"][k] - pml["value"][k]) for k in PML_KEYS)
            lines.append(
                f"| {c} | ~{n // c - 1:,} | {name} | {r['seconds']:.2f} | {r['extra_mb']:.0f} | "
                f"{pml['seconds'] / r['seconds']:.2f}x | {diff:.1e} | {r['seconds'] / product:.1f} |"
            )
        lines.append(f"| {c} | ~{n // c - 1:,} | product alone | {product:.2f} | | | | 1.0 |")
        values.append(f"{c} classes: " + ", ".join(f"{k} = {v:.4f}" for k, v in pml["value"].items()))
    return lines + ["", "Values (PML): " + "; ".join(values) + ".", ""]


def _classes_section(quick: bool) -> list[str]:
    """Ours against the former method (every block ranked by `topk`) at more classes, where R is small: the
    measurement behind `COUNTING_MIN_FRACTION` (10 and 100 classes are in the table above)."""
    n, classes = (5_000, (500,)) if quick else (50_000, (1_000, 10_000))
    lines = [
        f"### Counting against `topk` at small R, N = {n:,}, D = 128",
        "",
        "| classes | R | latentatlas (s) | top-R (s) |",
        "|---|---|---|---|",
    ]
    for c in classes:
        ours = _measure(OURS_RETRIEVAL, n=n, d=128, c=c, fraction=COUNTING_MIN_FRACTION, queries=None)
        top_r = _measure(OURS_RETRIEVAL, n=n, d=128, c=c, fraction=1e9, queries=None)
        lines.append(f"| {c:,} | ~{n // c - 1:,} | {ours['seconds']:.2f} | {top_r['seconds']:.2f} |")
    return lines + [""]


def _large_section(quick: bool) -> list[str]:
    """Exact leave-one-out at N = 200,000 (PML tried within limits), and sampled queries at N = 1,000,000."""
    n, limit_s = (20_000, 300) if quick else (200_000, 1800)
    limit_mb = _memory_limit_mb()
    ours = _measure(OURS_RETRIEVAL, n=n, d=128, c=10, fraction=COUNTING_MIN_FRACTION, queries=None)
    value = ours["value"]
    pml = _try_measure(PML_RETRIEVAL, limit_s, limit_mb, n=n, d=128, c=10, batch=1024)
    pml_text = (
        f"{pml['seconds']:.0f} s, extra peak {pml['extra_mb']:.0f} MiB"
        if "error" not in pml
        else f"did not finish: {pml['error']}"
    )
    lines = [
        f"### Exact leave-one-out retrieval at N = {n:,}, D = 128, 10 classes",
        "",
        f"latentatlas: **{ours['seconds']:.0f} s**, extra peak memory {ours['extra_mb']:.0f} MiB (precision@1 "
        f"{value['precision_at_1']:.4f}, MAP@R {value['mean_average_precision_at_r']:.4f}).",
        "",
        f"PML (same settings as above, limited to {limit_s} s and {limit_mb:,} MiB of address space): {pml_text}.",
        "",
    ]
    n_big, q = (50_000, 1_000) if quick else (1_000_000, 10_000)
    lines += [
        f"### Sampled queries at N = {n_big:,}, D = 128, cosine: `retrieval_metrics(queries={q:,})`",
        "",
        f"{q:,} queries drawn by class (stratified), each scored exactly against all {n_big:,} points; 95% "
        "intervals (docs/analysis-math.md). Half-width = (high - low) / 2.",
        "",
        "| classes | time (s) | extra peak (MiB) | precision@1 | R-precision | MAP@R | largest half-width |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in (10, 1000):
        r = _measure(OURS_RETRIEVAL, n=n_big, d=128, c=c, fraction=COUNTING_MIN_FRACTION, queries=q)
        v = r["value"]
        half = max((v[key][1] - v[key][0]) / 2 for key in v if key.endswith("_ci"))
        cells = [f"{v[k]:.4f} ± {(v[k + '_ci'][1] - v[k + '_ci'][0]) / 2:.4f}" for k in PML_KEYS]
        lines.append(f"| {c} | {r['seconds']:.1f} | {r['extra_mb']:.0f} | " + " | ".join(cells) + f" | {half:.4f} |")
    return lines + [""]


def _analyze_section(quick: bool) -> list[str]:
    """`analyze --queries` end to end (numbers, figures, page) at N = 1,000,000 (quick: 20,000), 10 and 1,000
    classes (quick: 10 and 100)."""
    n, q, classes = (20_000, 500, (10, 100)) if quick else (1_000_000, 10_000, (10, 1000))
    lines = [
        f"### `analyze --queries {q:,}` at N = {n:,}, D = 128, cosine: the whole report",
        "",
        "Class matrix, PCA and ellipses on all rows; spread on its seeded 20,000-row subsample; retrieval on "
        f"{q:,} sampled queries; figures, report.html. Peak = the process's peak resident memory, data included.",
        "",
        "| classes | total (s) | numbers (s) | peak (MiB) | precision@1 (95% interval) | largest half-width |",
        "|---|---|---|---|---|---|",
    ]
    for c in classes:
        r = _measure(OURS_ANALYZE, n=n, d=128, c=c, queries=q)
        lo, hi = r["p1_ci"]
        lines.append(f"| {c:,} | {r['seconds']:.0f} | {r['numbers_s']:.0f} | {r['peak_mb']:,.0f} | "
                     f"{r['p1']:.4f} ({lo:.4f}-{hi:.4f}) | {r['half']:.4f} |")  # fmt: skip
    return lines + [""]


def run(quick: bool = False) -> str:
    """Markdown section: class distance matrix and retrieval timings and memory."""
    lines = ["## Embedding geometry (`latentatlas.analysis`)", "", __doc__.split("\n\n")[1].replace("\n", " "), ""]
    lines += _distance_section(quick)
    lines += _retrieval_section(quick)
    lines += _classes_section(quick)
    lines += _large_section(quick)
    lines += _analyze_section(quick)
    return "\n".join(lines)


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
