"""VGG11 embedder: layout, size, and loading ImageNet-style weights from files and checked URLs."""

import hashlib

import pytest
import torch
from safetensors.torch import save_file

from latentatlas.errors import DataError
from latentatlas.models.build import build_embedder
from latentatlas.models.vgg import VGG11Embedder, load_vgg11_imagenet
from latentatlas.models.weights import download_weights, hash_prefix_from_name


@pytest.fixture(scope="module")
def imagenet_state():
    """A random state dict in torchvision's VGG11 key layout, plus a (small) classifier key to ignore."""
    gen = torch.Generator().manual_seed(0)
    features = VGG11Embedder(8, channels_last=False).features.state_dict()
    state = {f"features.{k}": torch.randn(v.shape, generator=gen) for k, v in features.items()}
    state["classifier.6.weight"] = torch.randn(10, 7, generator=gen)
    return state


def saved(tmp_path, state, stem="vgg11"):
    raw = tmp_path / "raw.pth"
    torch.save(state, raw)
    digest = hashlib.sha256(raw.read_bytes()).hexdigest()
    path = tmp_path / f"{stem}-{digest[:8]}.pth"
    raw.rename(path)
    return path, digest


def assert_loaded(model, state):
    for key, value in model.features.state_dict().items():
        torch.testing.assert_close(value, state[f"features.{key}"])


def test_layout_shape_and_size():
    model = VGG11Embedder(128)
    keys = [k for k in model.state_dict() if k.startswith("features.")]
    assert keys[:2] == ["features.0.weight", "features.0.bias"] and keys[-1] == "features.18.bias"
    assert 9.2e6 <= sum(p.numel() for p in model.parameters()) <= 9.3e6
    out = model(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 128)
    torch.testing.assert_close(out.norm(dim=1), torch.ones(2))


def test_load_local_pth_and_safetensors(tmp_path, imagenet_state):
    path, _ = saved(tmp_path, imagenet_state)
    model = load_vgg11_imagenet(VGG11Embedder(16), path)
    assert_loaded(model, imagenet_state)
    assert model.features[0].weight.is_contiguous(memory_format=torch.channels_last)
    st = tmp_path / "vgg11.safetensors"
    save_file(imagenet_state, str(st))
    assert_loaded(build_embedder("vgg11", 16, pretrained=str(st)), imagenet_state)


def test_file_url_download_with_checksum(tmp_path, imagenet_state):
    path, digest = saved(tmp_path, imagenet_state)
    cache = tmp_path / "cache"
    local = download_weights(path.as_uri(), cache, progress=False)
    assert local == cache / path.name and hashlib.sha256(local.read_bytes()).hexdigest() == digest
    assert_loaded(load_vgg11_imagenet(VGG11Embedder(16), path.as_uri(), cache_dir=cache), imagenet_state)
    assert hash_prefix_from_name("vgg11-8a719358.pth") == "8a719358"


def test_checksum_mismatch_is_refused_and_leaves_nothing(tmp_path, imagenet_state):
    path, digest = saved(tmp_path, imagenet_state)
    wrong = "0" * 8 if not digest.startswith("0" * 8) else "1" * 8
    bad = path.rename(tmp_path / f"vgg11-{wrong}.pth")
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match=f"checksum mismatch .* does not start with {wrong}"):
        download_weights(bad.as_uri(), cache, progress=False)
    assert list(cache.iterdir()) == []  # no partial or unverified file left behind
    with pytest.raises(DataError, match="cannot verify 'plain.pth'"):
        download_weights((tmp_path / "plain.pth").as_uri(), cache)
    with pytest.raises(DataError, match="cannot download"):
        download_weights((tmp_path / "absent-0123abcd.pth").as_uri(), cache, progress=False)


def test_key_and_shape_mismatch_name_the_key(tmp_path, imagenet_state):
    missing = dict(imagenet_state)
    del missing["features.3.weight"]
    path, _ = saved(tmp_path, missing, "a")
    with pytest.raises(DataError, match="missing key 'features.3.weight'"):
        load_vgg11_imagenet(VGG11Embedder(8), path)
    reshaped = dict(imagenet_state)
    reshaped["features.0.weight"] = torch.zeros(32, 3, 3, 3)
    path, _ = saved(tmp_path, reshaped, "b")
    with pytest.raises(DataError, match=r"'features.0.weight' has shape \(32, 3, 3, 3\), expected \(64, 3, 3, 3\)"):
        load_vgg11_imagenet(VGG11Embedder(8), path)
    with pytest.raises(DataError, match="not found"):
        load_vgg11_imagenet(VGG11Embedder(8), tmp_path / "nope.pth")
