"""Pictures of the points as tooltip thumbnails: any image layout in, (N, h, w) or (N, h, w, 3) uint8 out,
shrunk (area average) so that the longer side is at most `max_side` pixels."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from latentatlas.errors import DataError

__all__ = ["DEFAULT_SIDE", "as_thumbnails"]

DEFAULT_SIDE = 64  # CIFAR-10 (32 px) and shapes figures (64 px) stay as they are
_BATCH = 2048


def _channels_last(x: np.ndarray, where: str) -> np.ndarray:
    """(N, H, W), (N, H, W, C) or (N, C, H, W) with C in {1, 3} -> (N, H, W, C)."""
    if x.ndim == 3:
        return x[..., None]
    if x.ndim == 4 and x.shape[-1] in (1, 3):
        return x
    if x.ndim == 4 and x.shape[1] in (1, 3):
        return np.moveaxis(x, 1, -1)
    raise DataError(
        f"{where}: images of shape {tuple(x.shape)}; give (N, H, W), (N, H, W, C) or (N, C, H, W), C = 1 or 3"
    )


def _to_uint8(x: np.ndarray, where: str) -> np.ndarray:
    if x.dtype == np.uint8:
        return x
    if x.dtype == bool:
        return x.astype(np.uint8) * 255
    if x.dtype.kind == "f":
        return np.clip(np.rint(x.astype(np.float32) * 255.0), 0, 255).astype(np.uint8)
    raise DataError(f"{where}: images of dtype {x.dtype}; give uint8 pixels, booleans or floats in [0, 1]")


def _shrink(x: np.ndarray, max_side: int) -> np.ndarray:
    """(B, H, W, C) uint8 -> (B, h, w, C) uint8 with max(h, w) <= max_side (area average)."""
    h, w = x.shape[1:3]
    scale = max_side / max(h, w)
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    t = torch.from_numpy(np.ascontiguousarray(x)).permute(0, 3, 1, 2).float()
    out = torch.nn.functional.interpolate(t, size=size, mode="area")
    return out.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def as_thumbnails(images: Any, max_side: int = DEFAULT_SIDE, where: str = "images") -> np.ndarray:
    """Thumbnails of N images for the explorer.

    Args:
        images: (N, H, W), (N, H, W, C) or (N, C, H, W), C = 1 or 3; uint8, bool or floats in [0, 1]; a NumPy
            array (memory-mapped is fine) or a torch tensor.
        max_side: longest side of a thumbnail in pixels; larger images are shrunk, smaller ones kept.

    Returns:
        (N, h, w) uint8 for grey images, (N, h, w, 3) uint8 for colour ones.
    """
    if max_side < 1:
        raise DataError(f"thumbnail size {max_side}: use at least 1 pixel")
    n = len(images)
    parts = []
    for start in range(0, n, _BATCH):
        chunk = images[start : start + _BATCH]
        x = chunk.detach().cpu().numpy() if isinstance(chunk, torch.Tensor) else np.asarray(chunk)
        x = _to_uint8(_channels_last(x, where), where)
        parts.append(_shrink(x, max_side) if max(x.shape[1:3]) > max_side else x)
    out = np.concatenate(parts) if parts else np.zeros((0, 1, 1, 1), np.uint8)
    return out[..., 0] if out.shape[-1] == 1 else out
