"""Running a sweep: every run of a plan in turn into one resumable directory, failures recorded, not fatal."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import shutil
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from latentatlas.errors import LatentAtlasError
from latentatlas.jsonio import write_json
from latentatlas.sweep.plan import SweepPlan, plain
from latentatlas.sweep.record import SWEEP_FILE, read_sweep_record, run_state
from latentatlas.tasks.pipeline import train
from latentatlas.train.lock import LOCK_NAME, claim, holder, release, waiting_lock

__all__ = ["SweepOutcome", "check_sweep_dir", "record_status", "run_sweep", "sweep_lock"]

log = logging.getLogger("latentatlas")
SWEEP_LOCK = ".sweep.lock"  # the sweep folder's short lock (sweep.json, the report); never removed


def check_sweep_dir(plan: SweepPlan, out_dir: str | Path) -> dict[str, Any] | None:
    """Refuse a directory that holds something else than this sweep; returns its previous sweep.json, if any."""
    out = Path(out_dir)
    if not out.exists():
        return None
    if not out.is_dir():
        raise LatentAtlasError(f"{out}: is a file, not a sweep directory; use another --out")
    if not (out / SWEEP_FILE).exists():
        # A sweep's own traces before its first sweep.json: the lock file and an empty runs/.
        if any(p.name != SWEEP_LOCK and not (p.name == "runs" and _empty_dir(p)) for p in out.iterdir()):
            raise LatentAtlasError(f"sweep directory {out} exists and holds no {SWEEP_FILE}; use another --out")
        return None
    old = read_sweep_record(out)
    new = plan.identity()
    before = {
        "base_config": plain(old.get("base_config")),
        "grid": {k: sorted(json.dumps(v) for v in vs) for k, vs in (old.get("grid") or {}).items()},
        "folds": old.get("folds"),
    }
    if before != new:
        what = [k for k in new if before[k] != new[k]]
        raise LatentAtlasError(
            f"sweep directory {out} was made for config {old.get('config_path')} with another "
            f"{' and '.join(w.replace('_', ' ') for w in what)}; use another --out"
        )
    return old


def _empty_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink() and not any(path.iterdir())


@dataclass
class SweepOutcome:
    """What `run_sweep` did: the sweep directory and one status dict per run (as in sweep.json)."""

    out_dir: Path
    runs: list[dict[str, Any]]

    @property
    def failed(self) -> list[str]:
        return [r["name"] for r in self.runs if r["status"] == "failed"]


def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


@contextlib.contextmanager
def sweep_lock(out: str | Path) -> Iterator[None]:
    """Hold the sweep folder's short lock (waiting for it): one worker at a time rewrites sweep.json or the report."""
    with waiting_lock(Path(out) / SWEEP_LOCK):
        yield


def _save(out: Path, plan: SweepPlan, runs: list[dict[str, Any]], created: str, mine: set[str]) -> None:
    """Write sweep.json: this worker's entries (`mine`) as it knows them, the others as other workers wrote them."""
    with sweep_lock(out):
        _write_record(out, plan, runs, created, mine)


def _write_record(out: Path, plan: SweepPlan, runs: list[dict[str, Any]], created: str, mine: set[str]) -> None:
    """`_save` with the sweep lock already held."""
    try:
        disk = {r.get("name"): r for r in read_sweep_record(out).get("runs", [])}
    except LatentAtlasError:
        disk = {}
    for entry in runs:
        if entry["name"] not in mine and entry["name"] in disk:
            entry.update({k: v for k, v in disk[entry["name"]].items() if k != "name"})
    write_json(out / SWEEP_FILE, {**plan.record(), "created": created, "updated": _now(), "runs": runs})


def record_status(out_dir: str | Path, name: str, **fields: Any) -> None:
    """Update run `name`'s entry of sweep.json (e.g. a cluster job that died before it could say so itself)."""
    out = Path(out_dir)
    with sweep_lock(out):
        record = read_sweep_record(out)
        for entry in record.get("runs", []):
            if entry.get("name") == name:
                entry.update(fields)
        write_json(out / SWEEP_FILE, {**record, "updated": _now()})


def _clear(run_dir: Path) -> None:
    """Remove what a run killed before its first checkpoint left, but not the lock this worker holds on it."""
    if run_dir.is_symlink() or run_dir.is_file():
        run_dir.unlink()
        return
    for child in run_dir.iterdir() if run_dir.is_dir() else []:
        if child.name == LOCK_NAME:
            continue
        shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()


def run_sweep(
    plan: SweepPlan, out_dir: str | Path, progress: bool | None = None, only: Collection[str] | None = None
) -> SweepOutcome:
    """Run every run of `plan` in turn into `out_dir/runs/<name>/`, skipping finished ones and resuming others.

    A run whose `summary.json` exists is skipped; one with a checkpoint but no summary continues from it; any other
    leftover folder is cleared and the run starts again. A run that raises is recorded as `failed` (with its error)
    in sweep.json and the sweep goes on. `progress` shows or hides each run's bar. Several workers may run the
    same sweep at once: each claims a run through its folder's lock (a run another live worker holds is skipped),
    and sweep.json keeps every worker's statuses. `only`: the names of the runs to run (a cluster job's one grid
    point; an empty set writes sweep.json and runs nothing), None for all.

    Raises:
        LatentAtlasError: `out_dir` holds another sweep or other files (nothing is then touched).
    """
    out = Path(out_dir)
    if not (out / SWEEP_LOCK).is_file():
        check_sweep_dir(plan, out)  # a foreign folder is refused before the lock file is made in it
    out.mkdir(parents=True, exist_ok=True)
    runs = [
        {"name": r.name, "dir": f"runs/{r.name}", "params": r.params, "overrides": r.overrides, "status": "pending"}
        for r in plan
    ]
    mine: set[str] = set()
    with sweep_lock(out):  # the check, runs/ and the first sweep.json at once: a worker starting beside us waits
        old = check_sweep_dir(plan, out)
        created = (old or {}).get("created") or _now()
        (out / "runs").mkdir(exist_ok=True)
        before = {r.get("name"): r for r in (old or {}).get("runs", []) if isinstance(r, dict)}
        for entry in runs:
            if run_state(out / entry["dir"]) == "done":  # keep when and how long it ran the first time
                kept = {
                    k: v for k, v in before.get(entry["name"], {}).items() if k in ("started", "finished", "seconds")
                }
                entry.update(status="done", **kept)
                mine.add(entry["name"])
        _write_record(out, plan, runs, created, mine)
    for i, (run, entry) in enumerate(zip(plan, runs)):
        run_dir = out / entry["dir"]
        head = f"[{i + 1}/{len(plan)}] {run.name}"
        if only is not None and run.name not in only:
            continue
        if run_state(run_dir) == "done":
            log.info("%s: finished before, skipped", head)
            continue
        if run_dir.is_symlink() or run_dir.is_file():
            _clear(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        if not claim(run_dir):
            log.info("%s: being trained by %s, skipped", head, holder(run_dir))
            continue
        try:
            mine.add(entry["name"])
            _run_one(run, entry, run_dir, head, progress, lambda: _save(out, plan, runs, created, mine))
        finally:
            release(run_dir)
    outcome = SweepOutcome(out, runs)
    done = sum(r["status"] == "done" for r in runs)
    if only is None or only:  # not for the record-only call of a job submitter
        log.info("sweep %s: %d of %d runs finished, %d failed", out, done, len(runs), len(outcome.failed))
    return outcome


def _run_one(run, entry: dict[str, Any], run_dir: Path, head: str, progress, save) -> None:
    """Train (or resume) one claimed run, recording its status in sweep.json before and after."""
    state = run_state(run_dir)  # again, now that this worker holds the folder
    if state == "done":
        entry["status"] = "done"
        save()
        return
    log.info("%s%s", head, ": resuming from its last checkpoint" if state == "resume" else "")
    if state == "new":
        _clear(run_dir)  # a run killed before its first checkpoint: nothing worth keeping
    entry.update(status="running", started=_now(), error=None)
    save()
    t0 = time.monotonic()
    try:
        if state == "resume":
            train(None, resume=run_dir, progress=progress)
        else:
            train(run.config, run_dir=run_dir, progress=progress)
        entry["status"] = "done"
    except Exception as exc:  # one broken run must not cost the rest of a long sweep
        entry.update(status="failed", error=f"{type(exc).__name__}: {exc}".splitlines()[0])
        if isinstance(exc, LatentAtlasError):
            log.error("%s failed: %s", head, exc)
        else:
            log.exception("%s failed", head)
    except BaseException:
        entry["status"] = "interrupted"
        save()
        raise
    entry.update(seconds=round(time.monotonic() - t0, 3), finished=_now())
    save()
