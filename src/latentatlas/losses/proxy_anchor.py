"""Proxy-Anchor loss: each class proxy is an anchor pulling its batch samples in and pushing the others out.

Kim, Kim, Cho & Kwak, "Proxy Anchor Loss for Deep Metric Learning", CVPR 2020, eq. 4, with s = cosine similarity,
P the C proxies, P+ the proxies with a sample in the batch, X_p+ / X_p- the batch samples of / not of p's class:

    L = 1/|P+| sum_{p in P+} log(1 + sum_{x in X_p+} exp(-alpha (s(x, p) - margin)))
      + 1/|P|  sum_{p in P}  log(1 + sum_{x in X_p-} exp( alpha (s(x, p) + margin)))

Equal to pytorch-metric-learning's `ProxyAnchorLoss` (default `DivisorReducer`, no miner, no regularizer) in
value and gradients, for the embeddings and the proxies. Differences:

- proxies are `proxies (C, D)` as in PML, initialized as PML and the authors' code (Kaiming normal, fan_out);
  they stay in their own dtype and are cast differentiably to the embeddings' dtype and device in `forward`
  (PML overwrites `proxies.data` with the embeddings' dtype);
- labels outside [0, C) are a one-line `DataError` (PML: an error inside `one_hot`), and margin / alpha out of
  range a `ConfigError`;
- the loss is not a mean of per-sample terms (each proxy's log-sum-exp runs over the batch), so `batch_level`
  is True: under accumulation use GradCache for the effective batch's loss.

The authors train the proxies with a 100x larger learning rate than the network; give them their own optimizer
parameter group.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from latentatlas.losses.batch import (
    check_inputs,
    check_label_range,
    cosine_similarities,
    log1p_sum_exp,
    require_range,
    require_size,
)

NAME = "proxy_anchor"


class ProxyAnchorLoss(nn.Module):
    """Proxy-Anchor loss over `num_classes` learned proxies.

    Args:
        num_classes: C, number of classes (= proxies); labels must lie in [0, C).
        embedding_dim: D, the embeddings' width.
        margin: delta in [0, 1) on the cosine (paper and PML: 0.1).
        alpha: scale > 0 (paper and PML: 32).

    Attributes:
        proxies: (C, D) `nn.Parameter`, one proxy per class (normalized in `forward`, not in place).
    """

    name = NAME
    batch_level = True

    def __init__(self, num_classes: int, embedding_dim: int, margin: float = 0.1, alpha: float = 32.0) -> None:
        super().__init__()
        require_size(NAME, "num_classes", num_classes)
        require_size(NAME, "embedding_dim", embedding_dim)
        require_range(NAME, "margin", margin, 0.0, 1.0, open_low=False, usual="0.1")
        require_range(NAME, "alpha", alpha, 0.0, usual="32")
        self.num_classes, self.embedding_dim = num_classes, embedding_dim
        self.margin, self.alpha = float(margin), float(alpha)
        self.proxies = nn.Parameter(torch.empty(num_classes, embedding_dim))
        nn.init.kaiming_normal_(self.proxies, mode="fan_out")

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Proxy-Anchor loss of a labelled batch.

        Args:
            embeddings: (B, D) float, any scale (normalized here).
            labels: (B,) integer class ids in [0, C).

        Returns:
            `(loss, stats)`: scalar loss; stats `pos` and `neg` (the two terms) and `proxies_with_positives`
            (|P+|).
        """
        labels = check_inputs(NAME, embeddings, labels, self.embedding_dim)
        check_label_range(NAME, labels, self.num_classes)
        proxies = self.proxies.to(device=embeddings.device, dtype=embeddings.dtype)
        cos = cosine_similarities(embeddings, proxies)  # (B, C)
        positive = F.one_hot(labels, self.num_classes).bool()  # (B, C): sample x belongs to proxy p
        with_positives = positive.any(dim=0)  # (C,)
        pos_terms = log1p_sum_exp(-self.alpha * (cos - self.margin), positive, dim=0)  # (C,), 0 without positives
        neg_terms = log1p_sum_exp(self.alpha * (cos + self.margin), ~positive, dim=0)  # (C,)
        n_with = int(with_positives.sum())
        pos, neg = pos_terms.sum() / n_with, neg_terms.sum() / self.num_classes
        stats = {"proxy_positive": float(pos.detach()), "proxy_negative": float(neg.detach()),
                 "proxies_with_positives": float(n_with)}  # fmt: skip
        return pos + neg, stats
