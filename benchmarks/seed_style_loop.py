"""A straightforward training loop in the seed series' style, as the reference `bench_train` compares against.

What the series' code does per iteration, kept as plain as a first PyTorch project writes it:
- a `Dataset` whose `__getitem__` returns one triplet (a, p, n) of transformed images, each transformed on its
  own in Python (random crop 32 with 4-pixel zero padding, horizontal flip with p = 0.5, normalization with the
  CIFAR-10 statistics), as torchvision's `RandomCrop`, `RandomHorizontalFlip`, `ToTensor`, `Normalize` do;
- a `DataLoader` with batch size 64 (default collate, no worker processes);
- THREE forward passes of 64 images through the embedder (`model(a)`, `model(p)`, `model(n)`), the cosine
  triplet loss mean(max(d(a, p) - d(a, n) + margin, 0)) with d = 1 - cos, and an Adam step.
The transforms work on uint8 tensors already in memory rather than on PIL images, which makes this reference
somewhat FASTER than the series' code: the speed-ups measured against it are lower bounds.
"""

from __future__ import annotations

import random
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from latentatlas.data.augment import CIFAR10_MEAN, CIFAR10_STD

__all__ = ["SeedTripletDataset", "cosine_triplet_loss", "time_seed_style_loop", "transform_one"]

_MEAN = torch.tensor(CIFAR10_MEAN).view(3, 1, 1)
_STD = torch.tensor(CIFAR10_STD).view(3, 1, 1)


def transform_one(image: torch.Tensor, rng: random.Random, padding: int = 4) -> torch.Tensor:
    """One image (3, H, W) uint8 -> random crop with zero padding, random flip, normalize -> (3, H, W) float32."""
    x = image.float().div(255.0)
    _, h, w = x.shape
    x = F.pad(x, (padding, padding, padding, padding))
    top, left = rng.randint(0, 2 * padding), rng.randint(0, 2 * padding)
    x = x[:, top : top + h, left : left + w]
    if rng.random() < 0.5:
        x = x.flip(-1)
    return (x - _MEAN) / _STD


class SeedTripletDataset(Dataset):
    """Fixed triplets of images in memory; item i is the transformed (anchor, positive, negative) of triplet i.

    Args:
        images: (N, 3, H, W) uint8.
        triplets: (T, 3) int64 indices into `images`.
        seed: seed of the per-sample random transforms.
    """

    def __init__(self, images: torch.Tensor, triplets: np.ndarray, seed: int = 42) -> None:
        self.images, self.triplets = images, np.asarray(triplets)
        self.rng = random.Random(seed)

    def __len__(self) -> int:
        return len(self.triplets)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        a, p, n = (int(j) for j in self.triplets[i])
        return tuple(transform_one(self.images[j], self.rng) for j in (a, p, n))  # type: ignore[return-value]


def cosine_triplet_loss(a: torch.Tensor, p: torch.Tensor, n: torch.Tensor, margin: float = 0.4) -> torch.Tensor:
    """mean(max(d(a, p) - d(a, n) + margin, 0)) with d = 1 - cos, as the series defines it; inputs (B, D)."""
    d_ap = 1.0 - F.cosine_similarity(a, p, dim=1)
    d_an = 1.0 - F.cosine_similarity(a, n, dim=1)
    return F.relu(d_ap - d_an + margin).mean()


def time_seed_style_loop(
    model: torch.nn.Module,
    images: torch.Tensor,
    triplets: np.ndarray,
    steps: int,
    warmup: int = 1,
    batch_size: int = 64,
    lr: float = 5e-4,
    margin: float = 0.4,
) -> list[tuple[float, float]]:
    """Train `warmup + steps` iterations the seed's way.

    Returns:
        Per timed iteration, (wall seconds of the whole iteration, seconds of those spent fetching its batch from
        the DataLoader, i.e. the per-image transforms and collation).
    """
    loader = DataLoader(SeedTripletDataset(images, triplets), batch_size=batch_size, shuffle=True, num_workers=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    times: list[tuple[float, float]] = []
    it = iter(loader)
    for step in range(warmup + steps):
        start = time.perf_counter()
        try:
            a, p, n = next(it)
        except StopIteration:  # fewer triplets than iterations (quick runs): start a new epoch
            it = iter(loader)
            a, p, n = next(it)
        fetched = time.perf_counter()
        optimizer.zero_grad()
        loss = cosine_triplet_loss(model(a), model(p), model(n), margin)
        loss.backward()
        optimizer.step()
        loss.item()
        if step >= warmup:
            times.append((time.perf_counter() - start, fetched - start))
    return times
