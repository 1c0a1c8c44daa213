"""Batched crop/flip/normalize against per-image brute force, and reproducibility from a generator."""

from __future__ import annotations

import pytest
import torch

from latentatlas.data.augment import CIFAR10_MEAN, CIFAR10_STD, Augment, AugmentParams, crop_flip, normalize
from latentatlas.errors import DataError


def _batch(seed: int, b: int = 7, c: int = 3, h: int = 10, w: int = 12) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (b, c, h, w), generator=g, dtype=torch.uint8)


def _brute_crop(image: torch.Tensor, top: int, left: int, size: int, pad: int) -> torch.Tensor:
    """One image, plain loops: out[c, i, j] = padded pixel (top + i - pad, left + j - pad), zero outside."""
    c, h, w = image.shape
    out = torch.zeros((c, size, size), dtype=image.dtype)
    for ch in range(c):
        for i in range(size):
            for j in range(size):
                y, x = top + i - pad, left + j - pad
                if 0 <= y < h and 0 <= x < w:
                    out[ch, i, j] = image[ch, y, x]
    return out


def test_crop_matches_brute_force_for_sampled_offsets():
    images = _batch(0)
    aug = Augment(size=8, padding=3, flip_p=0.0)
    params = aug.sample_params(images, torch.Generator().manual_seed(1))
    out = crop_flip(images, params, size=8, padding=3)
    assert out.dtype == torch.uint8 and out.shape == (7, 3, 8, 8)
    assert len(set(params.top.tolist())) > 1  # offsets differ between images
    for b in range(len(images)):
        ref = _brute_crop(images[b], int(params.top[b]), int(params.left[b]), 8, 3)
        assert torch.equal(out[b], ref)


def test_flip_equals_torch_flip_where_flipped():
    images = _batch(2, b=64)
    params = Augment(size=10, padding=0).sample_params(images[:, :, :, :10], torch.Generator().manual_seed(3))
    params.top.zero_()
    params.left.zero_()
    out = crop_flip(images[:, :, :, :10], params, size=10, padding=0)
    flipped = params.flip
    assert 10 < int(flipped.sum()) < 54  # p = 0.5 on 64 images
    assert torch.equal(out[flipped], torch.flip(images[flipped][:, :, :, :10], dims=[3]))
    assert torch.equal(out[~flipped], images[~flipped][:, :, :, :10])


def test_crop_then_flip_combined():
    images = _batch(4)
    n = len(images)
    params = AugmentParams(torch.arange(n) % 5, (torch.arange(n) * 2) % 7, torch.arange(n) % 2 == 0)
    out = crop_flip(images, params, size=9, padding=2)
    for b in range(n):
        ref = _brute_crop(images[b], int(params.top[b]), int(params.left[b]), 9, 2)
        assert torch.equal(out[b], torch.flip(ref, dims=[2]) if params.flip[b] else ref)


def test_normalize_matches_formula_and_stats():
    images = _batch(5)
    out = normalize(images)
    mean = torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR10_STD).view(1, 3, 1, 1)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, (images.float() / 255 - mean) / std)
    as_float = images.float()
    torch.testing.assert_close(normalize(as_float), out)
    assert torch.equal(as_float, images.float())  # float input is not modified in place
    # An image equal to the mean maps to 0; one std above maps to 1.
    flat = torch.tensor([[[[m * 255]] for m in CIFAR10_MEAN]])
    torch.testing.assert_close(normalize(flat), torch.zeros(1, 3, 1, 1), atol=1e-5, rtol=0)
    with pytest.raises(DataError, match="mean and std need 3 values each"):
        normalize(images, mean=(0.5,), std=(0.2,))


def test_same_seed_same_output_and_channels_last():
    images = _batch(6, b=16, h=32, w=32)
    aug = Augment()
    a = aug(images, torch.Generator().manual_seed(7))
    b = aug(images, torch.Generator().manual_seed(7))
    c = aug(images, torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    cl = Augment(channels_last=True)(images, torch.Generator().manual_seed(7))
    assert cl.is_contiguous(memory_format=torch.channels_last) and torch.equal(cl, a)
    assert a.shape == (16, 3, 32, 32) and a.dtype == torch.float32


def test_eval_mode_only_normalizes_and_bad_arguments():
    images = _batch(8)
    torch.testing.assert_close(Augment(train=False)(images), normalize(images))
    with pytest.raises(DataError, match="flip_p=1.5"):
        Augment(flip_p=1.5)
    with pytest.raises(DataError, match="crop size 40 exceeds padded image"):
        Augment(size=40, padding=4)(images)
    with pytest.raises(DataError, match=r"expected images of shape \(B, C, H, W\)"):
        Augment()(images[0])
