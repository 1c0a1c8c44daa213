"""Experiment configuration: typed dataclasses with defaults in code, YAML files holding only overrides.

`load_config("configs/shapes-vae.yaml", ["train.epochs=10", "model.latent_dim=3"])` returns a validated `Config`.
Unknown keys and bad values raise `ConfigError` naming the key and what is allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from latentatlas.config_schema import field_type, from_dict, to_dict, validate_tree
from latentatlas.data.config import DataConfig
from latentatlas.errors import ConfigError
from latentatlas.jsonio import write_text_atomic
from latentatlas.losses.config import MetricLossConfig
from latentatlas.losses.factory import check_metric_batch
from latentatlas.models.config import AUTOENCODERS, EMBEDDERS, ModelConfig
from latentatlas.textio import read_text


def _at_least(prefix: str, key: str, value: float, low: float, rule: str) -> None:
    """Refuse a value below `low` or not finite (NaN passes every comparison, so it is tested first)."""
    if not math.isfinite(value) or value < low:
        raise ConfigError(f"{prefix}.{key}: {rule}, got {value}")


def _above(prefix: str, key: str, value: float, low: float, rule: str) -> None:
    if not math.isfinite(value) or value <= low:
        raise ConfigError(f"{prefix}.{key}: {rule}, got {value}")


@dataclass
class KoLeoConfig:
    """KoLeo regularizer (Sablayrolles et al., 2019): `weight` = lambda; `scope` = which embeddings see each other:
    `micro` (each micro-batch, as the seed), `effective` (the whole accumulated batch, exact via GradCache),
    `global` (all processes of a multi-process run)."""

    weight: float = 0.0
    scope: Literal["micro", "effective", "global"] = "micro"
    eps: float = 1e-8

    def validate(self, prefix: str) -> None:
        _at_least(prefix, "weight", self.weight, 0.0, "lambda must be >= 0")
        _above(prefix, "eps", self.eps, 0.0, "must be > 0 (it keeps log(distance + eps) finite); use e.g. 1e-8")


@dataclass
class LossConfig:
    """Losses. Autoencoders: reconstruction + beta * KL, beta ramped linearly over `kl_warmup_epochs`.
    Embedders: the metric loss `metric.name` (default the triplet loss with `margin` on `distance`, `mining` in
    class-balanced batches, `none` = fixed triplets; or normalized softmax, ProxyAnchor, SupCon, multi-similarity
    with their options under `metric.<name>`), plus `koleo.weight` * KoLeo."""

    beta: float = 1.0
    kl_warmup_epochs: int = 0
    margin: float = 0.2
    distance: Literal["cosine", "euclidean"] = "cosine"
    mining: Literal["none", "all", "hard", "semi_hard"] = "all"
    koleo: KoLeoConfig = field(default_factory=KoLeoConfig)
    metric: MetricLossConfig = field(default_factory=MetricLossConfig)

    def validate(self, prefix: str) -> None:
        _at_least(prefix, "beta", self.beta, 0.0, "must be >= 0")
        if self.kl_warmup_epochs < 0:
            raise ConfigError(f"{prefix}.kl_warmup_epochs: must be >= 0, got {self.kl_warmup_epochs}")
        _at_least(prefix, "margin", self.margin, 0.0, "must be >= 0")


@dataclass
class TrainConfig:
    """The training loop. `threads=0` uses every core; `max_minutes` stops cleanly once the budget is spent.

    `schedule`: the learning rate over the run (by steps, or by time under `max_minutes`, so it ends with the
    budget): `constant`, `cosine` decay to 0 or `linear` decay to 0, after a linear `warmup` over that share of
    the run. `diverge_factor`: stop (keeping the last good checkpoint) when a step's loss exceeds this multiple of
    the run's lowest positive loss so far (its first step's or an epoch mean's); null never stops on size alone (a
    NaN or infinite loss always stops the run).
    """

    epochs: int = 50
    batch_size: int = 64
    classes_per_batch: int = 10
    images_per_class: int = 8
    accumulation: int = 1
    lr: float = 1e-3
    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    schedule: Literal["constant", "cosine", "linear"] = "constant"
    warmup: float = 0.0
    weight_decay: float = 0.0
    grad_clip: float | None = None
    threads: int = 0
    best_metric: str = "val_loss"
    best_mode: Literal["min", "max"] = "min"
    max_minutes: float | None = None
    progress: bool = True
    diverge_factor: float | None = 1000.0

    def validate(self, prefix: str) -> None:
        if self.epochs < 1:
            raise ConfigError(f"{prefix}.epochs: must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ConfigError(f"{prefix}.batch_size: must be >= 1, got {self.batch_size}")
        _above(prefix, "lr", self.lr, 0.0, "must be > 0; use e.g. 1e-3")
        _at_least(prefix, "weight_decay", self.weight_decay, 0.0, "must be >= 0 (0 = no decay)")
        if self.grad_clip is not None:
            _above(prefix, "grad_clip", self.grad_clip, 0.0, "the largest gradient norm must be > 0, or null for none")
        if self.diverge_factor is not None:
            _above(
                prefix, "diverge_factor", self.diverge_factor, 1.0, "must be > 1 (a multiple of the best loss), or null"
            )
        if self.accumulation < 1:
            raise ConfigError(f"{prefix}.accumulation: must be >= 1 micro-batches per step, got {self.accumulation}")
        if self.images_per_class < 2:
            raise ConfigError(f"{prefix}.images_per_class: K must be >= 2 to form positive pairs")
        if self.classes_per_batch < 2:
            raise ConfigError(
                f"{prefix}.classes_per_batch: P must be >= 2 (a batch needs at least 2 x K images, from 2 classes)"
            )
        if self.threads < 0:
            raise ConfigError(f"{prefix}.threads: must be >= 0 (0 = all cores), got {self.threads}")
        if not 0.0 <= self.warmup < 1.0:
            raise ConfigError(f"{prefix}.warmup: {self.warmup} is not a share of the run in [0, 1); e.g. 0.05")
        if self.max_minutes is not None:
            _above(prefix, "max_minutes", self.max_minutes, 0.0, "must be > 0 or null")


@dataclass
class AnalysisConfig:
    """Latent maps written after training: decoded grid, prior samples, morphs, judged by the validity oracle; and
    the disentanglement scores against the generator's factors (docs/disentanglement.md): MIG, DCI and SAP on
    `score_figures` fresh figures, FactorVAE and BetaVAE on `factor_vae_points` / `beta_vae_points` training points
    (evaluation: half as many; 0 skips both sampler-based scores), and latent traversals."""

    grid_n: int = 15
    n_samples: int = 400
    n_morphs: int = 6
    morph_steps: int = 12
    disentanglement: bool = True
    score_figures: int = 2000
    factor_vae_points: int = 200  # disentanglement_lib: 10,000 (each point encodes 64 figures); the study sets more
    beta_vae_points: int = 100  # disentanglement_lib: 10,000 (each point encodes 2 x 64 figures)

    def validate(self, prefix: str) -> None:
        for key in ("grid_n", "n_samples", "n_morphs", "morph_steps"):
            if getattr(self, key) < 1:
                raise ConfigError(f"{prefix}.{key}: must be >= 1, got {getattr(self, key)}")
        if self.morph_steps < 2:
            raise ConfigError(f"{prefix}.morph_steps: must be >= 2, got {self.morph_steps}")
        if self.score_figures < 100:
            raise ConfigError(f"{prefix}.score_figures: {self.score_figures} is too few for 20-bin histograms; "
                              "use at least 100 (disentanglement_lib: 10000)")  # fmt: skip
        for key in ("factor_vae_points", "beta_vae_points"):
            if getattr(self, key) < 0 or 0 < getattr(self, key) < 10:
                raise ConfigError(f"{prefix}.{key}: {getattr(self, key)}; use 0 (skip) or at least 10 points")


@dataclass
class Config:
    """A whole experiment. `name` labels the run directory; `seed` makes it reproducible."""

    name: str = "run"
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    def validate(self, prefix: str) -> None:
        wanted = AUTOENCODERS if self.data.kind == "shapes" else EMBEDDERS
        if self.model.kind not in wanted:
            raise ConfigError(
                f"model.kind: {self.model.kind!r} does not train on data.kind={self.data.kind!r}; use one of "
                f"{', '.join(wanted)}"
            )
        if self.data.kind == "images":
            self._validate_images()
        elif self.train.batch_size < 2:  # the shapes task drops a batch of one image (BatchNorm statistics)
            raise ConfigError(
                f"train.batch_size: {self.train.batch_size} image per batch gives no optimizer step (a batch of one "
                "is dropped for BatchNorm); use train.batch_size >= 2"
            )

    def _validate_images(self) -> None:
        t, loss = self.train, self.loss
        seed = self.data.images.triplets == "seed"
        if seed and loss.metric.name != "triplet":
            raise ConfigError(f"loss.metric.name: {loss.metric.name} needs labelled batches; the seed's fixed "
                              "triplets train the triplet loss only (use data.images.triplets=mined)")  # fmt: skip
        if seed and loss.metric.scope == "effective":
            raise ConfigError("loss.metric.scope: fixed triplets are means over triplets, exact per micro-batch; "
                              "use scope=micro")  # fmt: skip
        if seed and loss.mining != "none":
            raise ConfigError("loss.mining: fixed seed triplets are not mined; set loss.mining=none")
        if not seed and loss.metric.name == "triplet" and loss.mining == "none":
            raise ConfigError("loss.mining: class-balanced batches need a mining rule; use all, hard or semi_hard")
        if not seed:
            check_metric_batch(loss.metric.name, t.classes_per_batch, t.images_per_class, loss.mining)
        micro = t.batch_size if self.data.images.triplets == "seed" else t.classes_per_batch
        if micro % t.accumulation:
            what = "train.batch_size" if self.data.images.triplets == "seed" else "train.classes_per_batch"
            raise ConfigError(f"train.accumulation: {t.accumulation} does not divide {what}={micro}; pick a divisor")


def parse_override(text: str) -> tuple[str, Any]:
    """`"train.epochs=10"` -> `("train.epochs", 10)`; the value is read as YAML (numbers, lists, true/false)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"override {text!r} is not key=value; write e.g. train.epochs=10")
    field_type(Config, key)  # raises for unknown keys
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    if isinstance(value, str):  # YAML 1.1 reads 1e-3 (no dot) as a string; a user means the number
        try:
            value = float(value) if value.strip().lower() not in ("nan", "inf", "-inf", ".inf") else value
        except ValueError:
            pass
    return key, value


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    *parents, leaf = key.split(".")
    node = data
    for part in parents:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{part}: expected a mapping, got {child!r}")
        node = child
    node[leaf] = value


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping; missing, unreadable or non-mapping files are ConfigErrors."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} not found; pass a YAML file such as configs/shapes-vae.yaml")
    text = read_text(path, "config file")  # binary or not UTF-8: a DataError naming the file and the byte
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"config file {str(path)!r} is not valid YAML ({first})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {str(path)!r} must hold a mapping of keys, got {type(data).__name__}")
    return data


def config_from_dict(data: dict[str, Any], overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Apply dotted `overrides` to a plain dict, build the typed Config and validate it."""
    data = yaml.safe_load(yaml.safe_dump(data))  # deep copy of plain data
    for text in overrides:
        key, value = parse_override(text)
        _set_dotted(data, key, value)
    config = from_dict(Config, data)
    validate_tree(config)
    return config


def load_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Load a YAML file of overrides (or the defaults when `path` is None), then dotted overrides."""
    data = read_yaml(path) if path is not None else {}
    if path is not None and "name" not in data:
        data["name"] = Path(path).stem
    return config_from_dict(data, overrides)


def save_config(config: Config, path: str | Path) -> None:
    """Write the resolved config as YAML (every key, so the run can be reproduced from its folder alone)."""
    write_text_atomic(path, yaml.safe_dump(config.to_dict(), sort_keys=False))
