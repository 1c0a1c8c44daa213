"""Several workers on one sweep folder: each grid point is claimed through its run folder's lock, so no point is
trained twice, and sweep.json ends with every worker's results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_two_workers_never_train_the_same_point(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"name": "c", "train": {"epochs": 1, "progress": False}}))
    out = tmp_path / "sw"
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    cmd = [sys.executable, str(ROOT / "tests" / "sweep_worker.py"), str(config), str(out)]
    workers = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]  # fmt: skip
    results = [w.communicate(timeout=300) for w in workers]
    assert all(w.returncode == 0 for w in workers), [r[1] for r in results]
    log = [line.split() for line in (out / "trained.log").read_text().splitlines()]
    started = [name for _, name, what in log if what == "start"]
    assert sorted(started) == sorted(set(started)) and len(started) == 6  # each point trained exactly once
    record = json.loads((out / "sweep.json").read_text())
    assert [r["status"] for r in record["runs"]] == ["done"] * 6
    assert not list(out.glob("runs/*/.lock"))
