"""Checkpoints as safetensors: model (and optimizer) tensors, with the config and epoch in the metadata.

Keys: `model.<name>` for weights, `loss.<name>` for the state of a loss that owns parameters (class proxies...),
`optim.<param index>.<state name>` for optimizer state. Metadata (strings):
`format` = "latentatlas-checkpoint", `version`, `config` (JSON), `epoch`, `optim_groups` (JSON), `extra` (JSON).
Files are written to a temporary name and renamed, so a killed run never leaves a half-written checkpoint.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from latentatlas._version import __version__
from latentatlas.errors import LatentAtlasError

FORMAT = "latentatlas-checkpoint"


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


def save_checkpoint(
    path: str | Path,
    model: torch.nn.Module,
    config: dict[str, Any],
    epoch: int,
    optimizer: torch.optim.Optimizer | None = None,
    extra: dict[str, Any] | None = None,
    loss_module: torch.nn.Module | None = None,
) -> Path:
    """Write `model` (+ `optimizer`, + the state of `loss_module`) to `path` atomically."""
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
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata=meta)
    os.replace(tmp, path)
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


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> Checkpoint:
    """Read a checkpoint written by `save_checkpoint`."""
    meta = read_metadata(path)
    try:
        tensors = load_file(str(path), device=str(map_location))
    except (SafetensorError, OSError) as exc:
        raise LatentAtlasError(f"checkpoint {str(path)!r} is damaged ({exc}); use another checkpoint") from None
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
    return Checkpoint(
        model_state=model_state,
        optim_state=optim_state,
        config=json.loads(meta["config"]),
        epoch=int(meta["epoch"]),
        extra=json.loads(meta.get("extra", "{}")),
        loss_state=loss_state,
    )


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
