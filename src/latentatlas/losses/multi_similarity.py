"""Multi-similarity loss and its pair miner: weight each pair by its own and its neighbours' similarities.

Wang, Han, Huang, Dong & Scott, "Multi-Similarity Loss with General Pair Weighting for Deep Metric Learning",
CVPR 2019. With S the cosine similarities of the batch, mining (eq. 7-8) keeps, per anchor i,

    negatives k with S_ik + epsilon > min_{positives} S_ij,   positives k with S_ik - epsilon < max_{negatives} S_ij,

and the loss (eq. 11) over the kept positives P_i and negatives N_i is

    L = 1/B sum_i [ 1/alpha log(1 + sum_{k in P_i} exp(-alpha (S_ik - base)))
                  + 1/beta  log(1 + sum_{k in N_i} exp( beta  (S_ik - base))) ].

Equal to pytorch-metric-learning's `MultiSimilarityLoss` (default `MeanReducer`) without a miner, and with the
pairs of its `MultiSimilarityMiner` (same epsilon), in value and gradients. Differences:

- a batch where no sample has a positive is a `DataError` (the batch needs >= 2 images per class); PML returns 0.
  So does PML when every index list has <= 1 entry (e.g. one positive and one negative pair); we compute it;
- the authors' code (MalongTech/research-ms-loss) drops an anchor whose mined positives or negatives are empty
  and drops positives with S >= 1 - epsilon; we follow eq. 11 and PML (an empty side contributes log(1) = 0).

The loss couples the samples of the batch (`batch_level = True`): under accumulation, per micro-batch it only
mines within each micro-batch; GradCache gives the effective batch's loss exactly. Mining is a selection, so it
passes no gradient; the kept pairs are found on detached similarities.
"""

from __future__ import annotations

import torch

from latentatlas.losses.batch import (
    PairLoss,
    check_inputs,
    cosine_similarities,
    log1p_sum_exp,
    pair_masks,
    require_positive_pair,
    require_range,
)

NAME = "multi_similarity"


def multi_similarity_mine(
    similarities: torch.Tensor, positives: torch.Tensor, negatives: torch.Tensor, epsilon: float = 0.1
) -> tuple[torch.Tensor, torch.Tensor]:
    """The multi-similarity miner (Wang et al., 2019, eq. 7-8) on masks, without gradient.

    Args:
        similarities: (B, B) similarities, higher = closer.
        positives, negatives: (B, B) bool masks of candidate pairs (see `pair_masks`).
        epsilon: the mining margin >= 0.

    Returns:
        Kept positives and kept negatives, (B, B) bool each. An anchor without negatives keeps no positive;
        one without positives keeps no negative (as PML's `MultiSimilarityMiner`).
    """
    with torch.no_grad():
        s = similarities.detach()
        hardest_positive = s.masked_fill(~positives, torch.inf).amin(dim=1, keepdim=True)  # (B, 1)
        hardest_negative = s.masked_fill(~negatives, -torch.inf).amax(dim=1, keepdim=True)  # (B, 1)
        kept_positives = positives & (s - epsilon < hardest_negative)
        kept_negatives = negatives & (s + epsilon > hardest_positive)
    return kept_positives, kept_negatives


class MultiSimilarityLoss(PairLoss):
    """Multi-similarity loss on cosine similarities, with its miner on by default.

    Args:
        alpha: positive-pair scale > 0 (paper and PML: 2).
        beta: negative-pair scale > 0 (paper and PML: 50).
        base: lambda, the similarity the pairs are measured from, in [-1, 1) (paper and PML: 0.5).
        epsilon: the miner's margin in [0, 2) (paper and PML's `MultiSimilarityMiner`: 0.1).
        mining: whether to mine pairs first; False weighs every positive and negative pair.
    """

    name = NAME

    def __init__(
        self, alpha: float = 2.0, beta: float = 50.0, base: float = 0.5, epsilon: float = 0.1, mining: bool = True
    ) -> None:
        super().__init__()
        require_range(NAME, "alpha", alpha, 0.0, usual="2")
        require_range(NAME, "beta", beta, 0.0, usual="50")
        require_range(NAME, "base", base, -1.0, 1.0, open_low=False, usual="0.5")
        require_range(NAME, "epsilon", epsilon, 0.0, 2.0, open_low=False, usual="0.1")
        self.alpha, self.beta, self.base, self.epsilon = float(alpha), float(beta), float(base), float(epsilon)
        self.mining = bool(mining)

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Multi-similarity loss of a labelled batch.

        Args:
            embeddings: (B, D) float, any scale (normalized here).
            labels: (B,) integer class ids; at least one pair must share a class.

        Returns:
            `(loss, stats)`: scalar loss; stats `positives_kept` and `negatives_kept`, the shares of candidate
            pairs the miner kept (1.0 without mining).
        """
        labels = check_inputs(NAME, embeddings, labels)
        positives, negatives = pair_masks(labels)  # (B, B)
        require_positive_pair(NAME, positives)
        sim = cosine_similarities(embeddings, embeddings)  # (B, B)
        kept_pos, kept_neg = positives, negatives
        if self.mining:
            kept_pos, kept_neg = multi_similarity_mine(sim, positives, negatives, self.epsilon)
        pos_terms = log1p_sum_exp(-self.alpha * (sim - self.base), kept_pos, dim=1) / self.alpha  # (B,)
        neg_terms = log1p_sum_exp(self.beta * (sim - self.base), kept_neg, dim=1) / self.beta  # (B,)
        stats = {
            "positives_kept": float(kept_pos.sum()) / max(int(positives.sum()), 1),
            "negatives_kept": float(kept_neg.sum()) / max(int(negatives.sum()), 1),
        }
        return (pos_terms + neg_terms).mean(), stats
