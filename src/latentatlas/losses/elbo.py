"""Autoencoder losses: Bernoulli reconstruction and the VAE's KL term (Kingma & Welling, 2014)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def reconstruction_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy with logits, summed over pixels, averaged over the batch.

    Args:
        logits: (B, 1, S, S) decoder output before the sigmoid.
        target: (B, 1, S, S) binary image in {0, 1}.
    """
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return bce.flatten(1).sum(1).mean()


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per sample, summed over latent dims: (B, L) -> (B,).

    Closed form: 0.5 * sum(mu^2 + exp(logvar) - 1 - logvar).
    """
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1)


def kl_weight(beta: float, epoch: int, warmup_epochs: int) -> float:
    """Linear KL warm-up (Bowman et al., 2016): beta * min(1, (epoch + 1) / warmup) for 0-based epochs."""
    if warmup_epochs <= 0:
        return beta
    return beta * min(1.0, (epoch + 1) / warmup_epochs)


def elbo_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor | None,
    beta: float = 1.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Negative ELBO with a beta weight on KL (Higgins et al., 2017); the plain AE loss when logvar is None.

    Returns the loss to minimize and its parts (`recon`, `kl`) as floats, per sample.
    """
    recon = reconstruction_loss(logits, target)
    if logvar is None:
        return recon, {"recon": recon.item(), "kl": 0.0}
    kl = kl_divergence(mu, logvar).mean()
    return recon + beta * kl, {"recon": recon.item(), "kl": kl.item()}
