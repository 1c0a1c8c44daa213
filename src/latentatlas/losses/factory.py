"""Build a metric-learning loss by name: `build_metric_loss("supcon", num_classes, embedding_dim, temperature=0.1)`.

Every loss built here is an `nn.Module` called as `loss(embeddings (B, D), labels (B,)) -> (loss, stats)`.
Losses with parameters (class vectors, proxies) take `num_classes` and `embedding_dim`; the others ignore them.
`check_metric_batch` refuses, before training, a P x K batch the loss cannot use.
"""

from __future__ import annotations

import inspect
from typing import Any

from torch import nn

from latentatlas.errors import ConfigError
from latentatlas.losses.batch import check_pk_batch
from latentatlas.losses.multi_similarity import MultiSimilarityLoss
from latentatlas.losses.normalized_softmax import NormalizedSoftmaxLoss
from latentatlas.losses.proxy_anchor import ProxyAnchorLoss
from latentatlas.losses.softmax import SoftmaxLoss
from latentatlas.losses.supcon import SupConLoss
from latentatlas.losses.triplet import TripletLoss

METRIC_LOSSES: dict[str, type[nn.Module]] = {
    "triplet": TripletLoss,
    "normalized_softmax": NormalizedSoftmaxLoss,
    "softmax": SoftmaxLoss,
    "proxy_anchor": ProxyAnchorLoss,
    "supcon": SupConLoss,
    "multi_similarity": MultiSimilarityLoss,
}
# Options the factory fills in itself: the sizes, and triplet's config defaults (TripletLoss's own defaults are
# the seed's fixed triplets, which need no labels).
_SIZES = ("num_classes", "embedding_dim")
_TRIPLET_DEFAULTS = {"margin": 0.2, "distance": "cosine", "mining": "all"}


def loss_class(name: str) -> type[nn.Module]:
    """The loss class registered under `name`, or a ConfigError listing the names."""
    if name not in METRIC_LOSSES:
        raise ConfigError(f"loss name: unknown value {name!r}; use one of {', '.join(METRIC_LOSSES)}")
    return METRIC_LOSSES[name]


def loss_options(name: str) -> list[str]:
    """The option names `build_metric_loss(name, ...)` accepts (its constructor's arguments but the sizes)."""
    parameters = inspect.signature(loss_class(name).__init__).parameters
    return [p for p in parameters if p not in ("self", *_SIZES)]


def build_metric_loss(name: str, num_classes: int, embedding_dim: int, **options: Any) -> nn.Module:
    """Build the loss `name` with `options` (its constructor's keyword arguments).

    Args:
        name: `triplet` (`TripletLoss`, mining `all`, margin 0.2, cosine unless told), `normalized_softmax`,
            `proxy_anchor`, `supcon` or `multi_similarity`.
        num_classes: C, the number of training classes (used by the losses that own one vector per class).
        embedding_dim: D, the embedder's output width (idem).
        **options: e.g. `temperature=0.1`; with a `MetricLossConfig` pass `**config.options()`.

    Raises:
        ConfigError: unknown name or option, or an option out of range.
    """
    cls = loss_class(name)
    allowed = loss_options(name)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(f"{name}: unknown option {unknown[0]!r}; use one of {', '.join(allowed)}")
    if name == "triplet":
        options = {**_TRIPLET_DEFAULTS, **options}
    sizes = {"num_classes": num_classes, "embedding_dim": embedding_dim}
    takes = inspect.signature(cls.__init__).parameters
    return cls(**{k: v for k, v in sizes.items() if k in takes}, **options)


def check_metric_batch(name: str, classes_per_batch: int, images_per_class: int, mining: str = "all") -> None:
    """Refuse before training a P x K batch in which loss `name` finds no positive pair (one-line ConfigError).

    SupCon, multi-similarity and mined triplets need >= 2 images per class; the normalized softmax, ProxyAnchor
    and fixed triplets (`mining="none"`) learn from any batch.
    """
    cls = loss_class(name)
    if hasattr(cls, "check_batch"):
        cls.check_batch(classes_per_batch, images_per_class)
    elif name == "triplet" and mining != "none":
        check_pk_batch(f"triplet (mining {mining})", classes_per_batch, images_per_class)
