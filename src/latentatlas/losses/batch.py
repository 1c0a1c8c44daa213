"""Shared pieces of the labelled-batch losses: input checks, label masks, cosine similarities, log(1 + sum exp).

Every loss here takes `embeddings (B, D)` and integer `labels (B,)`; the checks turn shapes, dtypes and label
values the loss cannot use into one-line `DataError`s, and bad hyperparameters into `ConfigError`s.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from latentatlas.errors import ConfigError, DataError


def check_inputs(
    name: str, embeddings: torch.Tensor, labels: torch.Tensor | None, embedding_dim: int | None = None
) -> torch.Tensor:
    """Check `embeddings (B >= 1, D)` float and `labels (B,)` integer; returns the labels as int64 on their device.

    Args:
        name: the loss's name, for messages.
        embeddings: (B, D) float.
        labels: (B,) integer class ids.
        embedding_dim: when given, the D the loss was built for.

    Raises:
        DataError: wrong shapes or width, an empty batch, non-float embeddings, missing or non-integer labels.
    """
    if embeddings.ndim != 2 or not embeddings.is_floating_point() or not len(embeddings):
        what = f"{embeddings.dtype} of shape {tuple(embeddings.shape)}"
        raise DataError(f"{name}: embeddings must be float (B >= 1, D), got {what}; pass one row per image")
    if embedding_dim is not None and embeddings.shape[1] != embedding_dim:
        raise DataError(
            f"{name}: embeddings have {embeddings.shape[1]} dims, the loss was built for {embedding_dim}; "
            "build it with the model's embedding_dim"
        )
    if labels is None or labels.shape != (len(embeddings),):
        got = None if labels is None else tuple(labels.shape)
        raise DataError(f"{name}: labels: expected shape ({len(embeddings)},), got {got}; pass one label per row")
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise DataError(f"{name}: labels must be integer class ids, got {labels.dtype}; pass an int64 tensor")
    return labels.to(device=embeddings.device, dtype=torch.int64)


def check_label_range(name: str, labels: torch.Tensor, num_classes: int) -> None:
    """Raise a DataError when a label is outside [0, num_classes). labels: (B,) int64."""
    lo, hi = int(labels.min()), int(labels.max())
    if lo < 0 or hi >= num_classes:
        raise DataError(
            f"{name}: labels must lie in [0, {num_classes}), got range [{lo}, {hi}]; "
            f"map class ids to 0..{num_classes - 1} or set num_classes to the number of classes"
        )


def pair_masks(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """labels: (B,) -> positive mask (same label, not itself) and negative mask (other label), each (B, B) bool."""
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    return same & ~eye, ~same


def require_positive_pair(name: str, positives: torch.Tensor) -> None:
    """Raise a DataError when no sample of the batch has a positive. positives: (B, B) bool mask."""
    if not bool(positives.any()):
        raise DataError(
            f"{name}: no image in the batch shares its class with another; "
            "the batch needs >= 2 images per class (class-balanced P x K batches with K >= 2)"
        )


def check_pk_batch(name: str, classes_per_batch: int, images_per_class: int) -> None:
    """Refuse, before training, a P x K batch in which no image has a positive.

    Raises:
        ConfigError: images_per_class < 2 or classes_per_batch < 1.
    """
    if classes_per_batch < 1:
        raise ConfigError(
            f"{name}: classes_per_batch must be >= 1, got {classes_per_batch}; set train.classes_per_batch"
        )
    if images_per_class < 2:
        raise ConfigError(
            f"{name}: the batch needs >= 2 images per class to form positive pairs, got images_per_class="
            f"{images_per_class}; set train.images_per_class >= 2"
        )


def cosine_similarities(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """x: (N, D), y: (M, D) -> (N, M) cosine similarities (rows L2-normalized as `F.normalize` does)."""
    return F.normalize(x, dim=1) @ F.normalize(y, dim=1).T


def log1p_sum_exp(x: torch.Tensor, mask: torch.Tensor, dim: int) -> torch.Tensor:
    """`log(1 + sum_{mask} exp(x))` along `dim`, stable; 0 where the mask selects nothing.

    Args:
        x: (N, M) exponents.
        mask: (N, M) bool, the entries that enter the sum.
        dim: the dimension summed over.

    Returns:
        (M,) for dim=0, (N,) for dim=1. Gradients of masked-out entries are exactly 0.
    """
    masked = x.masked_fill(~mask, -torch.inf)
    zeros = torch.zeros_like(masked.select(dim, 0)).unsqueeze(dim)  # the "1 +" as exp(0)
    return torch.logsumexp(torch.cat([masked, zeros], dim=dim), dim=dim)


def require_range(
    name: str, key: str, value: float, low: float, high: float = float("inf"), *, open_low: bool = True, usual: str
) -> None:
    """ConfigError unless `low < value < high` (`low <= value` with open_low=False); `usual` is the fix to suggest."""
    ok = (value > low if open_low else value >= low) and value < high
    if not ok:
        bound = (f"> {low}" if open_low else f">= {low}") + (f" and < {high}" if high != float("inf") else "")
        raise ConfigError(f"{name}.{key}: must be {bound}, got {value}; use e.g. {usual}")


def require_size(name: str, key: str, value: int) -> None:
    """ConfigError unless `value` is an int >= 1 (num_classes, embedding_dim)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name}.{key}: must be an integer >= 1, got {value!r}; pass the number of classes / dims")


class PairLoss(nn.Module):
    """Base of the losses that learn from same-class pairs inside the batch (SupCon, multi-similarity): they
    couple the batch's rows (`batch_level`) and need >= 2 images per class, which `check_batch` refuses up front."""

    name = "pair loss"
    batch_level = True

    @classmethod
    def check_batch(cls, classes_per_batch: int, images_per_class: int) -> None:
        """Raise a one-line ConfigError, before training, for P x K batches without positives (K < 2)."""
        check_pk_batch(cls.name, classes_per_batch, images_per_class)
