"""What a sweep measured: its finished runs grouped by grid values, every summary number as mean +- std.

Groups are made with `latentatlas.report.runs.aggregate` (sample standard deviation, ddof = 1, the usual
"mean +- std" of repeated runs).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from latentatlas.errors import LatentAtlasError
from latentatlas.report.runs import aggregate, flatten, in_tables, load_run
from latentatlas.report.sweep_report import group_label
from latentatlas.sweep.record import read_sweep_record

__all__ = ["summarize_sweep"]


def summarize_sweep(sweep_dir: str | Path) -> dict[str, Any]:
    """Group the finished runs of a sweep by their grid values and aggregate every numeric summary key.

    Returns:
        A JSON-ready dict: `swept` (grid keys), `seeds`, `folds`, `counts` (planned/done/failed/pending),
        `metrics` (numeric keys in order), `groups` (per combination: `group`, `label`, `n`, `runs`, `mean`, `std`,
        `count`, as `aggregate`), and `runs` (name, dir, params, status, error, summary of every planned run).
    """
    root = Path(sweep_dir)
    record = read_sweep_record(root)
    swept = list(record.get("swept") or record.get("grid") or [])
    runs, rows, members = [], [], {}
    for entry in record.get("runs", []):
        run = {k: entry.get(k) for k in ("name", "dir", "params", "status", "error", "seconds")}
        run_dir = root / str(entry.get("dir", ""))
        if (run_dir / "summary.json").is_file():
            try:
                summary = load_run(run_dir).summary
            except LatentAtlasError as exc:  # one damaged run must not hide the others
                run.update(status="unreadable", error=str(exc))
            else:
                run.update(status="done", summary=summary)
                flat = {k: v for k, v in flatten(summary).items() if in_tables(k)}  # no matrix cells
                row = {**flat, **{k: entry["params"][k] for k in swept}}
                rows.append(row)
                key = tuple(json.dumps(row[k], default=str) for k in swept)  # the key `aggregate` groups by
                members.setdefault(key, []).append(entry["name"])
        elif run["status"] in (None, "done", "running"):
            run["status"] = "pending"  # sweep.json is older than the folder (or the sweep was killed mid-run)
        runs.append(run)
    groups = aggregate(rows, swept) if rows else []
    for group, names in zip(groups, members.values()):  # both in order of first appearance
        group["label"], group["runs"] = group_label(group["group"]), names
    metrics = list(dict.fromkeys(k for g in groups for k in g["mean"]))
    counts = {s: sum(r["status"] == s for r in runs) for s in ("done", "failed", "pending")}
    return {
        "sweep_dir": str(root.resolve()),
        "config_path": record.get("config_path"),
        "overrides": record.get("overrides", []),
        "swept": swept,
        "seeds": record.get("seeds"),
        "folds": record.get("folds"),
        "counts": {"planned": len(runs), **counts},
        "metrics": metrics,
        "groups": groups,
        "runs": runs,
    }
