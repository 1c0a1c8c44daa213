"""Opening a run: a new run directory, or the state of one to resume (and the rules for resuming it).

A resumed run takes its config from its last checkpoint; only `RESUME_KEYS` may change, to train a finished run
further, and the run's `config.yaml` records such a raised limit at once so that an interrupted extension keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from latentatlas.config import Config, config_from_dict, parse_override, save_config
from latentatlas.errors import LatentAtlasError
from latentatlas.train.checkpoint import load_checkpoint
from latentatlas.train.distributed import DistInfo, broadcast_object
from latentatlas.train.rundir import new_run_dir, truncate_metrics


@dataclass
class RunState:
    """Where a run stands when its epochs start: config, directory, first epoch, best metric, rows so far."""

    config: Config
    run_dir: Path
    start_epoch: int = 0
    best: float | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    checkpoint: Any = None


# what `--resume RUN_DIR key=value` may change: how long the run goes on, never what it trains
RESUME_KEYS = ("train.epochs", "train.max_minutes", "train.progress")


def _check_resume_overrides(overrides) -> None:
    for text in overrides:
        key, _ = parse_override(text)  # the config's own parsing: malformed or unknown keys fail as they do there
        if key not in RESUME_KEYS:
            raise LatentAtlasError(
                f"{key}: a resumed run keeps its config; only {', '.join(RESUME_KEYS)} may change "
                "(start a new run to change anything else)"
            )


def _with_declared_limits(config_dict: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """The checkpoint's config with `train.epochs` / `train.max_minutes` as the run's config.yaml declares them (a
    resume that raised them and was killed before its first new checkpoint keeps its plan); unchanged when the file
    is missing or unreadable."""
    try:
        declared = (yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8")) or {}).get("train") or {}
    except (OSError, yaml.YAMLError, AttributeError):
        return config_dict
    limits = {k: declared[k] for k in ("epochs", "max_minutes") if k in declared}
    return {**config_dict, "train": {**config_dict.get("train", {}), **limits}}


def open_run(config, runs_root, run_dir, resume, info: DistInfo, overrides=()) -> RunState:
    """A new run directory with its config (rank 0 creates it), or the state of the run to resume."""
    if resume is None:
        path = new_run_dir(runs_root, config.name, run_dir) if info.is_main else None
        path = broadcast_object(path, info)
        if info.is_main:
            save_config(config, path / "config.yaml")
        return RunState(config, path)
    _check_resume_overrides(overrides)
    path = Path(resume)
    last = path / "checkpoints" / "last.safetensors"
    if not last.is_file():
        raise LatentAtlasError(f"cannot resume {str(path)!r}: no checkpoints/last.safetensors; start a new run")
    ckpt = load_checkpoint(last)
    config = config_from_dict(_with_declared_limits(ckpt.config, path), list(overrides))
    history = truncate_metrics(path / "metrics.jsonl", ckpt.epoch + 1) if info.is_main else []
    history = broadcast_object(history, info)
    if (path / "summary.json").exists():
        budget, spent = config.train.max_minutes, history[-1]["elapsed_s"] if history else 0.0
        if ckpt.epoch + 1 >= config.train.epochs:
            raise LatentAtlasError(
                f"run {str(path)!r} already finished its {config.train.epochs} epochs; "
                "to train on, resume with a larger train.epochs=N"
            )
        if budget is not None and spent >= budget * 60:
            raise LatentAtlasError(
                f"run {str(path)!r} already spent its train.max_minutes={budget:g} budget; "
                "to train on, resume with a larger train.max_minutes=M (the total for the run)"
            )
    if overrides and info.is_main:
        save_config(config, path / "config.yaml")
        if (path / "summary.json").exists():  # the run trains on: its summary is rewritten when it ends again
            (path / "summary.json").unlink()
    return RunState(config, path, ckpt.epoch + 1, ckpt.extra.get("best"), history, ckpt)
