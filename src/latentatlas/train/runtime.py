"""Device, threads and seeds."""

from __future__ import annotations

import logging
import os

import torch

from latentatlas.errors import LatentAtlasError

log = logging.getLogger("latentatlas")


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` -> cuda when present, else cpu; asking for cuda without a GPU is a LatentAtlasError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise LatentAtlasError("device: cuda was asked for but no GPU is visible; use device=auto or device=cpu")
    return torch.device(name)


def set_threads(threads: int = 0) -> int:
    """Use `threads` CPU threads (0 = the cores this process may run on). Returns the number set."""
    if threads <= 0:
        try:
            threads = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            threads = os.cpu_count() or 1
    torch.set_num_threads(threads)
    return threads


def epoch_seed(seed: int, epoch: int) -> int:
    """A seed for one epoch that depends only on (seed, epoch), so a resumed run replays the same batches."""
    return (seed * 1_000_003 + epoch * 7_919) % (2**63 - 1)
