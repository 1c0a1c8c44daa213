"""Latent-plane mode of AE/VAE runs: planes of the latent space, decoded densely ahead of time for static pages.

A decoder is any callable `decode(z (M, L) float32) -> probs (M, S, S)` and an oracle any `valid(probs) -> (M,)
bool`, so this module needs no model class (`model_decoder` / `oracle_validity` adapt latentatlas's own).
A plane is "dims" (two latent coordinates; the others are sliders over their own values) or "pca" (two principal
axes of the training latents through their mean; sliders move along the other axes). Its grid spans the
training latents' projections, widened by `margin` of their range on each side.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from latentatlas.analysis.io import encode_labels
from latentatlas.errors import ConfigError, DataError
from latentatlas.explorer.data import ExplorerData, LatentPlane, LatentSpace, metadata_columns
from latentatlas.latentmaps.codec import decode_latents
from latentatlas.latentmaps.grid import pca_axes

Decoder = Callable[[np.ndarray], Any]
Oracle = Callable[[Any], Any]
SLICE_QUANTILES = (0.025, 0.975)  # the static slices of a 3-D latent span this range of the third coordinate


def model_decoder(model: Any) -> Decoder:
    """`decode(z) -> probs (M, S, S)` of a latentatlas autoencoder (sigmoid of its logits)."""
    return lambda z: decode_latents(model, z)


def oracle_validity(oracle: Any) -> Oracle:
    """`valid(probs) -> (M,) bool` of a fitted `ValidityOracle`."""
    return lambda probs: oracle.score(probs).valid


def decode_and_judge(decode: Decoder, valid: Oracle, z: np.ndarray, batch: int = 1024) -> tuple[np.ndarray, ...]:
    """Decode latents in batches: z (M, L) -> probs (M, S, S) float32, valid (M,) bool."""
    probs, ok = [], []
    for s in range(0, len(z), batch):
        p = np.asarray(decode(np.ascontiguousarray(z[s : s + batch], dtype=np.float32)), dtype=np.float32)
        if p.ndim == 4 and p.shape[1] == 1:
            p = p[:, 0]
        if p.ndim != 3 or p.shape[1] != p.shape[2]:
            raise DataError(f"decoder: returned shape {p.shape}; it must give (M, S, S) probabilities")
        probs.append(p)
        ok.append(np.asarray(valid(p), dtype=bool).reshape(len(p)))
    return np.concatenate(probs), np.concatenate(ok)


def _basis(kind: str, i: int, j: int, mean: np.ndarray, axes: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple]:
    """(origin (L,), basis (L, L), axis labels) of a plane; rows 2.. of the basis are the other axes in order."""
    dim = len(mean)
    if kind not in ("dims", "pca") or not (0 <= i < dim and 0 <= j < dim and i != j):
        raise ConfigError(f"latent plane ({kind!r}, {i}, {j}): use ('dims' or 'pca', i, j), distinct i, j < {dim}")
    order = [i, j] + [k for k in range(dim) if k not in (i, j)]
    if kind == "dims":
        return np.zeros(dim), np.eye(dim)[order], (f"z{i + 1}", f"z{j + 1}")
    return mean.copy(), axes[order], (f"PC{i + 1}", f"PC{j + 1}")


def build_plane(
    decode: Decoder, valid: Oracle, latents: np.ndarray, spec: tuple[str, int, int],
    grid_n: int = 64, n_slices: int = 5, margin: float = 0.1,
) -> LatentPlane:  # fmt: skip
    """Decode a grid_n x grid_n grid of one plane (n_slices slices along the third axis when L = 3)."""
    mu = np.asarray(latents, dtype=np.float64)
    mean, axes = pca_axes(mu)
    origin, basis, labels = _basis(spec[0], spec[1], spec[2], mean, axes)
    proj = (mu - origin) @ basis.T  # (N, L) coordinates along every basis row
    lo, hi = proj.min(axis=0), proj.max(axis=0)
    pad = margin * np.maximum(hi - lo, 1e-6)
    xs, ys = (np.linspace(lo[a] - pad[a], hi[a] + pad[a], grid_n) for a in (0, 1))
    others_default = np.median(proj[:, 2:], axis=0)
    others_range = np.stack([lo[2:], hi[2:]], axis=1)
    if mu.shape[1] == 3:
        slice_values = np.linspace(*np.quantile(proj[:, 2], SLICE_QUANTILES), n_slices)
    else:
        slice_values = others_default[:1] if mu.shape[1] > 2 else np.zeros(1)
    gy, gx = np.meshgrid(ys, xs, indexing="ij")  # cell (iy, ix) at index iy * G + ix
    plane_xy = np.stack([gx.ravel(), gy.ravel()], axis=1)
    images, ok = [], []
    for value in slice_values:
        rest = others_default.copy()
        if mu.shape[1] == 3:
            rest[0] = value
        z = origin + plane_xy @ basis[:2] + rest @ basis[2:]
        probs, v = decode_and_judge(decode, valid, z)
        images.append(probs >= 0.5)
        ok.append(v)
    return LatentPlane(
        name=f"{labels[0]}-{labels[1]}", axis_labels=labels, origin=origin, basis=basis, xs=xs, ys=ys,
        others_default=others_default, others_range=others_range, slice_values=np.asarray(slice_values, float),
        images=np.stack(images), valid=np.stack(ok), coords=proj[:, :2].astype(np.float32),
    )  # fmt: skip


def latent_space(
    decode: Decoder, valid: Oracle, latents: Any, planes: Sequence[tuple[str, int, int]] | None = None,
    grid_n: int = 64, n_slices: int = 5, variational: bool = True, morph_steps: int = 12,
) -> LatentSpace:  # fmt: skip
    """The latent-plane mode of N training latents (N, L), L >= 2.

    Args:
        planes: ("dims" | "pca", i, j) each; default: ("dims", 0, 1) for L = 2, ("pca", 0, 1) above.
        grid_n: decoded positions per plane side (grid_n^2 decodes per slice).
        n_slices: precomputed slices along the third axis of a 3-D latent.
    """
    mu = np.asarray(latents, dtype=np.float32)
    if mu.ndim != 2 or mu.shape[1] < 2 or len(mu) < 2:
        raise DataError(f"latents: shape {mu.shape}; the latent-plane mode needs (N >= 2, L >= 2) latents")
    if grid_n < 2 or n_slices < 1:
        raise ConfigError(f"grid_n {grid_n}, n_slices {n_slices}: use grid_n >= 2 and n_slices >= 1")
    specs = list(planes) if planes else [("dims", 0, 1) if mu.shape[1] == 2 else ("pca", 0, 1)]
    built = [build_plane(decode, valid, mu, spec, grid_n, n_slices) for spec in specs]
    mean, axes = pca_axes(mu.astype(np.float64))
    size = built[0].images.shape[-1]
    return LatentSpace(built, mu.shape[1], size, mu, mean, axes, morph_steps=morph_steps, variational=variational)


def generative_explorer_data(
    latents: Any, decode: Decoder, valid: Oracle, images: np.ndarray | None = None,
    metadata: dict[str, Any] | None = None, labels: Any = None, class_names: Sequence[str] | None = None,
    title: str = "latentatlas latent explorer", **latent_kwargs: Any,
) -> ExplorerData:  # fmt: skip
    """ExplorerData of an AE/VAE's training latents: the map is the first latent plane, points are coloured by
    the known factors (metadata) or labels, and "reconstruction valid" is the oracle's verdict on each point's
    decode. images: (N, S, S) bool/uint8 training figures for the tooltip thumbnails."""
    space = latent_space(decode, valid, latents, **latent_kwargs)
    mu = space.latents
    _, recon_ok = decode_and_judge(decode, valid, mu)
    thumbs = None
    if images is not None:
        arr = np.asarray(images)
        thumbs = (arr.astype(np.uint8) * 255) if arr.dtype == bool else arr.astype(np.uint8)
    plane = space.planes[0]
    data = ExplorerData(
        coords=plane.coords, projection=f"latent plane {plane.name} of the training latents (posterior means)",
        embeddings=mu, metric="euclidean", metadata=metadata_columns(metadata, len(mu)),
        quantities={"reconstruction valid": recon_ok.astype(np.float32)}, thumbnails=thumbs, latent=space,
        title=title,
    )  # fmt: skip
    if labels is not None:
        data.labels, data.class_names = encode_labels(labels, len(mu), class_names, "labels", "class_names")
    data.validate()
    return data
