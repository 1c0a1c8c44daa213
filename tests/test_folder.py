"""Image folders from directories and zips: layout detection, colour conversion, errors and the decode cache."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from latentatlas.data import folder
from latentatlas.data.folder import load_image_folder
from latentatlas.data.images import load_image_dataset
from latentatlas.errors import DataError


def _write_folder(root: Path, rng: np.random.Generator, counts: dict[str, int], size=(6, 5)) -> dict[str, list]:
    """PNG images (lossless, so pixels can be compared exactly); returns class -> list of (H, W, 3) arrays."""
    truth: dict[str, list] = {}
    for cls, n in counts.items():
        (root / cls).mkdir(parents=True, exist_ok=True)
        truth[cls] = []
        for i in range(n):
            pixels = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / cls / f"{i:03d}.png")
            truth[cls].append(pixels)
    return truth


def _expected(truth: dict[str, list]) -> tuple[np.ndarray, list[int]]:
    """Brute-force reference: sorted classes, sorted files, HWC -> CHW."""
    images, labels = [], []
    for label, cls in enumerate(sorted(truth)):
        for pixels in truth[cls]:
            images.append(pixels.transpose(2, 0, 1))
            labels.append(label)
    return np.stack(images), labels


def _zip(src: Path, archive: Path, prefix: str = "") -> None:
    with zipfile.ZipFile(archive, "w") as zf:
        for p in sorted(src.rglob("*")):
            zf.write(p, prefix + p.relative_to(src).as_posix())


def test_directory_matches_reference(tmp_path):
    truth = _write_folder(tmp_path / "imgs", np.random.default_rng(0), {"dog": 3, "cat": 2, "bird": 1})
    data = load_image_folder(tmp_path / "imgs", cache_dir=tmp_path / "cache", progress=False)
    images, labels = _expected(truth)
    assert data.class_names == ["bird", "cat", "dog"]
    assert np.array_equal(data.images.numpy(), images) and data.labels.tolist() == labels


def test_zip_with_wrapper_folder_and_non_images(tmp_path):
    src = tmp_path / "src"
    truth = _write_folder(src / "cat", np.random.default_rng(1), {"a": 2, "b": 3})  # src/cat/<class>/...
    (src / "README.txt").write_text("not an image")
    (src / "cat" / "a" / "notes.md").write_text("neither")
    _zip(src, tmp_path / "d.zip", prefix="train/")  # train/cat/<class>/*.png: two wrapper levels
    with pytest.warns(UserWarning, match=r"skipped 2 non-image files"):
        data = load_image_dataset(tmp_path / "d.zip", cache_dir=tmp_path / "cache")
    images, labels = _expected(truth)
    assert data.class_names == ["a", "b"]
    assert np.array_equal(data.images.numpy(), images) and data.labels.tolist() == labels


def test_cached_zip_is_not_reopened(tmp_path, monkeypatch):
    src = tmp_path / "src"
    truth = _write_folder(src, np.random.default_rng(8), {"x": 2, "y": 1})
    (src / "x" / "skip.txt").write_text("-")
    _zip(src, tmp_path / "d.zip")
    with pytest.warns(UserWarning, match="skipped 1 non-image files"):
        load_image_folder(tmp_path / "d.zip", cache_dir=tmp_path / "cache", progress=False)

    def no_zip(*args, **kwargs):
        raise AssertionError("zip opened although the cache is valid")

    monkeypatch.setattr(folder.zipfile, "ZipFile", no_zip)
    with pytest.warns(UserWarning, match="skipped 1 non-image files"):  # same warning from the cache
        data = load_image_folder(tmp_path / "d.zip", cache_dir=tmp_path / "cache", progress=False)
    images, labels = _expected(truth)
    assert np.array_equal(data.images.numpy(), images) and data.labels.tolist() == labels
    assert data.class_names == ["x", "y"]


def test_grayscale_and_rgba_become_rgb(tmp_path):
    rng = np.random.default_rng(2)
    gray = rng.integers(0, 256, (4, 4), dtype=np.uint8)
    rgba = rng.integers(0, 256, (4, 4, 4), dtype=np.uint8)
    for cls, arr in (("g", gray), ("r", rgba)):
        (tmp_path / "f" / cls).mkdir(parents=True)
        Image.fromarray(arr).save(tmp_path / "f" / cls / "0.png")
    data = load_image_folder(tmp_path / "f", cache=False, progress=False)
    assert data.images.shape == (2, 3, 4, 4)
    assert all(np.array_equal(data.images[0, c].numpy(), gray) for c in range(3))
    assert np.array_equal(data.images[1].numpy(), rgba[..., :3].transpose(2, 0, 1))


def test_mixed_sizes_error_and_resize(tmp_path):
    rng = np.random.default_rng(3)
    _write_folder(tmp_path / "f", rng, {"a": 1}, size=(6, 5))
    _write_folder(tmp_path / "f", rng, {"b": 1}, size=(8, 8))
    with pytest.raises(DataError, match=r"different sizes, 5x6 \(a/000\.png\) and 8x8 \(b/000\.png\).*resize="):
        load_image_folder(tmp_path / "f", cache=False, progress=False)
    data = load_image_folder(tmp_path / "f", resize=(7, 9), cache=False, progress=False)
    assert data.images.shape == (2, 3, 7, 9)


def test_empty_class_folder_is_named(tmp_path):
    _write_folder(tmp_path / "f", np.random.default_rng(4), {"a": 1})
    (tmp_path / "f" / "zebra").mkdir()
    with pytest.raises(DataError, match="class folder zebra has no images"):
        load_image_folder(tmp_path / "f", cache=False)
    _zip(tmp_path / "f", tmp_path / "f.zip", prefix="top/")
    with pytest.raises(DataError, match="class folder top/zebra has no images"):
        load_image_folder(tmp_path / "f.zip", cache=False)


def test_image_outside_class_folder_and_undecodable_file(tmp_path):
    _write_folder(tmp_path / "f", np.random.default_rng(5), {"a": 1})
    Image.new("RGB", (5, 6)).save(tmp_path / "f" / "loose.png")
    with pytest.raises(DataError, match=r"image loose\.png is not inside a class folder"):
        load_image_folder(tmp_path / "f", cache=False)
    (tmp_path / "f" / "loose.png").unlink()
    (tmp_path / "f" / "a" / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match=r"cannot decode image a/broken\.jpg"):
        load_image_folder(tmp_path / "f", cache=False, progress=False)


def test_second_load_comes_from_cache_and_changes_invalidate_it(tmp_path, monkeypatch):
    truth = _write_folder(tmp_path / "f", np.random.default_rng(6), {"a": 2, "b": 2})
    first = load_image_folder(tmp_path / "f", cache_dir=tmp_path / "cache", progress=False)
    cached = list((tmp_path / "cache" / "folders").glob("f-*.npy"))
    assert len(cached) == 1 and np.array_equal(np.load(cached[0]), first.images.numpy())

    def no_decode(*args):
        raise AssertionError("decoded although the cache is valid")

    monkeypatch.setattr(folder, "_decode_image", no_decode)
    second = load_image_folder(tmp_path / "f", cache_dir=tmp_path / "cache", progress=False)
    assert np.array_equal(second.images.numpy(), _expected(truth)[0])
    assert second.labels.tolist() == first.labels.tolist()
    assert len(list((tmp_path / "cache" / "folders").glob("f-*.json"))) == 1
    # A changed file changes the key: the stale cache is not used.
    Image.new("RGB", (5, 6), (1, 2, 3)).save(tmp_path / "f" / "b" / "zzz.png")
    with pytest.raises(AssertionError, match="decoded although"):
        load_image_folder(tmp_path / "f", cache_dir=tmp_path / "cache", progress=False)


def test_missing_and_bad_paths(tmp_path):
    with pytest.raises(DataError, match=r"not found; pass an image folder"):
        load_image_dataset(tmp_path / "nope")
    (tmp_path / "bad.zip").write_bytes(b"PK garbage")
    with pytest.raises(DataError, match="not a readable zip file"):
        load_image_folder(tmp_path / "bad.zip")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no image files found"):
        load_image_folder(tmp_path / "empty")


def test_imageset_subset_and_validation():
    import torch

    from latentatlas.data.imageset import ImageSet

    rng = np.random.default_rng(7)
    images = torch.from_numpy(rng.integers(0, 256, (6, 3, 2, 2), dtype=np.uint8))
    labels = torch.from_numpy(rng.integers(0, 3, 6))
    data = ImageSet(images, labels, ["x", "y", "z"], "mem")
    part = data.subset([4, 1])
    assert (
        len(part) == 2
        and torch.equal(part.images[0], images[4])
        and part.labels.tolist()
        == [
            int(labels[4]),
            int(labels[1]),
        ]
    )
    mask = labels == labels[0]
    assert torch.equal(data.subset(mask).labels, labels[mask])
    with pytest.raises(DataError, match="labels must lie in \\[0, 2\\)"):
        ImageSet(images, torch.full((6,), 2), ["x", "y"], "mem")
    with pytest.raises(DataError, match="images must be a uint8 tensor"):
        ImageSet(images.float(), labels, ["x", "y", "z"], "mem")
