"""Retrieval sharded over torchrun processes (gloo on CPU): every process gets the values one process computes.

Two processes are started with torch.multiprocessing (the library) and with `python -m torch.distributed.run`
(the `latentatlas analyze` command, unchanged); each scores its share of the queries and the shares are gathered.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from latentatlas.analysis.retrieval import retrieval_metrics
from latentatlas.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def _data(seed: int = 0, n: int = 90) -> tuple[np.ndarray, np.ndarray]:
    """Quantized (heavily tied) embeddings in imbalanced classes, with a one-member class (a lone query)."""
    rng = np.random.default_rng(seed)
    labels = np.concatenate([np.repeat([0, 1, 2, 3], [n // 2, n // 4, n // 4 - 3, 2]), [4]])
    x = rng.normal(size=(5, 6))[labels] * 0.8 + rng.normal(size=(len(labels), 6))
    return (np.round(x * 2) / 2).astype(np.float32), labels


CASES = [  # keyword arguments of retrieval_metrics; block sizes that cut the shares unevenly
    {},
    {"block_size": 7},
    {"metric": "euclidean", "block_size": 5, "dtype": torch.float64},
    {"queries": 40, "seed": 3, "block_size": 6},
]


def _worker(rank: int, world: int, port: int, out: str, threads: int) -> None:
    # The parent's thread count: a float product's rounding may depend on it (and near-ties break by the bits).
    torch.set_num_threads(threads)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        x, labels = _data()
        results = [retrieval_metrics(x, labels, k=(1, 5), shard=True, **kw) for kw in CASES]
        try:  # two processes, one sampled query: refused on every rank alike (no collective hangs)
            retrieval_metrics(x, labels, queries=1, shard=True)
            refused = ""
        except ConfigError as exc:
            refused = str(exc)
        Path(out, f"{rank}.json").write_text(json.dumps({"results": results, "refused": refused}))
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_gloo_processes_equal_one_process(tmp_path):
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path), torch.get_num_threads()), nprocs=2, join=True)
    x, labels = _data()
    single = [retrieval_metrics(x, labels, k=(1, 5), **kw) for kw in CASES]
    for rank in (0, 1):
        got = json.loads((tmp_path / f"{rank}.json").read_text())
        for mine, ref in zip(got["results"], single):
            assert mine.keys() == ref.keys()
            assert mine == json.loads(json.dumps(ref))  # the same bits: the same blocks, summed in one order
        assert "2 processes for 1 scored queries" in got["refused"] and "--nproc_per_node" in got["refused"]


def test_shard_alone_is_the_plain_computation(rng):
    x, labels = _data(int(rng.integers(1000)))
    assert retrieval_metrics(x, labels, shard=True, block_size=4) == retrieval_metrics(x, labels, block_size=4)


@pytest.mark.slow
def test_analyze_under_torchrun_writes_once_with_one_process_values(tmp_path):
    x, labels = _data(1)
    np.savez(tmp_path / "emb.npz", embeddings=x, labels=labels[:-1].tolist() + [3])  # no lone class for analyze
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": str(torch.get_num_threads())}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "latentatlas", "analyze", str(tmp_path / "emb.npz"), "--out", str(tmp_path / "out"),
           "--device", "cpu"]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("report: ") == 1  # rank 1 scored its share and left quietly
    written = json.loads((tmp_path / "out" / "analysis.json").read_text())["retrieval"]
    ref = retrieval_metrics(x, np.array(labels[:-1].tolist() + [3]), k=(1, 5, 10), knn_k=10)
    for key, value in ref.items():
        if isinstance(value, float):
            assert written[key] == pytest.approx(value, abs=1e-12), key
