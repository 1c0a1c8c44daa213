"""`latentatlas sweep --executor local`: each grid point a submitit job in the same resumable sweep folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from latentatlas.cli.main import main
from latentatlas.sweep import ExecutorOptions, plan_sweep, run_sweep, submit_sweep
from latentatlas.sweep.executor import pending_points
from tests.test_sweep import TINY

pytest.importorskip("submitit")
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_local_jobs_train_every_point_and_a_rerun_submits_only_the_missing(tmp_path, capsys):
    out = tmp_path / "sw"
    argv = ["sweep", "configs/shapes-ae.yaml", "--grid", "train.lr=0.002,0.001", "--out", str(out), *TINY,
            "--executor", "local", "--max-parallel", "2", "--time", "10", "--no-report"]  # fmt: skip
    assert main(argv) == 0
    assert "2 of 2 runs submitted (local jobs" in capsys.readouterr().out
    record = json.loads((out / "sweep.json").read_text())
    assert [r["status"] for r in record["runs"]] == ["done", "done"]
    names = [r["name"] for r in record["runs"]]
    for name in names:
        summary = json.loads((out / "runs" / name / "summary.json").read_text())
        assert summary["epochs_trained"] == 1
    assert not list(out.glob("runs/*/.lock")) and len(list((out / "submitit").iterdir())) == 2  # a folder per job
    plan = plan_sweep("configs/shapes-ae.yaml", {"train.lr": [0.002, 0.001]}, overrides=TINY)
    again = submit_sweep(plan, out, ExecutorOptions("local", time_min=10))
    assert again.submitted == [] and [r["status"] for r in again.outcome.runs] == ["done", "done"]
    # one point lost its results: only it is submitted, the other's folder is not touched
    kept = (out / "runs" / names[0] / "summary.json").stat().st_mtime_ns
    shutil.rmtree(out / "runs" / names[1])
    third = submit_sweep(plan, out, ExecutorOptions("local", time_min=10))
    assert third.submitted == [names[1]] and [r["status"] for r in third.outcome.runs] == ["done", "done"]
    assert (out / "runs" / names[0] / "summary.json").stat().st_mtime_ns == kept


def test_points_held_by_a_live_worker_or_finished_are_not_submitted(tmp_path):
    plan = plan_sweep("configs/shapes-ae.yaml", {"train.lr": [0.002, 0.001, 0.003]}, overrides=TINY)
    out = tmp_path / "sw"
    for run in plan:
        (out / "runs" / run.name).mkdir(parents=True)
    (out / "runs" / plan[0].name / "summary.json").write_text("{}")
    held = out / "runs" / plan[1].name
    code = (f"from latentatlas.train.lock import claim; claim({str(held)!r}); print('held', flush=True); "
            "import sys; sys.stdin.read()")  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    worker = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                              text=True)  # fmt: skip
    try:
        assert worker.stdout.readline().strip() == "held"
        assert pending_points(plan, out) == [plan[2].name]
    finally:
        worker.communicate("", timeout=30)
    assert pending_points(plan, out) == [plan[1].name, plan[2].name]  # the worker ended: its point is free again


def test_slurm_points_are_one_job_array_with_the_options(tmp_path, monkeypatch, capsys):
    """A stand-in `sbatch` (and `srun`) on PATH: the submission script submitit writes carries the options."""
    import submitit

    from latentatlas.sweep.executor import PointJob

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sbatch", "srun"):
        (bin_dir / tool).write_text(f'#!/bin/sh\necho "$@" >> {bin_dir}/calls\necho "Submitted batch job 4242"\n')
        (bin_dir / tool).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    out = tmp_path / "sw"
    argv = ["sweep", "configs/shapes-ae.yaml", "--grid", "train.lr=0.002,0.001,0.003", "--out", str(out), *TINY,
            "--executor", "slurm", "--partition", "gpu", "--time", "90", "--cpus-per-task", "8",
            "--gpus-per-node", "1", "--max-parallel", "2"]  # fmt: skip
    run_sweep(plan_sweep("configs/shapes-ae.yaml", {"train.lr": [0.002, 0.001, 0.003]}, overrides=TINY), out, only=())
    (out / "runs" / "train.lr=0.001,seed=0").mkdir(parents=True)
    (out / "runs" / "train.lr=0.001,seed=0" / "summary.json").write_text("{}")  # finished before: not submitted
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "2 of 3 runs submitted (slurm jobs" in printed and "job 4242_1: train.lr=0.003,seed=0" in printed
    script = next(out.glob("submitit/4242/*_submission.sh")).read_text()
    for line in ("--array=0-1%2", "--partition=gpu", "--time=90", "--cpus-per-task=8", "--gpus-per-node=1"):
        assert f"#SBATCH {line}\n" in script
    job = submitit.core.utils.DelayedSubmission.load(next(out.glob("submitit/4242_1/*_submitted.pkl")))
    assert isinstance(job.function, PointJob) and job.function.name == "train.lr=0.003,seed=0"
    again = job.function.checkpoint()  # what submitit requeues at the time limit: the same point
    assert again.function.name == job.function.name and again.function.out_dir == str(out)
    record = json.loads((out / "sweep.json").read_text())
    assert [r["status"] for r in record["runs"]] == ["pending", "done", "pending"]


def test_a_job_that_died_is_recorded_failed_and_submitted_again(tmp_path):
    from latentatlas.sweep.executor import _settle

    class DeadJob:
        job_id = "77"
        paths = None

        def result(self):
            raise RuntimeError("Job 77 (task: 0) failed\nslurmstepd: error: *** JOB 77 CANCELLED DUE TO TIME LIMIT ***")

    plan = plan_sweep("configs/shapes-ae.yaml", {"train.lr": [0.002, 0.001]}, overrides=TINY)
    out = tmp_path / "sw"
    run_sweep(plan, out, only=())
    _settle(out, plan[1].name, DeadJob())
    runs = json.loads((out / "sweep.json").read_text())["runs"]
    assert [r["status"] for r in runs] == ["pending", "failed"]
    assert runs[1]["error"] == "job 77: RuntimeError: slurmstepd: error: *** JOB 77 CANCELLED DUE TO TIME LIMIT ***"
    assert pending_points(plan, out) == [plan[0].name, plan[1].name]
