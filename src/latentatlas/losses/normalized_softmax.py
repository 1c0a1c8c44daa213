"""Normalized softmax (cosine classifier) loss: cross-entropy on cosine similarities to learned class vectors.

Zhai & Wu, "Classification is a Strong Baseline for Deep Metric Learning", BMVC 2019 (NormSoftmax); the same
classifier as Wang et al., "NormFace", 2017:

    logits_ic = cos(x_i, w_c) / T,    L = (1/B) sum_i CE(logits_i, y_i)    (optionally label-smoothed).

Equal to pytorch-metric-learning's `NormalizedSoftmaxLoss` (default reducer, no miner, no regularizer) in value and
gradients; the differences, all in layout or checks, not in the loss:

- the class vectors are `weight (C, D)` (one row per class, like `nn.Linear` and like ProxyAnchor's proxies);
  PML's `W` is `(D, C)`, so `pml.W = ours.weight.T`. Initialization is the same: i.i.d. N(0, 1) entries;
- label smoothing (Szegedy et al., 2016; `F.cross_entropy(label_smoothing=...)`) is an option PML lacks;
- parameters stay in their own dtype and are cast differentiably to the embeddings' dtype and device in
  `forward` (PML overwrites `W.data` with the embeddings' dtype);
- labels outside [0, C) are a one-line `DataError` (PML: an indexing error inside cross-entropy).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from latentatlas.losses.batch import check_inputs, check_label_range, require_range, require_size

NAME = "normalized_softmax"


class NormalizedSoftmaxLoss(nn.Module):
    """Cosine classifier with temperature over `num_classes` learned class vectors.

    Args:
        num_classes: C, number of classes; labels must lie in [0, C).
        embedding_dim: D, the embeddings' width.
        temperature: T > 0 dividing the cosines (PML's default 0.05; Zhai & Wu use 0.05 too).
        label_smoothing: in [0, 1); 0 is the plain loss.

    Attributes:
        weight: (C, D) `nn.Parameter`, one class vector per row (normalized in `forward`, not in place).
    """

    name = NAME
    batch_level = False  # a mean of per-sample terms: micro-batch accumulation gives the effective batch's loss

    def __init__(self, num_classes: int, embedding_dim: int, temperature: float = 0.05, label_smoothing: float = 0.0):
        super().__init__()
        require_size(NAME, "num_classes", num_classes)
        require_size(NAME, "embedding_dim", embedding_dim)
        require_range(NAME, "temperature", temperature, 0.0, usual="0.05")
        require_range(NAME, "label_smoothing", label_smoothing, 0.0, 1.0, open_low=False, usual="0.1 or 0")
        self.num_classes, self.embedding_dim = num_classes, embedding_dim
        self.temperature, self.label_smoothing = float(temperature), float(label_smoothing)
        self.weight = nn.Parameter(torch.empty(num_classes, embedding_dim))
        nn.init.normal_(self.weight)  # as PML; the scale only sets the effective learning rate of the directions

    def logits(self, embeddings: torch.Tensor) -> torch.Tensor:
        """embeddings: (B, D) -> (B, C) cosine similarities to the class vectors divided by the temperature."""
        weight = self.weight.to(device=embeddings.device, dtype=embeddings.dtype)
        return F.linear(F.normalize(embeddings, dim=1), F.normalize(weight, dim=1)) / self.temperature

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Mean cross-entropy of the cosine classifier.

        Args:
            embeddings: (B, D) float, any scale (normalized here).
            labels: (B,) integer class ids in [0, C).

        Returns:
            `(loss, stats)`: scalar loss; stats `accuracy` (share of rows whose nearest class vector is theirs).
        """
        labels = check_inputs(NAME, embeddings, labels, self.embedding_dim)
        check_label_range(NAME, labels, self.num_classes)
        logits = self.logits(embeddings)  # (B, C)
        loss = F.cross_entropy(logits, labels, label_smoothing=self.label_smoothing)
        accuracy = (logits.detach().argmax(dim=1) == labels).double().mean()
        return loss, {"accuracy": float(accuracy)}
