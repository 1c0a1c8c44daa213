"""Process-group helpers that losses, training and geometry may all use (rank, world size, gathers, shares).

They are no-ops in a single process, so code written for `torchrun` runs unchanged without it. Wrapping models in
DistributedDataParallel is the training loop's business (`latentatlas.train.distributed`); `join_from_env` joins
the group torchrun describes for the commands that only measure (`latentatlas analyze`): gloo on CPU, NCCL on GPUs.
"""

from __future__ import annotations

import atexit
import datetime as dt
import os

import torch
import torch.distributed as dist

from latentatlas.errors import ConfigError

__all__ = [
    "all_gather_rows",
    "all_gather_with_grad",
    "check_shards",
    "is_distributed",
    "join_from_env",
    "launched",
    "rank",
    "share",
    "world_size",
]


def is_distributed() -> bool:
    """Whether a torch.distributed process group is initialized in this process."""
    return dist.is_available() and dist.is_initialized()


def world_size() -> int:
    """Number of processes in the group (1 without one)."""
    return dist.get_world_size() if is_distributed() else 1


def rank() -> int:
    """This process's rank in the group (0 without one)."""
    return dist.get_rank() if is_distributed() else 0


def all_gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """Concatenate `x: (b, D)` from every process along dim 0 -> `(world * b, D)`, keeping the local graph.

    The other processes' rows arrive without gradient; the local rows are `x` itself, so each process
    gets d(loss)/d(x_local) of the global loss it computes. Every process computes the same global loss, so
    summing the parameter gradients over processes (not averaging) gives the single-process large-batch
    gradient; with DistributedDataParallel, which averages, multiply that loss by the world size.
    Identity when torch.distributed is not initialized or has one process. All ranks need the same b.
    """
    if world_size() == 1:
        return x
    gathered = [torch.empty_like(x) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, x.detach().contiguous())
    gathered[dist.get_rank()] = x
    return torch.cat(gathered)


def launched() -> bool:
    """Whether torchrun (or another launcher setting WORLD_SIZE > 1) started this process as one of several."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1")) > 1
    except ValueError:
        return False


def join_from_env(device: torch.device) -> torch.device:
    """Join the process group torchrun describes in the environment (a no-op when not launched or already joined).

    Backend: NCCL when `device` is a GPU (each process then takes GPU LOCAL_RANK, which is returned), gloo on CPU.
    The group is left when the process exits.
    """
    if not launched():
        return device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not is_distributed():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=dt.timedelta(minutes=30))
        atexit.register(_leave)
    return device


def _leave() -> None:
    if is_distributed():
        dist.destroy_process_group()


def check_shards(count: int, what: str = "queries") -> None:
    """Refuse more processes than `count` items to share (each process must get at least one)."""
    if world_size() > count:
        raise ConfigError(
            f"torchrun: {world_size()} processes for {count} {what}; each process needs a share, so run at most "
            f"{count} (--nproc_per_node) or give more {what}"
        )


def share(count: int) -> slice:
    """This process's contiguous share of `count` items: near-equal parts in rank order (all of them alone)."""
    w, r = world_size(), rank()
    return slice(count * r // w, count * (r + 1) // w)


def all_gather_rows(x: torch.Tensor) -> torch.Tensor:
    """Concatenate every process's `x: (b_i, ...)` along dim 0 in rank order; the b_i may differ. Identity alone.

    Each process must call it (a collective); x lives on the process's device (a GPU with NCCL).
    """
    if world_size() == 1:
        return x
    w = dist.get_world_size()
    size = torch.tensor([x.shape[0]], dtype=torch.long, device=x.device)
    sizes = [torch.empty_like(size) for _ in range(w)]
    dist.all_gather(sizes, size)
    counts = [int(s) for s in sizes]
    padded = x.new_zeros((max(counts), *x.shape[1:]))
    padded[: x.shape[0]] = x
    parts = [torch.empty_like(padded) for _ in range(w)]
    dist.all_gather(parts, padded.contiguous())
    return torch.cat([p[:c] for p, c in zip(parts, counts)])
