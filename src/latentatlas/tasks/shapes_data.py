"""The figures of a shapes run: training and validation sets regenerated from the run's seed, as tensors."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["VAL_SEED_OFFSET", "to_tensor"]

VAL_SEED_OFFSET = 1_000_003  # validation figures come from another stream than the training ones


def to_tensor(images: np.ndarray, device: torch.device, channels_last: bool) -> torch.Tensor:
    """bool (N, S, S) -> float32 (N, 1, S, S) on `device`."""
    x = torch.from_numpy(np.ascontiguousarray(images)).to(torch.float32).unsqueeze(1).to(device)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x
