"""Seeds of a run's epochs: each epoch's randomness depends only on (seed, epoch), so a resumed run replays it."""

from __future__ import annotations

__all__ = ["epoch_seed"]


def epoch_seed(seed: int, epoch: int) -> int:
    """A seed for one epoch that depends only on (seed, epoch), so a resumed run replays the same batches."""
    return (seed * 1_000_003 + epoch * 7_919) % (2**63 - 1)
