"""Running a sweep: every run of a plan in turn into one resumable directory, failures recorded, not fatal."""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from latentatlas.errors import LatentAtlasError
from latentatlas.jsonio import write_json
from latentatlas.sweep.plan import SweepPlan, plain
from latentatlas.sweep.record import SWEEP_FILE, read_sweep_record, run_state
from latentatlas.tasks.pipeline import train

__all__ = ["SweepOutcome", "check_sweep_dir", "run_sweep"]

log = logging.getLogger("latentatlas")


def check_sweep_dir(plan: SweepPlan, out_dir: str | Path) -> dict[str, Any] | None:
    """Refuse a directory that holds something else than this sweep; returns its previous sweep.json, if any."""
    out = Path(out_dir)
    if not out.exists():
        return None
    if not out.is_dir():
        raise LatentAtlasError(f"{out}: is a file, not a sweep directory; use another --out")
    if not (out / SWEEP_FILE).exists():
        if any(out.iterdir()):
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


def _save(out: Path, plan: SweepPlan, runs: list[dict[str, Any]], created: str) -> None:
    write_json(out / SWEEP_FILE, {**plan.record(), "created": created, "updated": _now(), "runs": runs})


def run_sweep(plan: SweepPlan, out_dir: str | Path, progress: bool | None = None) -> SweepOutcome:
    """Run every run of `plan` in turn into `out_dir/runs/<name>/`, skipping finished ones and resuming others.

    A run whose `summary.json` exists is skipped; one with `checkpoints/last.safetensors` but no summary continues
    from it; any other leftover folder is removed and the run starts again. A run that raises is recorded as
    `failed` (with its error) in sweep.json and the sweep goes on. `progress` shows or hides each run's bar.

    Raises:
        LatentAtlasError: `out_dir` holds another sweep or other files (nothing is then touched).
    """
    out = Path(out_dir)
    old = check_sweep_dir(plan, out)
    created = (old or {}).get("created") or _now()
    (out / "runs").mkdir(parents=True, exist_ok=True)
    runs = [
        {"name": r.name, "dir": f"runs/{r.name}", "params": r.params, "overrides": r.overrides, "status": "pending"}
        for r in plan
    ]
    before = {r.get("name"): r for r in (old or {}).get("runs", []) if isinstance(r, dict)}
    for entry in runs:
        if run_state(out / entry["dir"]) == "done":  # keep when and how long it ran the first time
            kept = {
                k: before[entry["name"]][k]
                for k in ("started", "finished", "seconds")
                if k in before.get(entry["name"], {})
            }
            entry.update(status="done", **kept)
    _save(out, plan, runs, created)
    for i, (run, entry) in enumerate(zip(plan, runs)):
        run_dir = out / entry["dir"]
        state = run_state(run_dir)
        head = f"[{i + 1}/{len(plan)}] {run.name}"
        if state == "done":
            log.info("%s: finished before, skipped", head)
            continue
        log.info("%s%s", head, ": resuming from its last checkpoint" if state == "resume" else "")
        if state == "new" and (run_dir.exists() or run_dir.is_symlink()):
            # a run killed before its first checkpoint: nothing worth keeping
            shutil.rmtree(run_dir) if run_dir.is_dir() and not run_dir.is_symlink() else run_dir.unlink()
        entry.update(status="running", started=_now(), error=None)
        _save(out, plan, runs, created)
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
            _save(out, plan, runs, created)
            raise
        entry.update(seconds=round(time.monotonic() - t0, 3), finished=_now())
        _save(out, plan, runs, created)
    outcome = SweepOutcome(out, runs)
    done = sum(r["status"] == "done" for r in runs)
    log.info("sweep %s: %d of %d runs finished, %d failed", out, done, len(runs), len(outcome.failed))
    return outcome
