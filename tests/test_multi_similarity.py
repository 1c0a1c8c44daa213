"""Multi-similarity loss and miner against pytorch-metric-learning, and the miner by hand."""

import pytest
import torch
from pytorch_metric_learning import losses as pml_losses
from pytorch_metric_learning import miners as pml_miners

from latentatlas.errors import ConfigError, DataError
from latentatlas.losses.batch import cosine_similarities, pair_masks
from latentatlas.losses.multi_similarity import MultiSimilarityLoss, multi_similarity_mine
from tests.metric_reference import assert_same_loss_and_grads, labelled_batch, value_and_grads

OPTIONS = [{}, {"alpha": 1.0, "beta": 20.0, "base": 0.2, "epsilon": 0.3}]


def pml_value(x, labels, options, mining):
    pml_options = {k: v for k, v in options.items() if k != "epsilon"}
    loss = pml_losses.MultiSimilarityLoss(**pml_options)
    if not mining:
        return loss(x, labels)
    miner = pml_miners.MultiSimilarityMiner(epsilon=options.get("epsilon", 0.1))
    return loss(x, labels, miner(x, labels))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("mining", [True, False])
@pytest.mark.parametrize("options", OPTIONS)
def test_matches_pml_values_and_gradients(rng, dtype, mining, options):
    x, labels = labelled_batch(rng, 5, 4, 4, dtype)  # 4 dims: similarities spread, so mining keeps a mix
    value, stats = MultiSimilarityLoss(**options, mining=mining)(x, labels)
    if mining:
        assert 0 < stats["positives_kept"] < 1 or 0 < stats["negatives_kept"] < 1
    else:
        assert stats == {"positives_kept": 1.0, "negatives_kept": 1.0}
    theirs = value_and_grads(pml_value(x, labels, options, mining), [x])
    assert_same_loss_and_grads(value_and_grads(value, [x]), theirs, dtype)


@pytest.mark.parametrize("epsilon", [0.1, 0.5])
def test_miner_keeps_pml_pairs(rng, epsilon):
    x, labels = labelled_batch(rng, 4, 3, 3)
    x = x.detach()
    positives, negatives = pair_masks(labels)
    kept_pos, kept_neg = multi_similarity_mine(cosine_similarities(x, x), positives, negatives, epsilon)
    a1, p, a2, n = pml_miners.MultiSimilarityMiner(epsilon=epsilon)(x, labels)
    want_pos, want_neg = torch.zeros_like(kept_pos), torch.zeros_like(kept_neg)
    want_pos[a1, p], want_neg[a2, n] = True, True
    assert torch.equal(kept_pos, want_pos) and torch.equal(kept_neg, want_neg)
    assert 0 < kept_pos.sum() < positives.sum() or 0 < kept_neg.sum() < negatives.sum()


def test_miner_by_hand():
    # Anchor 0: positive 1 at s=0.9, positive 2 at 0.3; negatives 3 at 0.35, 4 at -0.5 (epsilon 0.1).
    # Negatives kept: s + 0.1 > min positive 0.3 -> 3 only. Positives kept: s - 0.1 < max negative 0.35 -> 2 only.
    s = torch.full((5, 5), -1.0)
    s[0, 1:] = torch.tensor([0.9, 0.3, 0.35, -0.5])
    labels = torch.tensor([0, 0, 0, 1, 1])
    positives, negatives = pair_masks(labels)
    kept_pos, kept_neg = multi_similarity_mine(s, positives, negatives, 0.1)
    assert kept_pos[0].tolist() == [False, False, True, False, False]
    assert kept_neg[0].tolist() == [False, False, False, True, False]


def test_one_class_batch_mines_nothing_and_keeps_the_graph(rng):
    x, labels = labelled_batch(rng, 1, 5, 4)
    value, stats = MultiSimilarityLoss()(x, labels)  # no negative: the miner keeps no positive either
    value.backward()
    assert value.item() == 0 and stats["positives_kept"] == 0 and (x.grad == 0).all()


def test_errors():
    with pytest.raises(DataError, match="multi_similarity: no image in the batch shares its class"):
        MultiSimilarityLoss()(torch.randn(3, 4), torch.tensor([0, 1, 2]))
    with pytest.raises(ConfigError, match=r"multi_similarity.beta: must be > 0.0, got 0"):
        MultiSimilarityLoss(beta=0)
    with pytest.raises(ConfigError, match=r"multi_similarity.base: must be >= -1.0 and < 1.0, got 1.5"):
        MultiSimilarityLoss(base=1.5)
    with pytest.raises(ConfigError, match=r"multi_similarity.epsilon: must be >= 0.0 and < 2.0, got -0.1"):
        MultiSimilarityLoss(epsilon=-0.1)
    with pytest.raises(ConfigError, match="multi_similarity: the batch needs >= 2 images per class"):
        MultiSimilarityLoss.check_batch(8, 1)
