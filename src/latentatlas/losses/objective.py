"""The metric-learning objective: a metric loss per micro-batch plus lambda * KoLeo over the scope's embeddings.

`L = sum_k w_k L_metric(micro-batch k) + lambda * L_KoLeo`, `w_k` = micro-batch k's share of the rows (so the
weighted sum is the large batch's mean, also when the last micro-batch is smaller). One implementation serves
every training path, so every path gets the same options (`loss.koleo.eps` included):

- the plain step calls it on ONE micro-batch at a time (plain gradient accumulation);
- GradCache (`latentatlas.train.gradcache`) calls it once on the concatenated embeddings of all the micro-batches
  of an optimizer step, which makes `scope="effective"` exact;
- `scope="global"` computes KoLeo over every process's embeddings (torchrun), gathered with their gradients.

KoLeo scopes: `micro` = mean of KoLeo over each micro-batch (the seed series' part 3); `effective` = KoLeo over
all the embeddings given at once; `global` = over all processes (identical to `micro` in one process). The metric
loss has the same choice (`metric_scope`): per micro-batch (weighted), or once over all the embeddings given with
their labels concatenated (the exact large-batch value of a batch-level loss such as SupCon, under GradCache).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from latentatlas.dist import all_gather_with_grad, is_distributed, world_size
from latentatlas.errors import ConfigError
from latentatlas.losses.koleo import koleo_loss

__all__ = ["KOLEO_SCOPES", "MetricObjective"]

KOLEO_SCOPES = ("micro", "effective", "global")
METRIC_SCOPES = ("micro", "effective")


class MetricObjective:
    """`loss_fn(embeddings, targets, sizes) -> (loss, stats)` for the training step and GradCache.

    Args:
        loss: a metric loss module, `loss(embeddings (b, D), targets) -> (loss, stats)` (e.g. `TripletLoss`);
            targets are labels `(b,)`, or None for the seed's fixed triplets.
        koleo_weight: lambda (0 = no KoLeo term).
        koleo_scope: `micro`, `effective` or `global` (see the module docstring).
        koleo_eps: KoLeo's eps (see `latentatlas.losses.koleo.koleo_loss`).
        name: the name of the metric loss's term in the stats (`triplet` for the triplet loss).
        metric_scope: `micro` (the loss per micro-batch, weighted by rows) or `effective` (once over all the
            embeddings given, labels concatenated; needs labelled micro-batches).

    Stats: `<name>` (the metric loss), `active_fraction` when the loss reports it, `koleo` (when lambda > 0) and
    `loss` (the total), all floats.
    """

    def __init__(
        self,
        loss: nn.Module,
        koleo_weight: float = 0.0,
        koleo_scope: str = "micro",
        koleo_eps: float = 1e-8,
        name: str = "triplet",
        metric_scope: str = "micro",
    ) -> None:
        if metric_scope not in METRIC_SCOPES:
            raise ConfigError(f"loss.metric.scope: unknown value {metric_scope!r}; use micro or effective")
        if koleo_scope not in KOLEO_SCOPES:
            raise ConfigError(f"loss.koleo.scope: unknown value {koleo_scope!r}; use one of {', '.join(KOLEO_SCOPES)}")
        if koleo_weight < 0:
            raise ConfigError(f"loss.koleo.weight: lambda must be >= 0, got {koleo_weight}")
        self.loss, self.name, self.metric_scope = loss, name, metric_scope
        self.koleo_weight, self.koleo_scope, self.koleo_eps = float(koleo_weight), koleo_scope, float(koleo_eps)

    def metric(
        self, embeddings: torch.Tensor, targets: Sequence[Any], sizes: Sequence[int]
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """The metric loss of the embeddings over its scope, and its stats (`<name>`, `active_fraction`...)."""
        if self.metric_scope == "effective" and len(sizes) > 1:
            value, raw = self.loss(embeddings, torch.cat(list(targets)))
            results, shares = [(value, raw)], [1.0]
        else:
            parts = embeddings.split(list(sizes))
            results = [self.loss(part, target) for part, target in zip(parts, targets)]
            shares = [size / sum(sizes) for size in sizes]
        weights = torch.tensor(shares, dtype=embeddings.dtype, device=embeddings.device)
        metric = (torch.stack([r[0] for r in results]) * weights).sum()
        stats: dict[str, float] = {self.name: float(metric.detach())}
        if all("active_fraction" in r[1] for r in results):
            stats["active_fraction"] = sum(s * float(r[1]["active_fraction"]) for s, r in zip(shares, results))
        return metric, stats

    def koleo(self, embeddings: torch.Tensor, sizes: Sequence[int]) -> torch.Tensor:
        """KoLeo of `embeddings (N, D)` (the concatenated micro-batches of `sizes` rows) over the scope."""
        if self.koleo_scope == "effective":
            return koleo_loss(embeddings, self.koleo_eps)
        parts = embeddings.split(list(sizes))
        if self.koleo_scope == "global" and is_distributed():
            return torch.stack([koleo_loss(all_gather_with_grad(p), self.koleo_eps) for p in parts]).mean()
        return torch.stack([koleo_loss(p, self.koleo_eps) for p in parts]).mean()

    def __call__(
        self, embeddings: torch.Tensor, targets: Sequence[Any], sizes: Sequence[int]
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Loss of K micro-batches given together: embeddings (N, D) = their concatenation, targets and sizes (K,)."""
        metric, stats = self.metric(embeddings, targets, sizes)
        total = metric
        if self.koleo_weight > 0:
            k = self.koleo(embeddings, sizes)
            # Under torchrun every process computes the same global KoLeo and DDP averages the gradients:
            # scaling by the world size gives the single-process gradient (see `all_gather_with_grad`).
            scale = world_size() if self.koleo_scope == "global" else 1
            total = total + self.koleo_weight * scale * k
            stats["koleo"] = float(k.detach())
        stats["loss"] = float(total.detach())
        return total, stats
