"""CIFAR-10 binary parser, safe tar extraction, dataset dispatch and checksummed downloads (file:// URLs)."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from latentatlas.data import download as dl
from latentatlas.data.cifar10 import extract_tar, load_cifar10, prepare_cifar10, read_cifar10_bin
from latentatlas.data.images import load_image_dataset
from latentatlas.data.imageset import ImageSet
from latentatlas.errors import DataError

NAMES = "airplane automobile bird cat deer dog frog horse ship truck".split()


def _records(rng: np.random.Generator, n: int) -> tuple[bytes, np.ndarray, np.ndarray]:
    """n records as bytes plus the labels and (n, 3, 32, 32) pixels they encode, built one byte at a time."""
    labels = rng.integers(0, 10, n)
    pixels = rng.integers(0, 256, (n, 3, 32, 32))
    out = bytearray()
    for i in range(n):
        out.append(int(labels[i]))
        for c in range(3):  # 1024 R, then 1024 G, then 1024 B, rows top to bottom
            for row in range(32):
                for col in range(32):
                    out.append(int(pixels[i, c, row, col]))
    return bytes(out), labels, pixels


def _write_release(root: Path, rng: np.random.Generator, per_batch: int = 3) -> dict[str, tuple]:
    root.mkdir(parents=True, exist_ok=True)
    truth = {}
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        raw, labels, pixels = _records(rng, per_batch)
        (root / name).write_bytes(raw)
        truth[name] = (labels, pixels)
    (root / "batches.meta.txt").write_text("\n".join(NAMES) + "\n\n")
    return truth


def test_parser_puts_each_byte_at_its_position(tmp_path):
    raw = bytearray(2 * 3073)
    raw[0], raw[3073] = 7, 2
    raw[1 + 0 * 1024 + 0 * 32 + 5] = 11  # record 0, red, row 0, col 5
    raw[1 + 1 * 1024 + 3 * 32 + 1] = 22  # record 0, green, row 3, col 1
    raw[3073 + 1 + 2 * 1024 + 31 * 32 + 31] = 33  # record 1, blue, row 31, col 31
    path = tmp_path / "b.bin"
    path.write_bytes(bytes(raw))
    images, labels = read_cifar10_bin(path)
    assert images.dtype == torch.uint8 and images.shape == (2, 3, 32, 32)
    assert labels.dtype == torch.int64 and labels.tolist() == [7, 2]
    assert images[0, 0, 0, 5] == 11 and images[0, 1, 3, 1] == 22 and images[1, 2, 31, 31] == 33
    assert int(images.sum()) == 11 + 22 + 33


def test_parser_matches_reference_on_random_records(tmp_path):
    raw, labels, pixels = _records(np.random.default_rng(1), 4)
    (tmp_path / "b.bin").write_bytes(raw)
    images, got = read_cifar10_bin(tmp_path / "b.bin")
    assert np.array_equal(images.numpy(), pixels) and np.array_equal(got.numpy(), labels)


def test_truncated_file_names_the_file(tmp_path):
    raw, _, _ = _records(np.random.default_rng(2), 2)
    (tmp_path / "data_batch_1.bin").write_bytes(raw[:-10])
    with pytest.raises(DataError, match=r"data_batch_1\.bin: 6136 bytes is not a whole number of 3073-byte"):
        read_cifar10_bin(tmp_path / "data_batch_1.bin")


def test_load_splits_concatenate_batches_in_order(tmp_path):
    truth = _write_release(tmp_path, np.random.default_rng(3))
    train = load_cifar10(tmp_path, "train")
    expected = np.concatenate([truth[f"data_batch_{i}.bin"][1] for i in range(1, 6)])
    assert isinstance(train, ImageSet) and len(train) == 15 and train.class_names == NAMES
    assert np.array_equal(train.images.numpy(), expected)
    test = load_cifar10(tmp_path, "test")
    assert np.array_equal(test.labels.numpy(), truth["test_batch.bin"][0])
    with pytest.raises(DataError, match="unknown CIFAR-10 split 'val'"):
        load_cifar10(tmp_path, "val")


def _tar(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_tar_extraction_and_dispatch(tmp_path, monkeypatch):
    src = tmp_path / "src"
    truth = _write_release(src, np.random.default_rng(4))
    archive = tmp_path / "data" / "cifar-10-binary.tar.gz"
    archive.parent.mkdir()
    _tar(archive, {f"cifar-10-batches-bin/{p.name}": p.read_bytes() for p in src.iterdir()})
    # The real release's MD5 is in the table; accept this fake archive's MD5 instead.
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    monkeypatch.setitem(dl.SOURCES, "cifar10", dl.Source("file:///nowhere", archive.name, md5=md5))
    root = prepare_cifar10(archive.parent)
    assert root == archive.parent / "cifar-10-batches-bin" and (root / "test_batch.bin").is_file()
    data = load_image_dataset("cifar10", data_dir=archive.parent, split="test")
    assert np.array_equal(data.images.numpy(), truth["test_batch.bin"][1])
    assert len(load_image_dataset(root)) == 15  # a directory of data_batch_*.bin


@pytest.mark.parametrize("name", ["../evil.txt", "/abs/evil.txt", "a/../../evil.txt"])
def test_tar_extraction_refuses_path_traversal(tmp_path, name):
    archive = tmp_path / "bad.tar.gz"
    _tar(archive, {"ok.txt": b"x", name: b"evil"})
    with pytest.raises(DataError, match="would escape the target folder"):
        extract_tar(archive, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "out" / "ok.txt").exists()


def test_tar_extraction_refuses_links(tmp_path):
    archive = tmp_path / "link.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("link")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)
    with pytest.raises(DataError, match="'link' is a link or device"):
        extract_tar(archive, tmp_path / "out")


def test_missing_cifar_says_how_to_get_it(tmp_path):
    with pytest.raises(DataError, match=r"CIFAR-10 not found in .*latentatlas data download cifar10"):
        load_image_dataset("cifar10", data_dir=tmp_path)


def test_download_good_checksum(tmp_path):
    payload = np.random.default_rng(5).bytes(3 * 2**20 + 17)  # several read chunks
    src = tmp_path / "payload.bin"
    src.write_bytes(payload)
    dest = tmp_path / "cache" / "file.bin"
    out = dl.download(src.as_uri(), dest, hashlib.sha256(payload).hexdigest(), progress=False)
    assert out == dest and dest.read_bytes() == payload
    assert [p.name for p in dest.parent.iterdir()] == ["file.bin"]  # no temp file left
    md5_dest = tmp_path / "cache" / "md5.bin"
    dl.download(src.as_uri(), md5_dest, md5=hashlib.md5(payload).hexdigest(), progress=False)
    assert md5_dest.read_bytes() == payload


def test_download_wrong_checksum_leaves_nothing(tmp_path):
    src = tmp_path / "payload.bin"
    src.write_bytes(b"hello")
    actual = hashlib.sha256(b"hello").hexdigest()
    dest = tmp_path / "cache" / "file.bin"
    with pytest.raises(DataError, match=f"sha256 mismatch, expected {'0' * 64}, got {actual}"):
        dl.download(src.as_uri(), dest, "0" * 64, progress=False)
    assert list(dest.parent.iterdir()) == []


def test_download_failure_suggests_manual_download(tmp_path):
    dest = tmp_path / "file.bin"
    with pytest.raises(DataError, match=r"could not download .*download it by hand and put it at .*file\.bin"):
        dl.download((tmp_path / "missing.bin").as_uri(), dest, "0" * 64, progress=False)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(DataError, match="no checksum given"):
        dl.download((tmp_path / "missing.bin").as_uri(), dest, progress=False)


def test_fetch_verifies_a_file_already_in_place(tmp_path, monkeypatch):
    (tmp_path / "x.bin").write_bytes(b"corrupt")
    monkeypatch.setitem(dl.SOURCES, "x", dl.Source("file:///nowhere", "x.bin", md5="0" * 32))
    with pytest.raises(DataError, match="md5 mismatch"):
        dl.fetch("x", tmp_path, progress=False)
    with pytest.raises(DataError, match="unknown source 'nope'"):
        dl.fetch("nope", tmp_path)
