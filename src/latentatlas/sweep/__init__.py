"""Sweeps: a grid of config values x seeds x folds, run one after another into one resumable directory.

```
plan = plan_sweep("configs/shapes-vae.yaml", {"loss.beta": [0.5, 1, 2]}, seeds=3, folds=None, overrides=[])
run_sweep(plan, "runs/sweep-beta")     # runs/sweep-beta/sweep.json + runs/sweep-beta/runs/<name>/
write_sweep_report("runs/sweep-beta")  # runs/sweep-beta/report/report.html
submit_sweep(plan, "runs/sweep-beta", ExecutorOptions("slurm", partition="gpu"))  # one submitit job per run
```

Seeds: an int `n` means the config's own seed plus 0..n-1 (so `seeds=1` reproduces a plain `latentatlas train`);
a list is used as given. Folds: `k` adds `data.images.folds=k data.images.fold=i` for i in 0..k-1. Seeds and folds
vary slowest, so an interrupted sweep has already tried every grid combination once. Layout and resume rules:
docs/sweeps.md.
"""

from latentatlas.sweep.executor import ExecutorOptions, Submission, submit_sweep
from latentatlas.sweep.plan import SweepPlan, SweepRun, load_sweep_plan, plan_sweep
from latentatlas.sweep.record import SWEEP_FILE, read_sweep_record, run_state
from latentatlas.sweep.report import write_sweep_report
from latentatlas.sweep.run import SweepOutcome, check_sweep_dir, run_sweep
from latentatlas.sweep.summary import summarize_sweep

__all__ = [
    "SWEEP_FILE",
    "ExecutorOptions",
    "Submission",
    "SweepOutcome",
    "SweepPlan",
    "SweepRun",
    "check_sweep_dir",
    "load_sweep_plan",
    "plan_sweep",
    "read_sweep_record",
    "run_state",
    "run_sweep",
    "submit_sweep",
    "summarize_sweep",
    "write_sweep_report",
]
