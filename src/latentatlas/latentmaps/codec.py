"""Encode figures to latent means and decode latents to figures, in batches, in inference mode.

Models follow `latentatlas.models.autoencoder`: `encode(x (B, 1, S, S)) -> (mu (B, L), logvar (B, L) or None)`,
`decode(z (B, L)) -> logits (B, 1, S, S)`, `latent_dim`, `variational`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from latentatlas.errors import DataError

__all__ = ["decode_latents", "encode_dataset", "image_batch", "inference", "reconstructions", "to_numpy"]


@contextlib.contextmanager
def inference(model: torch.nn.Module) -> Iterator[torch.device]:
    """eval() + no_grad() for the block, then restore the model's training flag; yields its device."""
    was_training = model.training
    try:
        device = next(model.parameters()).device
    except StopIteration:  # a parameter-free decoder (e.g. a renderer in tests)
        device = torch.device("cpu")
    model.eval()
    try:
        with torch.no_grad():
            yield device
    finally:
        model.train(was_training)


def to_numpy(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def image_batch(images: Any) -> np.ndarray:
    """(N, S, S) or (N, 1, S, S), bool / uint8 / float in [0, 1] -> (N, 1, S, S) float32."""
    x = to_numpy(images)
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] != 1 or x.shape[2] != x.shape[3]:
        raise DataError(f"images: expected (N, S, S) or (N, 1, S, S) square binary images, got shape {x.shape}")
    if x.dtype == np.uint8 and x.size and x.max() > 1:
        x = x / 255.0  # 8-bit grey levels
    x = x.astype(np.float32)
    if x.size and (x.min() < 0.0 or x.max() > 1.0):
        raise DataError(f"images: values span [{x.min():g}, {x.max():g}]; scale them into [0, 1] first")
    return x


def _uses_channels_last(model: torch.nn.Module) -> bool:
    """Whether the model's convolution weights are stored channels-last (then its inputs should be too)."""
    for p in model.parameters():
        if p.ndim == 4 and not p.is_contiguous() and p.is_contiguous(memory_format=torch.channels_last):
            return True
    return False


def encode_dataset(
    model: torch.nn.Module,
    images: Any,
    batch_size: int = 256,
    channels_last: bool | None = None,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Posterior means (and log-variances) of a set of images.

    Args:
        images: (N, S, S) or (N, 1, S, S) bool / float in [0, 1].
        channels_last: feed the batches channels-last (faster on CPU for a channels-last model); None = as the
            model's weights are stored.
        progress: show a progress bar (on a terminal) counting images.

    Returns:
        mu: (N, L) float32; logvar: (N, L) float32, or None for a deterministic AE.
    """
    x = image_batch(images)
    if channels_last is None:
        channels_last = _uses_channels_last(model)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    mus, logvars = [], []
    bar = tqdm(total=len(x), desc="encoding", unit="img", disable=None if progress else True, leave=False)
    with inference(model) as device:
        for start in range(0, len(x), batch_size):
            batch = torch.from_numpy(x[start : start + batch_size]).to(device).contiguous(memory_format=fmt)
            mu, logvar = model.encode(batch)
            mus.append(mu.float().cpu().numpy())
            if logvar is not None:
                logvars.append(logvar.float().cpu().numpy())
            bar.update(len(batch))
    bar.close()
    latent_dim = int(getattr(model, "latent_dim", 0))
    mu = np.concatenate(mus) if mus else np.zeros((0, latent_dim), np.float32)
    return mu, (np.concatenate(logvars) if logvars else None)


def decode_latents(model: torch.nn.Module, z: Any, batch_size: int = 256) -> np.ndarray:
    """Decode latents z: (N, L) -> probabilities (N, S, S) float32 (sigmoid of the decoder's logits)."""
    z = np.asarray(to_numpy(z), dtype=np.float32)
    out = []
    with inference(model) as device:
        for start in range(0, len(z), batch_size):
            logits = model.decode(torch.from_numpy(z[start : start + batch_size]).to(device))
            out.append(torch.sigmoid(logits.float()).cpu().numpy()[:, 0])
    return np.concatenate(out)


def reconstructions(model: torch.nn.Module, images: Any, n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The first `n` images and their reconstructions from the posterior mean: both (n, S, S) float32."""
    x = image_batch(images)[:n, 0]
    mu, _ = encode_dataset(model, x)
    return x, decode_latents(model, mu)
