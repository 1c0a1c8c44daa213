"""Convolutional autoencoder and VAE for square binary images (seed 004's cylinders).

Both share one encoder trunk and one decoder; the VAE's head outputs a mean and a log-variance
(Kingma & Welling, 2014) and samples with the reparameterization trick during training.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from latentatlas.errors import ConfigError


@dataclass
class AEOutput:
    """What `forward` returns. Shapes: logits (B, 1, S, S); z, mu, logvar (B, L); logvar is None for the AE."""

    logits: torch.Tensor
    z: torch.Tensor
    mu: torch.Tensor
    logvar: torch.Tensor | None


def _check(image_size: int, widths: list[int], latent_dim: int) -> int:
    if latent_dim < 1:
        raise ConfigError(f"model.latent_dim: must be >= 1, got {latent_dim}")
    if not widths or any(w < 1 for w in widths):
        raise ConfigError(f"model.widths: need at least one positive width, got {widths}")
    side = image_size // 2 ** len(widths)
    if side < 1 or side * 2 ** len(widths) != image_size:
        raise ConfigError(
            f"model.widths: {len(widths)} stride-2 stages do not divide image size {image_size}; use fewer widths"
        )
    return side


class Encoder(nn.Module):
    """(B, 1, S, S) -> (B, widths[-1] * s * s) with s = S / 2**len(widths); stride-2 3x3 convs, BN, ReLU."""

    def __init__(self, widths: list[int]):
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 1
        for w in widths:
            layers += [
                nn.Conv2d(c_in, w, 3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(w),
                nn.ReLU(True),
            ]
            c_in = w
        self.net = nn.Sequential(*layers, nn.Flatten())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Decoder(nn.Module):
    """(B, L) -> logits (B, 1, S, S); mirror of the encoder with stride-2 transposed convs."""

    def __init__(self, latent_dim: int, widths: list[int], side: int):
        super().__init__()
        rev = list(reversed(widths))
        self.side, self.c0 = side, rev[0]
        self.fc = nn.Sequential(nn.Linear(latent_dim, rev[0] * side * side), nn.ReLU(True))
        layers: list[nn.Module] = []
        for c_in, c_out in zip(rev, rev[1:]):
            layers += [
                nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(True),
            ]
        layers.append(nn.ConvTranspose2d(rev[-1], 1, 4, stride=2, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z).view(-1, self.c0, self.side, self.side)
        return self.net(h)


class ConvAE(nn.Module):
    """Deterministic autoencoder: `encode(x) -> (z, None)`, `decode(z) -> logits`."""

    variational = False

    def __init__(self, latent_dim: int = 2, widths: list[int] | None = None, image_size: int = 64):
        super().__init__()
        widths = list(widths or [16, 32, 64, 128])
        side = _check(image_size, widths, latent_dim)
        self.latent_dim, self.image_size = latent_dim, image_size
        self.encoder = Encoder(widths)
        flat = widths[-1] * side * side
        self.head = nn.Linear(flat, latent_dim * (2 if self.variational else 1))
        self.decoder = Decoder(latent_dim, widths, side)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x: (B, 1, S, S) in [0, 1] -> mu (B, L) and logvar (B, L) or None."""
        h = self.head(self.encoder(x))
        if not self.variational:
            return h, None
        mu, logvar = h.chunk(2, dim=1)
        return mu, logvar.clamp(-30.0, 20.0)  # keeps exp(logvar) finite in fp32

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: (B, L) -> logits (B, 1, S, S)."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> AEOutput:
        mu, logvar = self.encode(x)
        z = mu
        if logvar is not None and self.training:
            z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()  # reparameterization trick
        return AEOutput(self.decode(z), z, mu, logvar)


class ConvVAE(ConvAE):
    """Variational autoencoder: the encoder head outputs mean and log-variance of q(z|x)."""

    variational = True


def build_autoencoder(kind: str, latent_dim: int, widths: list[int], image_size: int) -> ConvAE:
    """Build `ae` or `vae`."""
    classes = {"ae": ConvAE, "vae": ConvVAE}
    if kind not in classes:
        raise ConfigError(f"model.kind: {kind!r} is not an autoencoder; use ae or vae")
    return classes[kind](latent_dim=latent_dim, widths=widths, image_size=image_size)
