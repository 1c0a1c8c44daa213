"""Opening a run: a new run directory, or the state of one to resume (and the rules for resuming it).

A resumed run takes its config from its newest intact checkpoint (see `train.recovery`); only `RESUME_KEYS` may
change, to train a finished run further, and `RECOVERY_KEYS`, to continue a run that diverged with a smaller step;
the run's `config.yaml` records such a change at once so that an interrupted extension keeps it. A run killed
before its first checkpoint restarts from scratch in its own folder, from its `config.yaml`. The folder is locked
(`train.lock`) while it is open, so two processes never train into it at once.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from latentatlas.config import Config, config_from_dict, parse_override, save_config
from latentatlas.errors import LatentAtlasError
from latentatlas.jsonio import write_text_atomic
from latentatlas.textio import read_text
from latentatlas.train.distributed import DistInfo, broadcast_object
from latentatlas.train.lock import LOCK_NAME, run_lock
from latentatlas.train.recovery import metrics_rows, newest_intact
from latentatlas.train.rundir import new_run_dir

__all__ = ["RECOVERY_KEYS", "RESUME_KEYS", "RunState", "open_run"]

log = logging.getLogger("latentatlas")


@dataclass
class RunState:
    """Where a run stands when its epochs start: config, directory, first epoch, best metric, rows so far."""

    config: Config
    run_dir: Path
    start_epoch: int = 0
    best: float | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    checkpoint: Any = None
    checkpoint_name: str | None = None  # the file `checkpoint` was read from (the last one written, later)
    loss_reference: float | None = None  # the divergence guard's lowest positive loss so far


# what `--resume RUN_DIR key=value` may change: how long the run goes on, never what it trains
RESUME_KEYS = ("train.epochs", "train.max_minutes", "train.progress")
# ...and how it steps, to continue a run that diverged from its last good checkpoint
RECOVERY_KEYS = ("train.lr", "train.grad_clip", "train.weight_decay", "train.diverge_factor", "loss.beta")


def _check_resume_overrides(overrides) -> None:
    allowed = RESUME_KEYS + RECOVERY_KEYS
    for text in overrides:
        key, _ = parse_override(text)  # the config's own parsing: malformed or unknown keys fail as they do there
        if key not in allowed:
            raise LatentAtlasError(
                f"{key}: a resumed run keeps its config; only {', '.join(allowed)} may change "
                "(start a new run to change anything else)"
            )


def _declared(run_dir: Path) -> dict[str, Any] | None:
    """The run's config.yaml as a dict, or None when it is missing or unreadable."""
    try:
        data = yaml.safe_load(read_text(run_dir / "config.yaml", "config.yaml"))
    except (OSError, LatentAtlasError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) else None


def _with_declared(config_dict: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """The checkpoint's config with the keys a resume may change as the run's config.yaml declares them (a resume
    that changed them and was killed before its first new checkpoint keeps its plan)."""
    declared = _declared(run_dir) or {}
    out = {**config_dict}
    for key in RESUME_KEYS[:2] + RECOVERY_KEYS:
        section, name = key.split(".")
        node = declared.get(section)
        if isinstance(node, dict) and name in node:
            out[section] = {**out.get(section, {}), name: node[name]}
    return out


def _fresh_state(path: Path, overrides) -> RunState:
    """A run killed before its first checkpoint: start it again from its config.yaml, in the same folder."""
    declared = _declared(path)
    if declared is None:
        raise LatentAtlasError(
            f"cannot resume {str(path)!r}: no checkpoints/last.safetensors and no readable config.yaml, so it is "
            "not a run folder; start a new run"
        )
    config = config_from_dict(declared, list(overrides))
    log.warning("note: %s has no checkpoint yet (stopped in its first epoch); restarting it from epoch 1", path)
    if (path / "metrics.jsonl").exists():
        write_text_atomic(path / "metrics.jsonl", "")
    save_config(config, path / "config.yaml")
    return RunState(config, path)


def _check_not_finished(path: Path, config: Config, epochs_done: int, history: list[dict]) -> None:
    if not (path / "summary.json").exists():
        return
    budget, spent = config.train.max_minutes, history[-1]["elapsed_s"] if history else 0.0
    if epochs_done >= config.train.epochs:
        raise LatentAtlasError(
            f"run {str(path)!r} already finished its {config.train.epochs} epochs; "
            "to train on, resume with a larger train.epochs=N"
        )
    if budget is not None and spent >= budget * 60:
        raise LatentAtlasError(
            f"run {str(path)!r} already spent its train.max_minutes={budget:g} budget; "
            "to train on, resume with a larger train.max_minutes=M (the total for the run)"
        )


def _resume_state(path: Path, info: DistInfo, overrides) -> RunState:
    _check_resume_overrides(overrides)
    picked = newest_intact(path)
    if picked is None:
        return _fresh_state(path, overrides)
    name, ckpt = picked
    config = config_from_dict(_with_declared(ckpt.config, path), list(overrides))
    history, changed = metrics_rows(path, ckpt.epoch + 1) if info.is_main else ([], False)
    history = broadcast_object(history, info)
    _check_not_finished(path, config, ckpt.epoch + 1, history)  # before anything in the folder is rewritten
    if changed and info.is_main:
        write_text_atomic(path / "metrics.jsonl", "".join(_jsonl(r) for r in history))
    if overrides and info.is_main:
        save_config(config, path / "config.yaml")
        if (path / "summary.json").exists():  # the run trains on: its summary is rewritten when it ends again
            (path / "summary.json").unlink()
    reference = ckpt.extra.get("loss_reference")
    return RunState(config, path, ckpt.epoch + 1, ckpt.extra.get("best"), history, ckpt, name.name, reference)


def _jsonl(row: dict) -> str:
    return json.dumps(row) + "\n"


@contextlib.contextmanager
def open_run(config, runs_root, run_dir, resume, info: DistInfo, overrides=()) -> Iterator[RunState]:
    """A new run directory with its config (rank 0 creates it), or the state of the run to resume; the folder
    stays locked by this process (rank 0) until the block ends.

    Raises:
        RunBusy: another process trains into that folder.
        LatentAtlasError: the run cannot be resumed (see the message).
    """
    if resume is None:
        path = new_run_dir(runs_root, config.name, run_dir) if info.is_main else None
        path = broadcast_object(path, info)
    else:
        path = Path(resume)
        if not path.is_dir():
            raise LatentAtlasError(f"cannot resume {str(path)!r}: no such run folder; pass a folder of `runs/`")
    with run_lock(path) if info.is_main else contextlib.nullcontext(path):
        if resume is None:
            if info.is_main and any(p.name != LOCK_NAME for p in path.iterdir()):  # another process got there first
                raise LatentAtlasError(f"run directory {str(path)!r} already exists; choose another --run-dir")
            if info.is_main:
                save_config(config, path / "config.yaml")
            yield RunState(config, path)
        else:
            yield _resume_state(path, info, overrides)
