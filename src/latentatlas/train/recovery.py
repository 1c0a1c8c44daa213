"""What a resumed run may trust: the newest intact checkpoint of its folder, and the metrics rows it covers.

A checkpoint is intact when it reads and its checksum matches. `last.safetensors` is tried first, then the
checkpoint it replaced (`last.prev.safetensors`), then a complete `last.safetensors.tmp` a kill left just before its
rename; all of these carry the optimizer state, so training goes on exactly as the uninterrupted run would.
`best.safetensors` (no optimizer state) is the last resort. Every fallback is said in one log line.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from latentatlas.errors import LatentAtlasError
from latentatlas.jsonio import read_jsonl_tolerant
from latentatlas.train.checkpoint import Checkpoint, keep_previous, load_checkpoint, previous_path, read_metadata

__all__ = ["checkpoint_files", "metrics_rows", "newest_intact"]

log = logging.getLogger("latentatlas")


def checkpoint_files(run_dir: str | Path) -> list[Path]:
    """The checkpoint files a resume may use, in the order it tries them (only those that exist)."""
    folder = Path(run_dir) / "checkpoints"
    last = folder / "last.safetensors"
    files = [last, previous_path(last), folder / "last.safetensors.tmp", folder / "best.safetensors"]
    return [p for p in files if p.is_file()]


def _rank(path: Path, ckpt: Checkpoint) -> tuple[int, int]:
    """Prefer checkpoints with optimizer state (an exact continuation), then the newest epoch."""
    return (ckpt.optim_state is not None, ckpt.epoch)


def newest_intact(run_dir: str | Path) -> tuple[Path, Checkpoint] | None:
    """The checkpoint to resume `run_dir` from, or None when its folder holds no checkpoint file at all.

    Raises:
        LatentAtlasError: there are checkpoint files but none is intact (naming why `last` was refused).
    """
    run_dir = Path(run_dir)
    files = checkpoint_files(run_dir)
    if not files:
        return None
    found: list[tuple[Path, Checkpoint]] = []
    problems: dict[Path, str] = {}
    for path in files:
        if path.name.endswith(".tmp") and "checksum" not in _metadata_or_empty(path):
            continue  # a half-written file from before checksums: never trusted
        try:
            found.append((path, load_checkpoint(path)))
        except LatentAtlasError as exc:
            problems[path] = str(exc)
    if not found:
        first = next(iter(problems.values()), "no usable checkpoint")
        raise LatentAtlasError(f"cannot resume {str(run_dir)!r}: no intact checkpoint ({first}); start a new run")
    path, ckpt = max(found, key=lambda pc: _rank(*pc))
    last = run_dir / "checkpoints" / "last.safetensors"
    if path.name.endswith(".tmp"):  # complete and verified, killed just before its rename: finish the rename
        if last.is_file():
            keep_previous(last)
        os.replace(path, last)
        log.warning("note: completed the interrupted write of checkpoints/last.safetensors (epoch %d)", ckpt.epoch + 1)
        return last, ckpt
    if path != last:
        why = "is damaged" if last in problems else "is missing" if not last.is_file() else "is older"
        extra = "" if ckpt.optim_state is not None else " (it holds no optimizer state: the optimizer starts afresh)"
        log.warning(
            "note: checkpoints/last.safetensors %s; resuming from checkpoints/%s (epoch %d)%s",
            why,
            path.name,
            ckpt.epoch + 1,
            extra,
        )
    return path, ckpt


def _metadata_or_empty(path: Path) -> dict[str, str]:
    try:
        return read_metadata(path)
    except LatentAtlasError:
        return {}


def metrics_rows(run_dir: str | Path, last_epoch: int) -> tuple[list[dict], bool]:
    """The rows of `metrics.jsonl` a checkpoint of 1-based epoch `last_epoch` covers, and whether the file changes.

    A torn last line (a kill in the middle of writing it) is dropped with a note; rows of later epochs (trained
    after the checkpoint) are dropped because the resumed run trains those epochs again.
    """
    path = Path(run_dir) / "metrics.jsonl"
    rows, torn = read_jsonl_tolerant(path)
    if torn is not None:
        log.warning("note: %s line %d was cut off by an interruption; dropped it", path, torn)
    kept = [r for r in rows if isinstance(r.get("epoch"), int) and r["epoch"] <= last_epoch]
    return kept, torn is not None or len(kept) != len(rows)
