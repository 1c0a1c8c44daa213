"""Metric learning on labelled images (seed 000): a triplet-loss embedder, optionally with KoLeo.

Two ways to form triplets (`data.images.triplets`):
- `mined`: image-level train/val/test splits, class-balanced P x K batches, triplets mined in-batch;
- `seed`: the series' fixed triplets, split 95/5 by triplet (reproduction; the leak is reported).
Every batch goes through the model in ONE forward pass (anchors, positives and negatives concatenated).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from latentatlas.analysis.pairs import PAIR_METRICS, pair_metrics
from latentatlas.analysis.retrieval import retrieval_metrics
from latentatlas.config import Config
from latentatlas.data.augment import Augment
from latentatlas.data.triplets import ClassBalancedBatches, fixed_val_triplets
from latentatlas.losses.factory import build_metric_loss
from latentatlas.losses.objective import MetricObjective
from latentatlas.losses.triplet import TripletLoss
from latentatlas.models.build import build_model
from latentatlas.report.links import link_explorer
from latentatlas.tasks.inference import embed_images, eval_transform
from latentatlas.tasks.metric_data import MetricData, load_metric_data
from latentatlas.tasks.metric_results import write_test_analysis

__all__ = ["METRIC_NAMES", "MetricTask"]

log = logging.getLogger("latentatlas")

WHITENING_IMAGES = 5000  # training images (the first, in index order) whose patch covariance sets a whitening layer

# what `validate` reports: the seed's loss on fixed triplets, its pair metrics, and retrieval over the images
METRIC_NAMES = (
    "val_loss",
    *(f"val_{k}" for k in PAIR_METRICS),
    "val_precision_at_1",
    "val_map_at_r",
    "val_r_precision",
)


def _metrics(prefix: str, emb: torch.Tensor, labels: np.ndarray, triplets: np.ndarray, fixed: TripletLoss) -> dict:
    """Pair metrics on fixed triplets, triplet loss, and retrieval (precision@1, MAP@R) over the images."""
    t = torch.as_tensor(triplets)
    a, p, n = emb[t[:, 0]], emb[t[:, 1]], emb[t[:, 2]]
    out = {f"{prefix}_loss": float(fixed(torch.cat([a, p, n]))[0])}
    out.update({f"{prefix}_{k}": float(v) for k, v in pair_metrics(a, p, n).items()})
    ks = tuple(k for k in (1, 5, 10) if k < len(labels))  # tiny validation sets have fewer neighbours
    r = retrieval_metrics(emb, labels, metric="cosine", k=ks, knn_k=min(10, len(labels) - 1))
    out[f"{prefix}_precision_at_1"] = float(r["precision_at_1"])
    out[f"{prefix}_map_at_r"] = float(r["mean_average_precision_at_r"])
    out[f"{prefix}_r_precision"] = float(r["r_precision"])
    return out


def _metric_loss(config: Config, num_classes: int) -> torch.nn.Module:
    """The metric loss `loss.metric.name` with its options (the triplet loss's are `loss.margin/distance/mining`)."""
    loss = config.loss
    options = loss.metric.options()
    if loss.metric.name == "triplet":
        options = {"margin": loss.margin, "distance": loss.distance, "mining": loss.mining}
    return build_metric_loss(loss.metric.name, num_classes, config.model.embedding_dim, **options)


class MetricTask:
    """Data, model and steps of a metric-learning run (a `latentatlas.train.Task`)."""

    metric_names = METRIC_NAMES

    def __init__(self, config: Config, device: torch.device):
        self.config, self.device = config, device
        self.data: MetricData = load_metric_data(config)
        cl = config.model.channels_last
        self.model = build_model(config.model, pretrained=config.model.pretrained).to(device)
        im = config.data.images
        size = int(self.data.images.images.shape[-1])
        self.train_aug = Augment(size=size, padding=im.padding, channels_last=cl, train=im.augment)
        self.eval_aug = eval_transform(config)
        loss = config.loss
        self.loss = _metric_loss(config, len(self.data.images.class_names)).to(device)
        # the loss's parameters (class vectors, proxies) are trained and checkpointed with the model
        self.loss_module = self.loss if any(True for _ in self.loss.parameters()) else None
        self.objective = MetricObjective(self.loss, loss.koleo.weight, loss.koleo.scope, loss.koleo.eps,
                                         name=loss.metric.name, metric_scope=loss.metric.scope)  # fmt: skip
        # the seed's loss on fixed triplets with the run's margin and distance: the validation loss of every run
        self.fixed_triplet_loss = TripletLoss(loss.margin, loss.distance, "none")
        self.pixels = self.data.images.images.to(device)  # (N, C, H, W) uint8, all in memory
        self.labels = self.data.images.labels.to(device)
        if hasattr(self.model, "fit_whitening"):  # a patch-whitened first layer learns its filters from the data
            sample = torch.as_tensor(self.data.train_idx[:WHITENING_IMAGES], device=device)
            self.model.fit_whitening(self.eval_aug(self.pixels[sample]))
        if im.triplets == "mined":
            t = config.train
            train_labels = self.data.labels_np[self.data.train_idx]
            self.sampler = ClassBalancedBatches(train_labels, t.classes_per_batch, t.images_per_class, config.seed)

    # -- training ------------------------------------------------------------------------------------------------
    def train_batches(self, epoch: int, generator: torch.Generator) -> Iterator[dict[str, torch.Tensor]]:
        """Batches of augmented images: fixed triplets (a, p, n stacked per micro-batch) or P x K mined images."""
        if self.config.data.images.triplets == "seed":
            triplets = torch.as_tensor(self.data.train_triplets)
            order = torch.randperm(len(triplets), generator=generator)
            bs = self.config.train.batch_size
            for start in range(0, len(order), bs):
                chunk = triplets[order[start : start + bs]]  # (T, 3)
                if len(chunk) >= self.config.train.accumulation:
                    yield {"triplets": chunk.to(self.device), "generator": generator}
        else:
            self.sampler.set_epoch(epoch)
            for idx in self.sampler:
                yield {"images": torch.as_tensor(self.data.train_idx[idx]).to(self.device), "generator": generator}

    def steps_per_epoch(self) -> int:
        if self.config.data.images.triplets == "seed":
            return -(-len(self.data.train_triplets) // self.config.train.batch_size)
        return len(self.sampler)

    def split(self, batch: dict, parts: int) -> list[tuple[torch.Tensor, Any]]:
        """Micro-batches `(inputs, labels or None)`; each one is a whole set of triplets / of P/parts classes.

        The whole batch is augmented at once, then cut: the micro-batches of any accumulation or process count see
        exactly the images the single large batch would see.
        """
        gen = batch["generator"]
        if "triplets" in batch:
            t = batch["triplets"]  # (T, 3)
            x = self.train_aug(self.pixels[t.T.reshape(-1)], gen).view(3, len(t), *self.pixels.shape[1:])
            # each micro-batch: its anchors, then its positives, then its negatives (what TripletLoss expects)
            return [(x[:, rows].reshape(-1, *x.shape[2:]), None) for rows in torch.arange(len(t)).tensor_split(parts)]
        k = self.config.train.images_per_class
        idx = batch["images"]
        x = self.train_aug(self.pixels[idx], gen)
        groups = torch.arange(len(idx), device=idx.device).view(-1, k)  # one row per class (K images each)
        return [(x[rows.reshape(-1)], self.labels[idx[rows.reshape(-1)]]) for rows in groups.tensor_split(parts)]

    def train_step(
        self, model: torch.nn.Module, micro: tuple[torch.Tensor, Any], epoch: int
    ) -> tuple[torch.Tensor, dict[str, float]]:
        inputs, labels = micro
        emb = model(inputs)
        return self.objective(emb, [labels], [len(emb)])

    def gradcache_objective(self) -> MetricObjective | None:
        """A loss over the whole effective batch (KoLeo or the metric loss with scope `effective`) needs GradCache;
        per-micro-batch losses accumulate exactly as they are."""
        loss = self.config.loss
        whole = (loss.koleo.weight > 0 and loss.koleo.scope == "effective") or loss.metric.scope == "effective"
        return self.objective if whole else None

    # -- evaluation ----------------------------------------------------------------------------------------------
    def embed(self, idx: np.ndarray) -> torch.Tensor:
        return embed_images(self.model, self.pixels[torch.as_tensor(idx, device=self.device)], self.eval_aug)

    def validate(self, epoch: int) -> dict[str, float]:
        d = self.data
        emb = self.embed(d.val_idx)
        return _metrics("val", emb, d.labels_np[d.val_idx], d.val_triplets_local, self.fixed_triplet_loss)

    def finalize(self, run_dir: Path, history: list[dict[str, Any]]) -> dict[str, Any]:
        """Test-split evaluation of the best model, its embeddings and the geometry analysis of seed 000."""
        summary = write_test_analysis(self, run_dir, history)
        link_explorer(run_dir / "report.html")  # an explorer written before (then the run resumed) stays linked
        return summary

    def test_embeddings(self) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
        d = self.data
        emb = self.embed(d.test_idx)
        labels = d.labels_np[d.test_idx]
        triplets = fixed_val_triplets(labels, self.config.data.images.val_triplets, seed=self.config.seed + 1)
        return emb, labels, triplets
