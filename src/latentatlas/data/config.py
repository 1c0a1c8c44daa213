"""The `data` section of a run's config: generated figures (`shapes`) or labelled images (`images`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from latentatlas.data.shapes_config import ShapesConfig
from latentatlas.errors import ConfigError

__all__ = ["DataConfig", "ImagesConfig"]


@dataclass
class ImagesConfig:
    """Labelled images for metric learning (seed 000).

    `path`: `cifar10` (the official binary release in `data_dir`; its test batch is the test split), a folder of
    CIFAR-10 binary batches, an image folder (one sub-folder per class) or a `.zip` of one. Without a separate test
    set, `split` holds out images by fraction (train, val, test), stratified and seeded: no image is in two splits.
    `triplets`: `mined` = class-balanced P x K batches mined in-batch; `seed` = the series' fixed triplets
    (consecutive pairs per class, one random negative, 95/5 split by triplet, which leaks images; a warning says
    how many).
    `folds` = k >= 2 turns the train + val part into k stratified folds (k-fold cross-validation; by triplet in
    `seed` mode, as the series did) and `fold` picks the one used for validation.
    """

    path: str = "cifar10"
    data_dir: str | None = None
    download: bool = False
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)
    triplets: Literal["mined", "seed"] = "mined"
    val_triplets: int = 2000
    limit: int | None = None
    augment: bool = True
    padding: int = 4
    folds: int = 0
    fold: int = 0

    def validate(self, prefix: str) -> None:
        if self.folds == 1 or self.folds < 0:
            raise ConfigError(f"{prefix}.folds: {self.folds}; use 0 (no cross-validation) or k >= 2 folds")
        if self.folds and not 0 <= self.fold < self.folds:
            raise ConfigError(f"{prefix}.fold: {self.fold} is not in 0..{self.folds - 1}")
        if min(self.split) < 0 or self.split[0] <= 0 or abs(sum(self.split) - 1.0) > 1e-6:
            raise ConfigError(f"{prefix}.split: {list(self.split)} must be 3 fractions >= 0 summing to 1, train > 0")
        if self.val_triplets < 1:
            raise ConfigError(f"{prefix}.val_triplets: must be >= 1, got {self.val_triplets}")
        if self.limit is not None and self.limit < 20:
            raise ConfigError(f"{prefix}.limit: {self.limit} images is too few; use at least 20 or null for all")


@dataclass
class DataConfig:
    """Training data: `shapes` = generated figures (seed 004), `images` = labelled images (seed 000)."""

    kind: Literal["shapes", "images"] = "shapes"
    n_train: int = 1000
    n_val: int = 500
    shapes: ShapesConfig = field(default_factory=ShapesConfig)
    images: ImagesConfig = field(default_factory=ImagesConfig)

    def validate(self, prefix: str) -> None:
        for key in ("n_train", "n_val"):
            if getattr(self, key) < 1:
                raise ConfigError(f"{prefix}.{key}: must be >= 1, got {getattr(self, key)}")
