"""Latent planes of generative runs: every precomputed decode and verdict is the decoder's and the oracle's at
the documented grid position; slices, projections and the packed bits round-trip."""

import base64
import json

import numpy as np
import pytest
import torch

from latentatlas.errors import DataError
from latentatlas.explorer import generative_explorer_data, latent_space, model_decoder, oracle_validity
from latentatlas.explorer.build import with_derived
from latentatlas.explorer.pack import pack
from latentatlas.models.autoencoder import ConvVAE

from .explore_helpers import oracle, render_decoder, render_valid


def _z_of_cell(plane, slice_index, iy, ix):
    """The latent of grid cell (iy, ix) of a slice, as docs/explore.md defines it."""
    dim = len(plane.origin)
    rest = plane.others_default.copy()
    if dim == 3:
        rest[0] = plane.slice_values[slice_index]
    return plane.origin + plane.xs[ix] * plane.basis[0] + plane.ys[iy] * plane.basis[1] + rest @ plane.basis[2:]


@pytest.mark.parametrize("dim", [2, 3, 5])
def test_plane_decodes_are_the_decoders_at_grid_positions(rng, dim):
    latents = rng.normal(size=(80, dim)).astype(np.float32)
    space = latent_space(render_decoder, render_valid, latents, grid_n=6, n_slices=3)
    plane = space.planes[0]
    k = 3 if dim == 3 else 1
    assert plane.images.shape == (k, 36, 64, 64) and plane.valid.shape == (k, 36)
    assert plane.name == ("z1-z2" if dim == 2 else "PC1-PC2")
    np.testing.assert_allclose(plane.basis @ plane.basis.T, np.eye(dim), atol=1e-9)
    np.testing.assert_allclose(plane.coords, (latents - plane.origin) @ plane.basis[:2].T, rtol=1e-5, atol=1e-5)
    for s, iy, ix in [(0, 0, 0), (k - 1, 5, 2), (0, 3, 4)]:
        z = _z_of_cell(plane, s, iy, ix)[None]
        probs = render_decoder(z)
        np.testing.assert_array_equal(plane.images[s, iy * 6 + ix], probs[0] >= 0.5)
        assert plane.valid[s, iy * 6 + ix] == render_valid(probs)[0]
    assert plane.valid.any() and not plane.valid.all()  # the test decoder has both verdicts on this grid


def test_dims_plane_and_model_decoder(rng):
    torch.manual_seed(0)
    model = ConvVAE(latent_dim=3, widths=[4, 8, 8])
    latents = rng.normal(size=(30, 3)).astype(np.float32)
    decode, valid = model_decoder(model), oracle_validity(oracle())
    space = latent_space(decode, valid, latents, planes=[("dims", 2, 0)], grid_n=4, n_slices=2)
    plane = space.planes[0]
    assert plane.name == "z3-z1" and plane.axis_labels == ("z3", "z1")
    np.testing.assert_array_equal(plane.basis, np.eye(3)[[2, 0, 1]])
    np.testing.assert_allclose(plane.slice_values, np.quantile(latents[:, 1], [0.025, 0.975]))
    z = _z_of_cell(plane, 1, 2, 3)[None]
    np.testing.assert_array_equal(plane.images[1, 2 * 4 + 3], decode(z)[0] >= 0.5)


def test_generative_data_packs_bits_and_verdicts(rng):
    latents = rng.normal(size=(50, 2)).astype(np.float32)
    images = render_decoder(latents) >= 0.5
    data = generative_explorer_data(latents, render_decoder, render_valid, images=images,
                                    metadata={"height": rng.random(50)}, grid_n=5)  # fmt: skip
    np.testing.assert_array_equal(data.quantities["reconstruction valid"], render_valid(render_decoder(latents)))
    assert data.thumbnails.dtype == np.uint8 and data.thumbnails.max() == 255
    full, nn = with_derived(data)
    b = pack(full, nn)
    ref = b.manifest["latent"]["planes"][0]["images"]
    bits = np.frombuffer(base64.b64decode(json.loads(b.chunks[ref["chunk"]])), dtype=np.uint8).reshape(ref["shape"])
    unpacked = np.unpackbits(bits, axis=-1).reshape(data.latent.planes[0].images.shape)
    np.testing.assert_array_equal(unpacked.astype(bool), data.latent.planes[0].images)


def test_latent_mode_needs_two_dims(rng):
    with pytest.raises(DataError, match=r"needs \(N >= 2, L >= 2\) latents"):
        latent_space(render_decoder, render_valid, rng.normal(size=(10, 1)))
