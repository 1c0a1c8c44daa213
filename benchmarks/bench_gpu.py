"""Retrieval and analyze on a GPU (device auto): the same code as on the CPU, timed on both, values compared.

Runs only where CUDA is available; elsewhere the section says it was skipped. Each measurement runs in a fresh
subprocess (bench_analysis's `_measure`) on seeded random clustered data; GPU times include moving the data to the
GPU and a warm-up call on 2,000 points first (CUDA context and kernels), and end with `torch.cuda.synchronize()`.
Usage: `python -m benchmarks.bench_gpu [--quick]` or `python -m benchmarks.run_all --only bench_gpu`.
"""

from __future__ import annotations

import sys

import torch

from benchmarks.bench_analysis import PML_KEYS, _max_diff, _measure

RETRIEVAL = """
from latentatlas.analysis.retrieval import retrieval_metrics
dev = torch.device("{device}")
x, y = data({n}, {d}, {c})
retrieval_metrics(x[:2000].to(dev), y[:2000].to(dev))
if dev.type == "cuda":
    torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
t = time.perf_counter()
res = retrieval_metrics(x.to(dev), y.to(dev), metric="cosine", queries={queries})
if dev.type == "cuda":
    torch.cuda.synchronize()
gpu_mb = torch.cuda.max_memory_allocated() / 2**20 if dev.type == "cuda" else None
out = dict(seconds=time.perf_counter() - t, gpu_mb=gpu_mb, value=res)
"""

ANALYZE = """
from latentatlas.analysis.analyze import analyze
x, y = data({n}, {d}, {c})
analyze(x[:2000].numpy(), y[:2000].numpy(), device="{device}")
t = time.perf_counter()
res = analyze(x.numpy(), y.numpy(), device="{device}", queries={queries})
if torch.cuda.is_available():
    torch.cuda.synchronize()
out = dict(seconds=time.perf_counter() - t, value=res.retrieval)
"""


def run(quick: bool = False) -> str:
    """Markdown section: CPU vs GPU times of exact retrieval and of analyze, or why it was skipped."""
    lines = ["## Retrieval and analyze on a GPU", ""]
    if not torch.cuda.is_available():
        return "\n".join(lines + ["skipped: no CUDA (torch.cuda.is_available() is False on this machine).", ""])
    lines += [__doc__.split("\n\n")[1].replace("\n", " "), "", f"GPU: {torch.cuda.get_device_name(0)}.", ""]
    lines += ["| what | N | classes | CPU (s) | GPU (s) | speed-up | GPU peak (MiB) | largest difference |"]
    lines += ["|---|---|---|---|---|---|---|---|"]
    sizes = [(5_000, 10), (5_000, 100)] if quick else [(50_000, 10), (50_000, 100), (200_000, 10)]
    for n, c in sizes:
        cpu = _measure(RETRIEVAL, device="cpu", n=n, d=128, c=c, queries=None)
        gpu = _measure(RETRIEVAL, device="cuda", n=n, d=128, c=c, queries=None)
        diff = max(_max_diff(cpu["value"][k], gpu["value"][k]) for k in PML_KEYS)
        lines.append(f"| exact retrieval | {n:,} | {c} | {cpu['seconds']:.2f} | {gpu['seconds']:.2f} | "
                     f"{cpu['seconds'] / gpu['seconds']:.1f}x | {gpu['gpu_mb']:.0f} | {diff:.1e} |")  # fmt: skip
    n, q = (20_000, 1_000) if quick else (1_000_000, 10_000)
    cpu = _measure(ANALYZE, device="cpu", n=n, d=128, c=10, queries=q)
    gpu = _measure(ANALYZE, device="cuda", n=n, d=128, c=10, queries=q)
    diff = max(_max_diff(cpu["value"][k], gpu["value"][k]) for k in PML_KEYS)
    lines.append(f"| analyze, {q:,} sampled queries | {n:,} | 10 | {cpu['seconds']:.2f} | {gpu['seconds']:.2f} | "
                 f"{cpu['seconds'] / gpu['seconds']:.1f}x | | {diff:.1e} |")  # fmt: skip
    lines += ["", "Differences come from float32 products summed in another order on the GPU (near-ties may swap).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
