"""`latentatlas data download cifar10` from a file:// source the test builds, and `latentatlas data info`."""

from __future__ import annotations

import hashlib
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from latentatlas.cli.main import main
from latentatlas.data.cifar10 import load_cifar10
from latentatlas.data.download import SOURCES, Source

NAMES = "airplane automobile bird cat deer dog frog horse ship truck".split()
PER_BATCH = 2


def _record_bytes(label: int, pixels: np.ndarray) -> bytes:
    """One CIFAR-10 record written byte by byte: label, then the R, G and B planes row by row."""
    out = bytearray([label])
    for c in range(3):
        for row in range(32):
            for col in range(32):
                out.append(int(pixels[c, row, col]))
    return bytes(out)


def build_release(tmp: Path, rng: np.random.Generator) -> tuple[Path, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """A miniature `cifar-10-binary.tar.gz` and, per split, the labels and pixels it holds."""
    src = tmp / "src" / "cifar-10-batches-bin"
    src.mkdir(parents=True)
    truth: dict[str, list] = {"train": [[], []], "test": [[], []]}
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        split = "test" if name.startswith("test") else "train"
        labels = rng.integers(0, 10, PER_BATCH)
        pixels = rng.integers(0, 256, (PER_BATCH, 3, 32, 32))
        (src / name).write_bytes(b"".join(_record_bytes(int(y), p) for y, p in zip(labels, pixels)))
        truth[split][0].append(labels)
        truth[split][1].append(pixels)
    (src / "batches.meta.txt").write_text("\n".join(NAMES) + "\n\n")
    archive = tmp / "cifar-10-binary.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src, arcname="cifar-10-batches-bin")
    return archive, {k: (np.concatenate(v[0]), np.concatenate(v[1])) for k, v in truth.items()}


@pytest.fixture
def release(tmp_path, rng, monkeypatch):
    """The miniature release served from a file:// URL in place of the real CIFAR-10 source."""
    archive, truth = build_release(tmp_path, rng)
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    monkeypatch.setitem(SOURCES, "cifar10", Source(archive.as_uri(), archive.name, md5=md5))
    monkeypatch.setenv("LATENTATLAS_CACHE", str(tmp_path / "cache"))
    return truth


def test_download_fetches_verifies_and_extracts(tmp_path, release, capsys):
    dest = tmp_path / "data"
    assert main(["data", "download", "cifar10", "--data-dir", str(dest), "--no-progress"]) == 0
    assert f"ready in {dest / 'cifar-10-batches-bin'}" in capsys.readouterr().out
    for split, (labels, pixels) in release.items():
        got = load_cifar10(dest / "cifar-10-batches-bin", split)
        assert got.labels.tolist() == labels.tolist()
        assert np.array_equal(got.images.numpy(), pixels)
        assert got.class_names == NAMES
    assert main(["data", "download", "cifar10", "--data-dir", str(dest), "--no-progress"]) == 0  # already there


def test_download_default_dir_is_the_cache(tmp_path, release):
    assert main(["data", "download", "cifar10", "--no-progress"]) == 0
    assert (tmp_path / "cache" / "cifar10" / "cifar-10-batches-bin" / "data_batch_5.bin").is_file()


def test_download_with_a_bad_checksum_keeps_nothing(tmp_path, release, monkeypatch, capsys):
    source = SOURCES["cifar10"]
    monkeypatch.setitem(SOURCES, "cifar10", Source(source.url, source.filename, md5="0" * 32))
    dest = tmp_path / "data"
    assert main(["data", "download", "cifar10", "--data-dir", str(dest), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert "md5 mismatch" in err and len(err.splitlines()) == 1
    assert not (dest / "cifar-10-batches-bin").exists() and not list(dest.glob("*.tar.gz"))


def test_info_of_cifar10_lists_both_splits(tmp_path, release, capsys):
    dest = tmp_path / "data"
    assert main(["data", "download", "cifar10", "--data-dir", str(dest), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["data", "info", "cifar10", "--data-dir", str(dest)]) == 0
    out = capsys.readouterr().out
    for split, (labels, _) in release.items():
        assert f"{split} split: {len(labels)} images of 32x32 with 3 channels, 10 classes" in out
    # the per-class count lines follow the train title, then the test title
    train_part = out.split("test split")[0]
    for name in NAMES:
        count = int((release["train"][0] == NAMES.index(name)).sum())
        assert any(line.split() == [name, str(count)] for line in train_part.splitlines())


def test_info_of_an_image_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LATENTATLAS_CACHE", str(tmp_path / "cache"))
    counts = {"owl": 3, "ant": 5, "cow": 2}
    for name, n in counts.items():
        (tmp_path / "imgs" / name).mkdir(parents=True)
        for i in range(n):
            Image.new("RGB", (12, 10), (i * 40, 0, 0)).save(tmp_path / "imgs" / name / f"{i}.png")  # W 12, H 10
    assert main(["data", "info", str(tmp_path / "imgs")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "images: 10 images of 12x10 with 3 channels, 3 classes"
    assert [line.split() for line in lines[1:4]] == [["ant", "5"], ["cow", "2"], ["owl", "3"]]
    assert f"decoded-pixel cache: {tmp_path / 'cache' / 'folders'}" in lines[-1]
    assert list((tmp_path / "cache" / "folders").glob("imgs-*.npy"))  # the cache really is there


def test_info_of_missing_cifar10_says_how_to_get_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LATENTATLAS_CACHE", str(tmp_path / "cache"))
    assert main(["data", "info", "cifar10"]) == 2
    err = capsys.readouterr().err.strip()
    assert "run `latentatlas data download cifar10`" in err and len(err.splitlines()) == 1
    assert main(["data"]) == 2
    assert "use `latentatlas data download cifar10` or `latentatlas data info PATH`" in capsys.readouterr().err
