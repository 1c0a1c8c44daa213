"""Run directories: `runs/<YYYYmmdd-HHMMSS>-<name>/`, created once and never overwritten."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from pathlib import Path
from typing import Any

from latentatlas.errors import LatentAtlasError


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "run"


def new_run_dir(root: str | Path = "runs", name: str = "run", path: str | Path | None = None) -> Path:
    """Create and return a fresh run directory.

    With `path`, that directory must not exist (or be empty). Otherwise `root/<timestamp>-<name>`, with a numeric
    suffix when two runs start in the same second.
    """
    if path is not None:
        path = Path(path)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise LatentAtlasError(
                f"run directory {str(path)!r} already exists; choose another --run-dir or continue it with --resume"
            )
        path.mkdir(parents=True, exist_ok=True)
        return path
    root = Path(root)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = root / f"{stamp}-{_safe_name(name)}"
    for i in range(1000):
        candidate = base if i == 0 else base.with_name(f"{base.name}-{i + 1}")
        try:
            candidate.mkdir(parents=True)
            return candidate
        except FileExistsError:
            continue
    raise LatentAtlasError(f"could not create a run directory under {str(root)!r}; remove old runs or pick --run-dir")


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        return _json_safe(value.item())
    if hasattr(value, "tolist"):
        return _json_safe(value.tolist())
    return value


def write_json(path: str | Path, data: Any) -> None:
    """Write JSON atomically (temporary file, then rename); non-finite floats become null."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(_json_safe(data), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def append_jsonl(path: str | Path, row: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(_json_safe(row)) + "\n")


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def truncate_metrics(path: str | Path, last_epoch: int) -> list[dict[str, Any]]:
    """Keep the rows of epochs <= `last_epoch` (those a checkpoint covers) and return them."""
    rows = [r for r in read_jsonl(path) if r.get("epoch", 0) <= last_epoch]
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    os.replace(tmp, path)
    return rows
