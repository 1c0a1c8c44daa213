"""The common in-memory image dataset (`ImageSet`) and where decoded datasets are cached.

Every image source (CIFAR-10 binary release, image folder, zip of an image folder) ends as the same plain
object: uint8 pixels in (N, C, H, W) and int64 labels, so augmentation, training and analysis never care
where pixels came from.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from latentatlas.errors import DataError

__all__ = ["ImageSet", "cache_root"]


def cache_root() -> Path:
    """Root of latentatlas's data cache: `$LATENTATLAS_CACHE` if set, else `~/.cache/latentatlas`."""
    env = os.environ.get("LATENTATLAS_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "latentatlas"


@dataclass
class ImageSet:
    """Images with integer labels, all in memory.

    Attributes:
        images: (N, C, H, W) uint8 pixels.
        labels: (N,) int64 class ids, each in [0, len(class_names)).
        class_names: name of each class id.
        source: where the images came from (a path or a dataset name), for reports and logs.
    """

    images: torch.Tensor
    labels: torch.Tensor
    class_names: list[str]
    source: str

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise DataError(
                f"{self.source}: images must be a uint8 tensor of shape (N, C, H, W), got "
                f"{self.images.dtype} {tuple(self.images.shape)}; convert with `.to(torch.uint8)`"
            )
        if self.labels.dtype != torch.int64 or self.labels.shape != (self.images.shape[0],):
            raise DataError(
                f"{self.source}: labels must be an int64 tensor of shape ({self.images.shape[0]},), got "
                f"{self.labels.dtype} {tuple(self.labels.shape)}; pass one integer label per image"
            )
        if len(self.labels) and (int(self.labels.min()) < 0 or int(self.labels.max()) >= len(self.class_names)):
            raise DataError(
                f"{self.source}: labels must lie in [0, {len(self.class_names)}) for "
                f"{len(self.class_names)} class names; fix the labels or the class names"
            )

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def subset(self, idx: Sequence[int] | np.ndarray | torch.Tensor) -> ImageSet:
        """The images at `idx` (any integer index array or a boolean mask), same class names and source."""
        index = torch.as_tensor(np.asarray(idx) if not isinstance(idx, torch.Tensor) else idx)
        if index.dtype == torch.bool:
            index = index.nonzero().flatten()
        index = index.to(torch.int64)
        return ImageSet(self.images[index], self.labels[index], list(self.class_names), self.source)
