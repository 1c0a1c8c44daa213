"""Plain softmax classifier loss: cross-entropy of a linear classifier (weights and bias) over the embeddings.

The usual baseline of metric learning (a network trained to classify, its penultimate features used as
embeddings); with `model.normalize=false` the classifier sees the raw head output, as in a plain classifier, while
retrieval and the geometry still compare directions (cosine). `torch.nn.functional.cross_entropy`, optionally
label-smoothed (Szegedy et al., 2016).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from latentatlas.losses.batch import check_inputs, check_label_range, require_range, require_size

NAME = "softmax"


class SoftmaxLoss(nn.Module):
    """Linear classifier `logits = x W^T + b` over `num_classes` and its mean cross-entropy.

    Args:
        num_classes: C; labels must lie in [0, C).
        embedding_dim: D, the embeddings' width.
        label_smoothing: in [0, 1); 0 is the plain loss.

    Attributes:
        classifier: `nn.Linear(D, C)`, trained by the optimizer and saved with the checkpoints.
    """

    name = NAME
    batch_level = False  # a mean of per-sample terms

    def __init__(self, num_classes: int, embedding_dim: int, label_smoothing: float = 0.0):
        super().__init__()
        require_size(NAME, "num_classes", num_classes)
        require_size(NAME, "embedding_dim", embedding_dim)
        require_range(NAME, "label_smoothing", label_smoothing, 0.0, 1.0, open_low=False, usual="0.1 or 0")
        self.num_classes, self.embedding_dim = num_classes, embedding_dim
        self.label_smoothing = float(label_smoothing)
        self.classifier = nn.Linear(embedding_dim, num_classes)

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Mean cross-entropy; stats `accuracy` (share of rows the classifier gets right). embeddings: (B, D)."""
        labels = check_inputs(NAME, embeddings, labels, self.embedding_dim)
        check_label_range(NAME, labels, self.num_classes)
        w = self.classifier.weight.to(device=embeddings.device, dtype=embeddings.dtype)
        b = self.classifier.bias.to(device=embeddings.device, dtype=embeddings.dtype)
        logits = F.linear(embeddings, w, b)  # (B, C)
        loss = F.cross_entropy(logits, labels, label_smoothing=self.label_smoothing)
        return loss, {"accuracy": float((logits.detach().argmax(dim=1) == labels).double().mean())}
