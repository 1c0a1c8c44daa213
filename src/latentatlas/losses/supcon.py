"""Supervised contrastive loss (SupCon): every same-class sample of the batch is a positive of the anchor.

Khosla et al., "Supervised Contrastive Learning", NeurIPS 2020, L^sup_out (eq. 2), with z unit vectors, P(i) the
other samples of i's class and A(i) all samples but i:

    l_i = -1/|P(i)| sum_{p in P(i)} log( exp(z_i.z_p / T) / sum_{a in A(i)} exp(z_i.z_a / T) )
    L   = mean of l_i over the anchors with |P(i)| >= 1

Equal to pytorch-metric-learning's `SupConLoss` (cosine similarity, default `AvgNonZeroReducer`) in value and
gradients. Differences:

- the mean runs over anchors with a positive; PML averages the non-zero l_i, the same set except for an
  l_i that is exactly 0 (a softmax probability of exactly 1), which we keep;
- a batch where no sample has a positive is a `DataError` (the batch needs >= 2 images per class); PML returns 0;
- a batch of one class (positives, no negatives) gets the formula above; PML returns 0 when there is no negative;
- the authors' code (HobbitLong/SupContrast) multiplies the loss by T / 0.07; we, like PML, do not.

The loss couples all samples of the batch (`batch_level = True`): under accumulation, per micro-batch it only
contrasts within each micro-batch; GradCache gives the effective batch's loss exactly.
"""

from __future__ import annotations

import torch

from latentatlas.losses.batch import (
    PairLoss,
    check_inputs,
    cosine_similarities,
    pair_masks,
    require_positive_pair,
    require_range,
)

NAME = "supcon"


class SupConLoss(PairLoss):
    """Supervised contrastive loss with temperature.

    Args:
        temperature: T > 0 (PML's default 0.1; the authors' code defaults to 0.07).
    """

    name = NAME

    def __init__(self, temperature: float = 0.1) -> None:
        super().__init__()
        require_range(NAME, "temperature", temperature, 0.0, usual="0.1")
        self.temperature = float(temperature)

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """SupCon loss of a labelled batch.

        Args:
            embeddings: (B, D) float, any scale (normalized here).
            labels: (B,) integer class ids; at least one pair must share a class.

        Returns:
            `(loss, stats)`: scalar loss; stats `anchors` (samples with a positive, over which the mean runs).
        """
        labels = check_inputs(NAME, embeddings, labels)
        positives, _ = pair_masks(labels)  # (B, B)
        require_positive_pair(NAME, positives)
        logits = cosine_similarities(embeddings, embeddings) / self.temperature  # (B, B)
        eye = torch.eye(len(labels), dtype=torch.bool, device=logits.device)
        log_denominator = torch.logsumexp(logits.masked_fill(eye, -torch.inf), dim=1, keepdim=True)  # (B, 1): A(i)
        log_prob = logits - log_denominator  # finite everywhere (the diagonal too), so masking by product is safe
        n_pos = positives.sum(dim=1)  # (B,)
        has_pos = n_pos > 0
        per_anchor = -(log_prob * positives).sum(dim=1)[has_pos] / n_pos[has_pos]  # (anchors,)
        return per_anchor.mean(), {"anchors": float(has_pos.sum())}
