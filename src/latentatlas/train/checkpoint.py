"""Checkpoints as safetensors: model (and optimizer) tensors, with the config and epoch in the metadata.

Keys: `model.<name>` for weights, `loss.<name>` for the state of a loss that owns parameters (class proxies...),
`optim.<param index>.<state name>` for optimizer state. Metadata (strings):
`format` = "latentatlas-checkpoint", `version`, `config` (JSON), `epoch`, `optim_groups` (JSON), `extra` (JSON),
`checksum` = "sha256:<hex>" over every tensor (name, dtype, shape, bytes) and the other metadata.

Files are written to a temporary name, flushed to disk and renamed, so a killed run never leaves a half-written
checkpoint; with `keep_previous`, the checkpoint being replaced stays as `<name>.prev.safetensors` until the new one
is complete. Loading verifies the checksum: a damaged file is refused, never trusted; checkpoints written before
checksums existed load with a one-line note.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from latentatlas._version import __version__
from latentatlas.errors import LatentAtlasError
from latentatlas.jsonio import fsync_dir

__all__ = [
    "Checkpoint",
    "load_checkpoint",
    "load_loss_state",
    "load_model_state",
    "keep_previous",
    "previous_path",
    "read_metadata",
    "save_checkpoint",
    "tensor_checksum",
]

FORMAT = "latentatlas-checkpoint"
log = logging.getLogger("latentatlas")
_NOTED: set[str] = set()  # checkpoints without a checksum already reported in this process


@dataclass
class Checkpoint:
    """A loaded checkpoint: model state dict, optimizer state (or None), config dict, epoch and extra data."""

    model_state: dict[str, torch.Tensor]
    optim_state: dict[str, Any] | None
    config: dict[str, Any]
    epoch: int
    extra: dict[str, Any]
    loss_state: dict[str, torch.Tensor] = field(default_factory=dict)


def _optim_tensors(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], str]:
    tensors = {}
    scalars: dict[str, dict[str, Any]] = {}
    for idx, entry in state["state"].items():
        for name, value in entry.items():
            if torch.is_tensor(value):
                tensors[f"optim.{idx}.{name}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(idx), {})[name] = value
    groups = json.dumps({"param_groups": state["param_groups"], "scalars": scalars})
    return tensors, groups


def tensor_checksum(tensors: dict[str, torch.Tensor], meta: dict[str, str]) -> str:
    """`sha256:<hex>` of every tensor's name, dtype, shape and bytes (sorted by name) and of the metadata."""
    digest = hashlib.sha256()
    digest.update(json.dumps({k: v for k, v in sorted(meta.items()) if k != "checksum"}).encode())
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        digest.update(f"\n{name}\0{t.dtype}\0{tuple(t.shape)}\0".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return "sha256:" + digest.hexdigest()


def previous_path(path: str | Path) -> Path:
    """Where `save_checkpoint(..., keep_previous=True)` keeps the checkpoint it replaces: `last.prev.safetensors`."""
    path = Path(path)
    return path.with_name(f"{path.stem}.prev{path.suffix}")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def keep_previous(path: Path) -> None:
    """Make `path`'s current file also `previous_path(path)` (a hard link, else a copy) before it is replaced."""
    _keep(path)


def _keep(path: Path) -> None:
    prev, tmp = previous_path(path), path.with_name(f".{path.name}.prev.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(path, tmp)
    except OSError:  # file systems without hard links
        tmp.write_bytes(path.read_bytes())
    os.replace(tmp, prev)


def save_checkpoint(
    path: str | Path,
    model: torch.nn.Module,
    config: dict[str, Any],
    epoch: int,
    optimizer: torch.optim.Optimizer | None = None,
    extra: dict[str, Any] | None = None,
    loss_module: torch.nn.Module | None = None,
    keep_previous: bool = False,
) -> Path:
    """Write `model` (+ `optimizer`, + the state of `loss_module`) to `path` atomically, with a checksum.

    With `keep_previous`, the file being replaced remains as `previous_path(path)`: should the new file ever be
    found damaged, the run can go back one checkpoint.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if loss_module is not None:
        tensors.update({f"loss.{k}": v.detach().cpu().contiguous() for k, v in loss_module.state_dict().items()})
    meta = {
        "format": FORMAT,
        "version": __version__,
        "config": json.dumps(config),
        "epoch": str(epoch),
        "extra": json.dumps(extra or {}),
    }
    if optimizer is not None:
        optim, groups = _optim_tensors(optimizer.state_dict())
        tensors.update(optim)
        meta["optim_groups"] = groups
    meta["checksum"] = tensor_checksum(tensors, meta)
    tmp = path.with_name(path.name + ".tmp")
    try:
        save_file(tensors, str(tmp), metadata=meta)
        _fsync(tmp)
        if keep_previous and path.is_file():
            _keep(path)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def read_metadata(path: str | Path) -> dict[str, str]:
    """The metadata of a latentatlas checkpoint; LatentAtlasError for missing, unreadable or foreign files."""
    path = Path(path)
    if not path.is_file():
        raise LatentAtlasError(f"checkpoint {str(path)!r} not found; give a run's checkpoints/last.safetensors")
    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise LatentAtlasError(f"checkpoint {str(path)!r} is not a readable safetensors file ({exc})") from None
    if meta.get("format") != FORMAT:
        raise LatentAtlasError(
            f"checkpoint {str(path)!r} was not written by latentatlas (no '{FORMAT}' metadata); "
            "use a checkpoint from a latentatlas run directory"
        )
    return meta


def _verify(path: str | Path, tensors: dict[str, torch.Tensor], meta: dict[str, str]) -> None:
    expected = meta.get("checksum")
    if expected is None:
        if str(path) not in _NOTED:
            _NOTED.add(str(path))
            log.warning(
                "note: %s has no checksum (written before latentatlas verified checkpoints); loaded unverified",
                path,
            )
        return
    if tensor_checksum(tensors, meta) != expected:
        raise LatentAtlasError(
            f"checkpoint {str(path)!r} is damaged (its contents do not match the checksum written with them); "
            "use another checkpoint"
        )


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> Checkpoint:
    """Read a checkpoint written by `save_checkpoint`, verified against its checksum (when it has one).

    Raises:
        LatentAtlasError: missing, unreadable, foreign, or damaged (checksum mismatch) file.
    """
    meta = read_metadata(path)
    try:
        tensors = load_file(str(path), device="cpu")
    except (SafetensorError, OSError) as exc:
        raise LatentAtlasError(f"checkpoint {str(path)!r} is damaged ({exc}); use another checkpoint") from None
    _verify(path, tensors, meta)
    if str(map_location) != "cpu":
        tensors = {k: v.to(map_location) for k, v in tensors.items()}
    model_state = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    loss_state = {k[len("loss.") :]: v for k, v in tensors.items() if k.startswith("loss.")}
    optim_state = None
    if "optim_groups" in meta:
        info = json.loads(meta["optim_groups"])
        state: dict[int, dict[str, Any]] = {}
        for key, value in tensors.items():
            if key.startswith("optim."):
                _, idx, name = key.split(".", 2)
                state.setdefault(int(idx), {})[name] = value
        for idx, scalars in info["scalars"].items():
            state.setdefault(int(idx), {}).update(scalars)
        # JSON turned tuples (Adam's betas) into lists; optimizers expect the tuples back
        groups = [{k: tuple(v) if isinstance(v, list) and k != "params" else v for k, v in g.items()}
                  for g in info["param_groups"]]  # fmt: skip
        optim_state = {"state": state, "param_groups": groups}
    try:
        config, epoch, extra = json.loads(meta["config"]), int(meta["epoch"]), json.loads(meta.get("extra", "{}"))
    except (KeyError, ValueError) as exc:
        raise LatentAtlasError(
            f"checkpoint {str(path)!r} has damaged metadata ({exc}); use another checkpoint"
        ) from None
    return Checkpoint(model_state, optim_state, config, epoch, extra, loss_state)


def load_model_state(model: torch.nn.Module, ckpt: Checkpoint, path: str | Path) -> None:
    """Load weights into `model`; a mismatch (other architecture) is a LatentAtlasError naming the first key."""
    _load_state(model, ckpt.model_state, path, "the config the checkpoint was trained with")


def load_loss_state(loss_module: torch.nn.Module | None, ckpt: Checkpoint, path: str | Path) -> None:
    """Load the state of a loss that owns parameters (checkpoints of losses without any hold none)."""
    if loss_module is not None:
        _load_state(loss_module, ckpt.loss_state, path, "the loss (loss.*) the checkpoint was trained with")


def _load_state(module: torch.nn.Module, state: dict[str, torch.Tensor], path: str | Path, fix: str) -> None:
    own = module.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    bad = [k for k in own if k in state and own[k].shape != state[k].shape]
    if missing or unexpected or bad:
        key = (missing or unexpected or bad)[0]
        raise LatentAtlasError(f"checkpoint {str(path)!r} does not fit this model (first mismatch: {key!r}); use {fix}")
    module.load_state_dict(state)
