"""Process-group helpers that losses, training and geometry may all use (rank, world size, gather with grad).

They are no-ops in a single process, so code written for `torchrun` runs unchanged without it. Starting the
process group and wrapping models in DistributedDataParallel is the training loop's business
(`latentatlas.train.distributed`).
"""

from __future__ import annotations

import torch
import torch.distributed as dist

__all__ = ["all_gather_with_grad", "is_distributed", "rank", "world_size"]


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
