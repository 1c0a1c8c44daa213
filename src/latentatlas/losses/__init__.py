"""Losses: ELBO for autoencoders; triplet and KoLeo for metric learning."""

from latentatlas.losses.elbo import elbo_loss, kl_divergence, kl_weight, reconstruction_loss
from latentatlas.losses.koleo import KoLeoLoss, koleo_loss
from latentatlas.losses.triplet import TripletLoss, get_distance, triplet_loss

__all__ = [
    "KoLeoLoss",
    "TripletLoss",
    "elbo_loss",
    "get_distance",
    "kl_divergence",
    "kl_weight",
    "koleo_loss",
    "reconstruction_loss",
    "triplet_loss",
]
