"""Exact retrieval sharded over 2 torchrun processes (gloo) against one process, on this machine's cores.

`python -m torch.distributed.run --standalone --nproc_per_node 2` runs a script that calls
`retrieval_metrics(..., shard=True)` on seeded random clustered data (N x 128, 10 classes); each process uses
cores / 2 torch threads, the one process all of them. Times are from the call to its return on rank 0 (after a
warm-up call and a barrier), without starting the processes. On a 2-core machine no speed-up is expected: the two
processes share the cores one process already uses; the point is the same values (compared exactly).
Usage: `python -m benchmarks.bench_torchrun [--quick]` or `python -m benchmarks.run_all --only bench_torchrun`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import json, os, sys, time
import torch
import torch.distributed as dist
from latentatlas.analysis.retrieval import retrieval_metrics
from latentatlas.dist import join_from_env, rank
n, threads = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
join_from_env(torch.device("cpu"))
g = torch.Generator().manual_seed(0)
labels = torch.randint(0, 10, (n,), generator=g)
x = (torch.randn(10, 128, generator=g) * 0.6)[labels] + torch.randn(n, 128, generator=g)
retrieval_metrics(x[:500], labels[:500], shard=dist.is_initialized())  # warm-up: thread pools, first calls
if dist.is_initialized():
    dist.barrier()
t = time.perf_counter()
res = retrieval_metrics(x, labels, shard=dist.is_initialized())
seconds = time.perf_counter() - t
if rank() == 0:
    print(json.dumps(dict(seconds=seconds, value=res)))
"""


def _run(script: Path, n: int, processes: int) -> dict:
    cores = len(os.sched_getaffinity(0))
    head = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes)]
    cmd = (head if processes > 1 else [sys.executable]) + [str(script), str(n), str(max(1, cores // processes))]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": str(max(1, cores // processes))}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(quick: bool = False) -> str:
    """Markdown section: one process vs 2 torchrun processes, times and whether the values are equal."""
    n = 3_000 if quick else 50_000
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "shard.py"
        script.write_text(SCRIPT)
        one, two = _run(script, n, 1), _run(script, n, 2)
    same = one["value"] == two["value"]
    lines = ["## Retrieval over torchrun processes", "", __doc__.split("\n\n")[1].replace("\n", " "), ""]
    lines += ["| processes | N | time (s) | values |", "|---|---|---|---|"]
    lines += [f"| 1 | {n:,} | {one['seconds']:.2f} | |"]
    lines += [f"| 2 (gloo) | {n:,} | {two['seconds']:.2f} | {'equal to one process' if same else 'DIFFERENT'} |"]
    lines += ["", f"{os.cpu_count()} cores here (no speed-up is expected on 2 cores). Processes share whole blocks of "
              "queries, so at small N (one block) the second process idles.", ""]  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
