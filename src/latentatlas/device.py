"""Devices and CPU threads: one place that turns a device name into a `torch.device`."""

from __future__ import annotations

import os

import torch

from latentatlas.errors import ConfigError

__all__ = ["resolve_device", "set_threads"]


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """`"auto"` -> cuda when a GPU is visible, else cpu; None -> cpu; `"cpu"`, `"cuda"`, `"cuda:1"` as given.

    Asking for cuda without a GPU, or an unknown name, is a ConfigError (one line naming the fix).
    """
    if device is None:
        return torch.device("cpu")
    name = str(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device: {name!r} was asked for but no GPU is visible; use device=auto or device=cpu")
    try:
        return torch.device(name)
    except (RuntimeError, TypeError):
        raise ConfigError(f"device: {name!r} is unknown; use auto, cpu or cuda") from None


def set_threads(threads: int = 0) -> int:
    """Use `threads` CPU threads (0 = the cores this process may run on). Returns the number set."""
    if threads <= 0:
        try:
            threads = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            threads = os.cpu_count() or 1
    torch.set_num_threads(threads)
    return threads
