"""A sweep directory's record (`sweep.json`) and the state of each of its run folders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from latentatlas.errors import LatentAtlasError
from latentatlas.textio import read_text
from latentatlas.train.recovery import checkpoint_files

__all__ = ["FORMAT", "SWEEP_FILE", "read_sweep_record", "run_state"]

SWEEP_FILE = "sweep.json"
FORMAT = 1


def read_sweep_record(sweep_dir: str | Path) -> dict[str, Any]:
    """The contents of `sweep_dir/sweep.json`, or LatentAtlasError if it is missing or unreadable."""
    path = Path(sweep_dir) / SWEEP_FILE
    if not path.is_file():
        raise LatentAtlasError(f"{sweep_dir}: no {SWEEP_FILE}, so not a sweep directory; pass the --out of a sweep")
    try:
        record = json.loads(read_text(path, "sweep record"))
    except (json.JSONDecodeError, LatentAtlasError):
        raise LatentAtlasError(f"{path}: not valid JSON; restore it or start the sweep in another --out") from None
    if not isinstance(record, dict):
        raise LatentAtlasError(f"{path}: expected a JSON object; restore it or start the sweep in another --out")
    _check_fields(record, path)
    return record


_FIELDS = {  # field -> (allowed types, what to say); every field is optional here, the plan says what it needs
    "config_path": ((str,), "a string"),
    "base_config": ((dict,), "an object of config keys"),
    "grid": ((dict,), "an object of key -> list of values"),
    "seeds": ((list, int), "a list of seeds"),
    "folds": ((int, type(None)), "an integer or null"),
    "overrides": ((list,), "a list of key=value texts"),
    "swept": ((list,), "a list of keys"),
    "created": ((str,), "a time stamp"),
    "runs": ((list,), "a list of run records"),
}


def _check_fields(record: dict[str, Any], path: Path) -> None:
    """Refuse a sweep.json whose fields have the wrong JSON types (hand-edited or from another program)."""
    for key, (types, what) in _FIELDS.items():
        value = record.get(key)
        bad = key in record and (not isinstance(value, types) or isinstance(value, bool))
        bad = bad or (
            key == "grid" and isinstance(value, dict) and not all(isinstance(v, list) for v in value.values())
        )
        bad = bad or (key == "runs" and isinstance(value, list) and not all(isinstance(r, dict) for r in value))
        bad = bad or (
            key in ("overrides", "swept") and isinstance(value, list) and not all(isinstance(v, str) for v in value)
        )
        if bad:
            raise LatentAtlasError(
                f"{path}: field {key!r} should be {what}, got {json.dumps(value)[:60]}; restore the file or start "
                "the sweep in another --out"
            )


def run_state(run_dir: Path) -> str:
    """`done` (summary.json), `resume` (a checkpoint, no summary) or `new` (nothing usable)."""
    if (run_dir / "summary.json").is_file():
        return "done"
    if checkpoint_files(run_dir):  # `last`, or the one it replaced, or `best`: `train --resume` picks the intact one
        return "resume"
    return "new"
