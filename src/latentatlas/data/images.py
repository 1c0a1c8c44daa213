"""The common in-memory image dataset (`ImageSet`) and `load_image_dataset`, which picks the right reader.

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

__all__ = ["ImageSet", "cache_root", "load_image_dataset"]


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


def load_image_dataset(
    path: str | Path,
    data_dir: str | Path | None = None,
    download: bool = False,
    split: str = "train",
    cache_dir: str | Path | None = None,
    resize: int | tuple[int, int] | None = None,
) -> ImageSet:
    """Load images from whatever `path` names.

    Args:
        path: `"cifar10"` (the official binary release in `data_dir`), a directory holding `data_batch_*.bin`
            (CIFAR-10 binary files), an image-folder directory, or a `.zip` of an image folder.
        data_dir: where the CIFAR-10 release lives; default `~/.cache/latentatlas/cifar10`.
        download: fetch the CIFAR-10 release into `data_dir` when it is missing.
        split: `"train"` or `"test"`, for CIFAR-10 only.
        cache_dir: where decoded image folders are cached (see `latentatlas.data.folder`).
        resize: (H, W) or side length every folder image is resized to; default: all sizes must match.

    Returns:
        The `ImageSet`; images (N, C, H, W) uint8.
    """
    # Imported here: both readers build ImageSet from this module.
    from latentatlas.data.cifar10 import load_cifar10, prepare_cifar10
    from latentatlas.data.folder import load_image_folder

    if str(path).lower() in ("cifar10", "cifar-10"):
        root = Path(data_dir).expanduser() if data_dir is not None else cache_root() / "cifar10"
        return load_cifar10(prepare_cifar10(root, download=download), split=split)
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(
            f"dataset {str(path)!r} not found; pass an image folder, a .zip of one, a directory of CIFAR-10 "
            "binary batches, or 'cifar10' (get it with `latentatlas data download cifar10` or --data-dir DIR)"
        )
    if p.is_dir() and any(p.glob("data_batch_*.bin")):
        return load_cifar10(p, split=split)
    if p.is_dir() and (p / "cifar-10-batches-bin").is_dir():
        return load_cifar10(p / "cifar-10-batches-bin", split=split)
    if p.is_dir() or p.suffix.lower() == ".zip":
        return load_image_folder(p, cache_dir=cache_dir, resize=resize)
    if p.name == "cifar-10-binary.tar.gz":
        return load_cifar10(prepare_cifar10(p.parent), split=split)
    raise DataError(
        f"{p}: not a dataset latentatlas can read; pass an image folder, a .zip of one, a directory of "
        "CIFAR-10 binary batches or 'cifar10'"
    )
