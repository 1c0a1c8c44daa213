"""A sweep directory's record (`sweep.json`) and the state of each of its run folders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from latentatlas.errors import LatentAtlasError

__all__ = ["FORMAT", "SWEEP_FILE", "read_sweep_record", "run_state"]

SWEEP_FILE = "sweep.json"
FORMAT = 1


def read_sweep_record(sweep_dir: str | Path) -> dict[str, Any]:
    """The contents of `sweep_dir/sweep.json`, or LatentAtlasError if it is missing or unreadable."""
    path = Path(sweep_dir) / SWEEP_FILE
    if not path.is_file():
        raise LatentAtlasError(f"{sweep_dir}: no {SWEEP_FILE}, so not a sweep directory; pass the --out of a sweep")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise LatentAtlasError(f"{path}: not valid JSON; restore it or start the sweep in another --out") from None
    if not isinstance(record, dict):
        raise LatentAtlasError(f"{path}: expected a JSON object; restore it or start the sweep in another --out")
    return record


def run_state(run_dir: Path) -> str:
    """`done` (summary.json), `resume` (a last checkpoint, no summary) or `new` (nothing usable)."""
    if (run_dir / "summary.json").is_file():
        return "done"
    if (run_dir / "checkpoints" / "last.safetensors").is_file():
        return "resume"
    return "new"
