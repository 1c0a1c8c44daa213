"""Run directories: `runs/<YYYYmmdd-HHMMSS>-<name>/`, created once and never overwritten."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from latentatlas.errors import LatentAtlasError, os_error_message
from latentatlas.train.lock import LOCK_NAME


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "run"


def new_run_dir(root: str | Path = "runs", name: str = "run", path: str | Path | None = None) -> Path:
    """Create and return a fresh run directory (see `_new_run_dir`); an unwritable location is one line."""
    try:
        return _new_run_dir(root, name, path)
    except OSError as exc:
        raise LatentAtlasError(f"cannot create the run directory: {os_error_message(exc)}") from None


def _new_run_dir(root: str | Path, name: str, path: str | Path | None) -> Path:
    """Create and return a fresh run directory.

    With `path`, that directory must not exist (or be empty, but for a lock file). Otherwise
    `root/<timestamp>-<name>`, with a numeric suffix when two runs start in the same second.
    """
    if path is not None:
        path = Path(path)
        if path.exists() and (not path.is_dir() or any(p.name != LOCK_NAME for p in path.iterdir())):
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
