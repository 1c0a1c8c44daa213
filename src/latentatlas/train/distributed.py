"""Multi-process data-parallel training with PyTorch's own engine (`torchrun`), gloo on CPU and nccl on GPUs.

`torchrun --nproc_per_node N -m latentatlas train CONFIG ...` starts N processes; each sees the same global batch
(same seeds), trains on its share of it, and DistributedDataParallel averages the gradients, so N processes with
batch B give the gradients of one process with batch B (and accumulation N x K micro-batches when the loss is a
mean over equal micro-batches). Rank 0 alone writes metrics, checkpoints and reports.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from latentatlas.dist import join_from_env, launched


@dataclass
class DistInfo:
    """Where this process stands: `rank` of `world` processes; `local_rank` picks its GPU."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device: torch.device) -> tuple[DistInfo, torch.device]:
    """Join the process group torchrun describes in the environment (WORLD_SIZE > 1); a no-op otherwise."""
    if not launched():
        return DistInfo(), device
    device = join_from_env(device)  # gloo on CPU, NCCL on GPU LOCAL_RANK
    env = os.environ
    return DistInfo(int(env["RANK"]), int(env["WORLD_SIZE"]), int(env.get("LOCAL_RANK", "0"))), device


def broadcast_object(obj, info: DistInfo):
    """Rank 0's `obj` on every rank (e.g. the run directory it created)."""
    if not info.enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def shard(micros: list, info: DistInfo, per_rank: int) -> list:
    """This rank's `per_rank` micro-batches out of the `world * per_rank` the global batch was cut into."""
    if not info.enabled:
        return micros
    return micros[info.rank * per_rank : (info.rank + 1) * per_rank]


def wrap_model(model: torch.nn.Module, info: DistInfo, device: torch.device) -> torch.nn.Module:
    """DistributedDataParallel around `model` (averages gradients across processes) when distributed."""
    if not info.enabled:
        return model
    ids = [device.index] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)


def average_gradients(params: list[torch.nn.Parameter], info: DistInfo) -> None:
    """Average the gradients of parameters that DDP does not own (a loss's proxies) over the processes."""
    if not info.enabled:
        return
    for p in params:
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad /= info.world


def shutdown(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
