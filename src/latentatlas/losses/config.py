"""Config sections of the metric-learning losses: which loss (`name`) and each loss's options.

Plain dataclasses for the project's config loader (nested sections, `validate(prefix)` raising ConfigError).
The ranges live once, in the losses' constructors: `validate` builds the loss and renames its message's prefix
to the config key, e.g. `loss.metric.supcon.temperature: must be > 0, got 0.0; use e.g. 0.1`.
Triplet's options (margin, distance, mining) are today's `loss.margin`, `loss.distance` and `loss.mining`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from latentatlas.errors import ConfigError
from latentatlas.losses.multi_similarity import MultiSimilarityLoss
from latentatlas.losses.normalized_softmax import NormalizedSoftmaxLoss
from latentatlas.losses.proxy_anchor import ProxyAnchorLoss
from latentatlas.losses.softmax import SoftmaxLoss
from latentatlas.losses.supcon import SupConLoss

MetricLossName = Literal["triplet", "normalized_softmax", "softmax", "proxy_anchor", "supcon", "multi_similarity"]


def _validate_by_building(prefix: str, cls: type, *args: int, **options: Any) -> None:
    """Build `cls(*args, **options)`; re-raise its ConfigError `<cls.name>.<key>: ...` as `<prefix>.<key>: ...`."""
    try:
        cls(*args, **options)
    except ConfigError as exc:
        text, name = str(exc), cls.name
        raise ConfigError(prefix + text[len(name) :] if text.startswith(name + ".") else f"{prefix}: {text}") from None


@dataclass
class NormalizedSoftmaxConfig:
    """Cosine classifier (Zhai & Wu, 2019): `temperature` > 0, `label_smoothing` in [0, 1)."""

    temperature: float = 0.05
    label_smoothing: float = 0.0

    def validate(self, prefix: str) -> None:
        _validate_by_building(prefix, NormalizedSoftmaxLoss, 1, 1, **dataclasses.asdict(self))


@dataclass
class SoftmaxConfig:
    """Plain softmax classifier (the metric-learning baseline): `label_smoothing` in [0, 1)."""

    label_smoothing: float = 0.0

    def validate(self, prefix: str) -> None:
        _validate_by_building(prefix, SoftmaxLoss, 1, 1, **dataclasses.asdict(self))


@dataclass
class ProxyAnchorConfig:
    """Proxy-Anchor (Kim et al., 2020): `margin` in [0, 1), `alpha` > 0."""

    margin: float = 0.1
    alpha: float = 32.0

    def validate(self, prefix: str) -> None:
        _validate_by_building(prefix, ProxyAnchorLoss, 1, 1, **dataclasses.asdict(self))


@dataclass
class SupConConfig:
    """Supervised contrastive (Khosla et al., 2020): `temperature` > 0."""

    temperature: float = 0.1

    def validate(self, prefix: str) -> None:
        _validate_by_building(prefix, SupConLoss, **dataclasses.asdict(self))


@dataclass
class MultiSimilarityConfig:
    """Multi-similarity (Wang et al., 2019): `alpha`, `beta` > 0, `base` in [-1, 1), miner `epsilon` in [0, 2)."""

    alpha: float = 2.0
    beta: float = 50.0
    base: float = 0.5
    epsilon: float = 0.1
    mining: bool = True

    def validate(self, prefix: str) -> None:
        _validate_by_building(prefix, MultiSimilarityLoss, **dataclasses.asdict(self))


@dataclass
class MetricLossConfig:
    """Which metric loss trains the embedder (`name`) and the options of each; only `name`'s are used.

    `scope` (under gradient accumulation): `micro` computes the loss on each micro-batch (plain accumulation;
    exact for losses that are means over samples, such as the normalized softmax), `effective` over the whole
    effective batch through GradCache (exact for batch-level losses: mined triplets, SupCon, multi-similarity,
    ProxyAnchor).

    Build it with `build_metric_loss(cfg.name, num_classes, embedding_dim, **cfg.options())`.
    """

    name: MetricLossName = "triplet"
    scope: Literal["micro", "effective"] = "micro"
    normalized_softmax: NormalizedSoftmaxConfig = field(default_factory=NormalizedSoftmaxConfig)
    softmax: SoftmaxConfig = field(default_factory=SoftmaxConfig)
    proxy_anchor: ProxyAnchorConfig = field(default_factory=ProxyAnchorConfig)
    supcon: SupConConfig = field(default_factory=SupConConfig)
    multi_similarity: MultiSimilarityConfig = field(default_factory=MultiSimilarityConfig)

    def options(self) -> dict[str, Any]:
        """The chosen loss's options as keyword arguments; `{}` for triplet (its options are `loss.*` today)."""
        return {} if self.name == "triplet" else dataclasses.asdict(getattr(self, self.name))

    def validate(self, prefix: str) -> None:
        names = [f.name for f in dataclasses.fields(self) if f.name != "name"]
        if self.name not in ("triplet", *names):
            raise ConfigError(f"{prefix}.name: unknown value {self.name!r}; use one of triplet, {', '.join(names)}")
