"""What a config must satisfy before a run starts that no single config section can check alone."""

from __future__ import annotations

from latentatlas.config import Config
from latentatlas.errors import ConfigError
from latentatlas.train.distributed import DistInfo

__all__ = ["check_distributed"]


def check_distributed(info: DistInfo, config: Config) -> None:
    """Combinations that multi-process training refuses, with the alternative."""
    koleo = config.loss.koleo
    if info.enabled and koleo.weight > 0 and koleo.scope == "effective":
        raise ConfigError(
            "loss.koleo.scope: 'effective' is for one process with gradient accumulation; with torchrun use "
            "scope=global (KoLeo over every process's embeddings)"
        )
    _check_batch_split(info, config)


def _check_batch_split(info: DistInfo, config: Config) -> None:
    """Each process must get whole, equal micro-batches, or the mean over them is not the large batch's mean."""
    if not info.enabled or config.data.kind != "images":
        return
    t = config.train
    rows = t.batch_size if config.data.images.triplets == "seed" else t.classes_per_batch
    what = "train.batch_size" if config.data.images.triplets == "seed" else "train.classes_per_batch"
    if rows % (info.world * t.accumulation):
        raise ConfigError(
            f"{what}={rows} does not split into {info.world} processes x {t.accumulation} micro-batches; "
            "pick a multiple of their product"
        )
