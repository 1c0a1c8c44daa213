"""build_metric_loss by name, check_metric_batch, and the losses' config sections."""

import pytest
import torch

from latentatlas.config_schema import from_dict, validate_tree
from latentatlas.errors import ConfigError
from latentatlas.losses.config import MetricLossConfig
from latentatlas.losses.factory import METRIC_LOSSES, build_metric_loss, check_metric_batch, loss_options
from latentatlas.losses.multi_similarity import MultiSimilarityLoss
from latentatlas.losses.normalized_softmax import NormalizedSoftmaxLoss
from latentatlas.losses.triplet import TripletLoss


@pytest.mark.parametrize("name", list(METRIC_LOSSES))
def test_every_loss_builds_and_runs(name):
    loss = build_metric_loss(name, 3, 4)
    assert isinstance(loss, METRIC_LOSSES[name])
    value, stats = loss(torch.randn(6, 4), torch.tensor([0, 0, 1, 1, 2, 2]))
    assert value.ndim == 0 and torch.isfinite(value) and all(isinstance(v, (int, float)) for v in stats.values())


def test_options_reach_the_loss():
    loss = build_metric_loss("normalized_softmax", 10, 16, temperature=0.1, label_smoothing=0.2)
    assert isinstance(loss, NormalizedSoftmaxLoss) and loss.weight.shape == (10, 16)
    assert (loss.temperature, loss.label_smoothing) == (0.1, 0.2)
    ms = build_metric_loss("multi_similarity", 10, 16, mining=False, beta=30)
    assert isinstance(ms, MultiSimilarityLoss) and not ms.mining and ms.beta == 30
    triplet = build_metric_loss("triplet", 10, 16)  # the config's defaults, not the seed's fixed triplets
    assert isinstance(triplet, TripletLoss) and (triplet.margin, triplet.mining) == (0.2, "all")
    assert build_metric_loss("triplet", 10, 16, mining="hard", margin=0.4).mining == "hard"
    assert loss_options("proxy_anchor") == ["margin", "alpha"]


def test_factory_errors():
    with pytest.raises(ConfigError, match="loss name: unknown value 'arcface'; use one of triplet, normalized_softmax"):
        build_metric_loss("arcface", 10, 16)
    with pytest.raises(ConfigError, match="supcon: unknown option 'margin'; use one of temperature"):
        build_metric_loss("supcon", 10, 16, margin=0.1)
    with pytest.raises(ConfigError, match="proxy_anchor.num_classes: must be an integer >= 1, got 0"):
        build_metric_loss("proxy_anchor", 0, 16)


def test_check_metric_batch():
    for name in METRIC_LOSSES:
        check_metric_batch(name, 10, 2)
    for name in ("normalized_softmax", "proxy_anchor"):
        check_metric_batch(name, 32, 1)  # one image per class is fine for class-vector losses
    check_metric_batch("triplet", 32, 1, mining="none")
    for name, match in [("supcon", "supcon"), ("multi_similarity", "multi_similarity"), ("triplet", "triplet")]:
        with pytest.raises(ConfigError, match=f"{match}.*needs >= 2 images per class.*images_per_class=1"):
            check_metric_batch(name, 32, 1)


def test_config_options_and_round_trip():
    cfg = from_dict(MetricLossConfig, {"name": "supcon", "supcon": {"temperature": 0.2}}, "loss.metric")
    validate_tree(cfg, "loss.metric")
    assert cfg.options() == {"temperature": 0.2}
    assert build_metric_loss(cfg.name, 10, 16, **cfg.options()).temperature == 0.2
    assert MetricLossConfig().options() == {}  # triplet: its options are today's loss.margin / distance / mining
    ms = MetricLossConfig(name="multi_similarity").options()
    assert ms == {"alpha": 2.0, "beta": 50.0, "base": 0.5, "epsilon": 0.1, "mining": True}


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"supcon": {"temperature": 0.0}}, r"loss.metric.supcon.temperature: must be > 0.0, got 0.0; use e.g. 0.1"),
        ({"proxy_anchor": {"margin": -0.1}}, r"loss.metric.proxy_anchor.margin: must be >= 0.0 and < 1.0"),
        ({"normalized_softmax": {"label_smoothing": 2.0}}, r"loss.metric.normalized_softmax.label_smoothing: must"),
        ({"multi_similarity": {"alpha": -2.0}}, r"loss.metric.multi_similarity.alpha: must be > 0.0, got -2.0"),
        ({"name": "arcface"}, r"loss.metric.name"),
        ({"supcon": {"tau": 0.1}}, r"unknown key 'loss.metric.supcon.tau'"),
    ],
)
def test_config_errors(data, match):
    with pytest.raises(ConfigError, match=match):
        validate_tree(from_dict(MetricLossConfig, data, "loss.metric"), "loss.metric")
