"""The shapes lab (seed 004): an AE or VAE on generated binary figures, then latent maps judged by the oracle."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from latentatlas.config import Config
from latentatlas.data.shapes import generate
from latentatlas.losses.elbo import elbo_loss, kl_divergence, kl_weight, reconstruction_loss
from latentatlas.models.build import build_model
from latentatlas.tasks.shapes_data import VAL_SEED_OFFSET, to_tensor
from latentatlas.tasks.shapes_results import write_latent_maps

__all__ = ["METRIC_NAMES", "ShapesTask"]

log = logging.getLogger("latentatlas")

METRIC_NAMES = ("val_loss", "val_recon", "val_kl", "val_pixel_error")  # what `validate` reports


class ShapesTask:
    """Data, model and steps of an autoencoder run on generated figures (a `latentatlas.train.Task`)."""

    metric_names = METRIC_NAMES
    loss_module = None  # the ELBO owns no parameters

    def __init__(self, config: Config, device: torch.device):
        self.config, self.device = config, device
        shapes = config.data.shapes
        self.train_images, self.train_factors = generate(shapes, config.data.n_train, seed=config.seed)
        self.val_images, self.val_factors = generate(shapes, config.data.n_val, seed=config.seed + VAL_SEED_OFFSET)
        cl = config.model.channels_last
        self.x_train = to_tensor(self.train_images, device, cl)
        self.x_val = to_tensor(self.val_images, device, cl)
        self.model = build_model(config.model, image_size=shapes.size).to(device)

    def train_batches(self, epoch: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
        """Shuffled mini-batches of the training images; a last batch of one image is dropped (BatchNorm)."""
        n, bs = len(self.x_train), self.config.train.batch_size
        order = torch.randperm(n, generator=generator).to(self.device)
        for start in range(0, n, bs):
            idx = order[start : start + bs]
            if len(idx) > 1 or n == 1:
                yield self.x_train[idx]

    def steps_per_epoch(self) -> int:
        n, bs = len(self.x_train), self.config.train.batch_size
        return n // bs + (n % bs > 1)

    def split(self, x: torch.Tensor, parts: int) -> list[tuple[torch.Tensor, None]]:
        """Micro-batches `(images, None)` for gradient accumulation."""
        return [(c, None) for c in x.tensor_split(parts) if len(c)]

    def gradcache_objective(self):
        """The ELBO is a sum over images: plain accumulation is already exact."""
        return None

    def train_step(
        self, model: torch.nn.Module, micro: tuple[torch.Tensor, None], epoch: int
    ) -> tuple[torch.Tensor, dict[str, float]]:
        x = micro[0]
        out = model(x)
        beta = kl_weight(self.config.loss.beta, epoch, self.config.loss.kl_warmup_epochs)
        loss, parts = elbo_loss(out.logits, x, out.mu, out.logvar, beta=beta)
        return loss, {"loss": loss.item(), **parts}

    @torch.no_grad()
    def validate(self, epoch: int) -> dict[str, float]:
        """Validation ELBO with the full beta (comparable across epochs), one seeded posterior sample per image."""
        self.model.eval()
        generator = torch.Generator(device=self.device).manual_seed(self.config.seed)
        recon = kl = errors = 0.0
        n = len(self.x_val)
        for start in range(0, n, 256):
            x = self.x_val[start : start + 256]
            mu, logvar = self.model.encode(x)
            z = mu
            if logvar is not None:
                eps = torch.randn(mu.shape, generator=generator, device=self.device)
                z = mu + eps * (0.5 * logvar).exp()
                kl += kl_divergence(mu, logvar).sum().item()
            logits = self.model.decode(z)
            recon += reconstruction_loss(logits, x).item() * len(x)
            errors += ((logits > 0) != (x > 0.5)).float().mean(dim=(1, 2, 3)).sum().item()
        self.model.train()
        recon, kl = recon / n, kl / n
        return {
            "val_loss": recon + self.config.loss.beta * kl,
            "val_recon": recon,
            "val_kl": kl,
            "val_pixel_error": errors / n,
        }

    def finalize(self, run_dir: Path, history: list[dict[str, Any]]) -> dict[str, Any]:
        """Latent maps of the best model: figures, report.html, and the numbers for summary.json."""
        final = self.validate(len(history))
        summary = {k: final[k] for k in ("val_loss", "val_recon", "val_kl", "val_pixel_error")}
        summary.update(write_latent_maps(self, run_dir, history, summary))
        return summary
