"""Sweeps through submitit: each grid point a job, on Slurm or in local processes, in the same resumable folder.

The folder works as with `run_sweep`: each job runs `run_sweep(plan, out, only={its point})`, so it claims its run
folder's lock (a point another live worker holds is left alone), resumes a half-done run from its checkpoint,
and merges its status into sweep.json under the sweep's lock. Submitting again submits only the points that are
neither finished nor held by a live worker: the missing and the failed ones. submitit is an optional extra
(`pip install 'latentatlas[cluster]'`), imported only here. See docs/sweeps.md.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from latentatlas.errors import ConfigError, LatentAtlasError
from latentatlas.sweep.plan import SweepPlan
from latentatlas.sweep.record import read_sweep_record, run_state
from latentatlas.sweep.run import SweepOutcome, record_status, run_sweep
from latentatlas.train.lock import claim, release

__all__ = ["EXECUTORS", "ExecutorOptions", "PointJob", "Submission", "check_executor", "pending_points", "submit_sweep"]

log = logging.getLogger("latentatlas")
EXECUTORS = ("local", "slurm")
SUBMITIT_DIR = "submitit"  # job scripts, pickles and logs, inside the sweep folder


@dataclass
class ExecutorOptions:
    """Where and how the jobs run.

    Attributes:
        kind: "local" (processes on this machine) or "slurm".
        partition: Slurm partition (None: the cluster's default).
        time_min: time limit per job, minutes.
        cpus_per_task, gpus_per_node, mem_gb: per job (None: the cluster's default; local jobs see every core).
        max_parallel: most jobs running at once (local default 1: a run uses every core; Slurm default: no limit
            beyond the cluster's, as a job array's parallelism).
        wait: wait for the jobs (always for local jobs; Slurm jobs are left to the queue unless asked).
    """

    kind: str = "local"
    partition: str | None = None
    time_min: int = 240
    cpus_per_task: int | None = None
    gpus_per_node: int | None = None
    mem_gb: int | None = None
    max_parallel: int | None = None
    wait: bool = False

    def validate(self) -> None:
        if self.kind not in EXECUTORS:
            raise ConfigError(f"--executor {self.kind!r} is unknown; use one of {', '.join(EXECUTORS)}")
        for name in ("time_min", "cpus_per_task", "mem_gb", "max_parallel"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"--{_flag(name)} {value}: give 1 or more")
        if self.gpus_per_node is not None and self.gpus_per_node < 0:
            raise ConfigError(f"--gpus-per-node {self.gpus_per_node}: give 0 or more")
        if self.kind == "local" and self.partition is not None:
            raise ConfigError("--partition is a Slurm option; drop it or use --executor slurm")


def _flag(name: str) -> str:
    return {"time_min": "time"}.get(name, name.replace("_", "-"))


@dataclass
class Submission:
    """What `submit_sweep` did: the sweep folder, the submitted points and their job ids, and, when it waited,
    the outcome read back from sweep.json."""

    out_dir: Path
    submitted: list[str]
    job_ids: dict[str, str] = field(default_factory=dict)
    outcome: SweepOutcome | None = None


def check_executor(options: ExecutorOptions) -> Any:
    """The submitit module, after checking that it and (for Slurm) `sbatch` are there; LatentAtlasError if not."""
    options.validate()
    try:
        import submitit
    except ImportError:
        raise LatentAtlasError(
            f"--executor {options.kind} needs submitit, which is not installed; pip install 'latentatlas[cluster]'"
        ) from None
    missing = [tool for tool in ("sbatch", "srun") if shutil.which(tool) is None] if options.kind == "slurm" else []
    if missing:  # submitit submits with sbatch and needs srun to start the job's task
        raise LatentAtlasError(
            f"--executor slurm: no Slurm found (no {' or '.join(missing)} on PATH); submit from a Slurm login node, "
            "or use --executor local"
        )
    return submitit


def pending_points(plan: SweepPlan, out_dir: str | Path) -> list[str]:
    """The points to submit: not finished, and not held by a live worker (missing, failed or interrupted ones)."""
    names = []
    for run in plan:
        run_dir = Path(out_dir) / "runs" / run.name
        if run_state(run_dir) == "done":
            continue
        if run_dir.is_dir() and not run_dir.is_symlink():
            if not claim(run_dir):
                log.info("%s: being trained by another worker, not submitted", run.name)
                continue
            release(run_dir)
        names.append(run.name)
    return names


def run_point(plan: SweepPlan, out_dir: str, name: str) -> dict[str, Any]:
    """Run grid point `name` of the sweep in `out_dir` here; returns its sweep.json entry."""
    outcome = run_sweep(plan, out_dir, progress=False, only={name})
    return next(r for r in outcome.runs if r["name"] == name)


class PointJob:
    """What one job runs: `run_point(plan, out_dir, name)`. Checkpointable in submitit's sense: at the time limit
    or on preemption submitit calls `checkpoint` and requeues the job (up to 3 times), which then resumes the run
    from its last epoch checkpoint."""

    def __init__(self, plan: SweepPlan, out_dir: str, name: str):
        self.plan, self.out_dir, self.name = plan, out_dir, name

    def __call__(self) -> dict[str, Any]:
        return run_point(self.plan, self.out_dir, self.name)

    def checkpoint(self, *args: Any, **kwargs: Any) -> Any:
        import submitit

        return submitit.helpers.DelayedSubmission(PointJob(self.plan, self.out_dir, self.name))


def _executor(submitit: Any, out: Path, options: ExecutorOptions) -> Any:
    executor = submitit.AutoExecutor(folder=out / SUBMITIT_DIR / "%j", cluster=options.kind)
    params: dict[str, Any] = {
        "name": f"latentatlas-{out.name}"[:60],
        "timeout_min": options.time_min,
        "cpus_per_task": options.cpus_per_task,
        "gpus_per_node": options.gpus_per_node,
        "mem_gb": options.mem_gb,
    }
    if options.kind == "slurm":
        params["slurm_partition"] = options.partition
        if options.max_parallel is not None:
            params["slurm_array_parallelism"] = options.max_parallel
    executor.update_parameters(**{k: v for k, v in params.items() if v is not None})
    return executor


def _tidy(out: Path) -> None:
    with contextlib.suppress(OSError):  # submitit makes the folder pattern itself a folder too (empty, unused)
        (out / SUBMITIT_DIR / "%j").rmdir()


def submit_sweep(plan: SweepPlan, out_dir: str | Path, options: ExecutorOptions) -> Submission:
    """Submit each unfinished grid point of `plan` as one submitit job writing into `out_dir`.

    Local jobs run at most `max_parallel` (default 1) at a time, and this waits for all of them. Slurm jobs are
    one job array; this returns once they are queued, unless `options.wait`. A job that dies without recording
    its end (killed, out of time) is recorded as failed, so that the next submission retries it.

    Raises:
        LatentAtlasError: submitit or Slurm missing, bad options, or `out_dir` holds another sweep (checked before
            anything is written).
    """
    submitit = check_executor(options)
    out = Path(out_dir)
    run_sweep(plan, out, only=set())  # checks the folder, writes sweep.json; runs nothing
    names = pending_points(plan, out)
    sub = Submission(out, names)
    if not names:
        sub.outcome = SweepOutcome(out, read_sweep_record(out).get("runs", []))
        return sub
    executor = _executor(submitit, out, options)
    if options.kind == "slurm":
        with executor.batch():
            jobs = {name: executor.submit(PointJob(plan, str(out), name)) for name in names}
        sub.job_ids = {name: job.job_id for name, job in jobs.items()}
        _tidy(out)
        if not options.wait:
            return sub
        for name, job in jobs.items():
            _settle(out, name, job)
    else:
        _run_local(executor, plan, out, names, options.max_parallel or 1, sub)
        _tidy(out)
    sub.outcome = SweepOutcome(out, read_sweep_record(out).get("runs", []))
    return sub


def _run_local(executor: Any, plan: SweepPlan, out: Path, names: list[str], parallel: int, sub: Submission) -> None:
    """Local jobs, at most `parallel` at a time, waited for."""
    queue, active = list(names), {}
    while queue or active:
        while queue and len(active) < parallel:
            name = queue.pop(0)
            active[name] = executor.submit(PointJob(plan, str(out), name))
            sub.job_ids[name] = active[name].job_id
            log.info("%s: job %s", name, active[name].job_id)
        finished = [name for name, job in active.items() if job.done()]
        for name in finished:
            _settle(out, name, active.pop(name))
        if not finished:
            time.sleep(0.2)


def _settle(out: Path, name: str, job: Any) -> None:
    """Wait for `job`; if it died without finishing its run, record the run as failed with the job's error."""
    try:
        job.result()
    except Exception as exc:  # the job process itself failed: killed, out of time, cannot unpickle...
        if run_state(out / "runs" / name) != "done":
            text = str(exc).strip().splitlines()
            error = f"job {job.job_id}: {type(exc).__name__}: {text[-1] if text else ''}"
            log.error("%s failed: %s (log: %s)", name, error, getattr(job.paths, "stdout", ""))
            record_status(out, name, status="failed", error=error[:500])
