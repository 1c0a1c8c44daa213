"""Losses: ELBO for autoencoders; triplet and KoLeo for metric learning."""

from latentatlas.losses.elbo import elbo_loss, kl_divergence, kl_weight, reconstruction_loss

__all__ = ["elbo_loss", "kl_divergence", "kl_weight", "reconstruction_loss"]
