"""A sweep worker for tests/test_sweep_workers.py: runs `run_sweep` with a stand-in `train` that logs which run
it trained (and for how long), so that the test can check that two workers never train the same grid point."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def fake_train(config, runs_root="runs", run_dir=None, resume=None, progress=None):
    d = Path(resume if resume is not None else run_dir)
    with open(d.parent.parent / "trained.log", "a") as fh:
        fh.write(f"{os.getpid()} {d.name} start\n")
    time.sleep(0.3)
    (d / "summary.json").write_text(json.dumps({"val_loss": 1.0}))
    with open(d.parent.parent / "trained.log", "a") as fh:
        fh.write(f"{os.getpid()} {d.name} end\n")


def main(config: str, out: str) -> None:
    from latentatlas.sweep import plan_sweep, run_sweep
    from latentatlas.sweep import run as sweep_run

    sweep_run.train = fake_train
    plan = plan_sweep(config, {"loss.beta": [0.5, 1, 2, 4, 8, 16]})
    outcome = run_sweep(plan, out)
    print(json.dumps([r["status"] for r in outcome.runs]))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
