"""CIFAR-10 from its official binary release (Krizhevsky, 2009), read without pickle.

The release `cifar-10-binary.tar.gz` holds `cifar-10-batches-bin/` with `data_batch_{1..5}.bin` (10,000 images
each), `test_batch.bin` and `batches.meta.txt` (one class name per line). Each record is 3,073 bytes: 1 label
byte, then 1,024 red, 1,024 green and 1,024 blue bytes, each plane a row-major 32x32 image
(https://www.cs.toronto.edu/~kriz/cifar.html). The pickled "python version" is deliberately not supported:
unpickling a downloaded file can run arbitrary code.
"""

from __future__ import annotations

import logging
import shutil
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import torch

from latentatlas.data.download import SOURCES, fetch, verify
from latentatlas.data.imageset import ImageSet
from latentatlas.errors import DataError

__all__ = ["extract_tar", "load_cifar10", "prepare_cifar10", "read_cifar10_bin", "read_class_names"]

log = logging.getLogger("latentatlas")

RECORD_BYTES = 1 + 3 * 32 * 32
BATCH_DIR = "cifar-10-batches-bin"
SPLIT_FILES = {"train": [f"data_batch_{i}.bin" for i in range(1, 6)], "test": ["test_batch.bin"]}
_HOW_TO_GET = "run `latentatlas data download cifar10` or pass --data-dir DIR holding cifar-10-binary.tar.gz"


def read_cifar10_bin(path: str | Path) -> tuple[torch.Tensor, torch.Tensor]:
    """Parse one CIFAR-10 binary batch file.

    Returns:
        images: (N, 3, 32, 32) uint8; labels: (N,) int64.
    """
    path = Path(path)
    try:
        raw = np.fromfile(path, dtype=np.uint8)  # writable, so torch.from_numpy needs no copy
    except OSError as exc:
        raise DataError(f"cannot read {path} ({exc.strerror}); {_HOW_TO_GET}") from exc
    if raw.size == 0 or raw.size % RECORD_BYTES:
        raise DataError(
            f"{path}: {raw.size} bytes is not a whole number of {RECORD_BYTES}-byte CIFAR-10 records "
            "(truncated or not a CIFAR-10 binary file); download the release again"
        )
    records = raw.reshape(-1, RECORD_BYTES)
    labels = torch.from_numpy(records[:, 0].astype(np.int64))
    # Channel-major planes of row-major rows: the bytes already are (3, 32, 32) per record.
    images = torch.from_numpy(np.ascontiguousarray(records[:, 1:]).reshape(-1, 3, 32, 32))
    return images, labels


def read_class_names(path: str | Path) -> list[str]:
    """Class names from `batches.meta.txt`: one per line, blank lines ignored."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{path} is not UTF-8 text; download the CIFAR-10 release again") from None
    except OSError as exc:
        raise DataError(f"cannot read class names from {path} ({exc.strerror}); {_HOW_TO_GET}") from exc
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if not names:
        raise DataError(f"{path} holds no class names; download the CIFAR-10 release again")
    return names


def load_cifar10(root: str | Path, split: str = "train") -> ImageSet:
    """Load a split of the binary release from `root` (the folder holding `data_batch_1.bin`).

    Args:
        root: the extracted `cifar-10-batches-bin` folder.
        split: `"train"` (50,000 images from the five data batches) or `"test"` (10,000 images).
    """
    if split not in SPLIT_FILES:
        raise DataError(f"unknown CIFAR-10 split {split!r}; use 'train' or 'test'")
    root = Path(root)
    missing = [name for name in SPLIT_FILES[split] if not (root / name).is_file()]
    if missing:
        raise DataError(f"{root} lacks {', '.join(missing)}; {_HOW_TO_GET}")
    parts = [read_cifar10_bin(root / name) for name in SPLIT_FILES[split]]
    images = torch.cat([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
    labels = torch.cat([p[1] for p in parts]) if len(parts) > 1 else parts[0][1]
    meta = root / "batches.meta.txt"
    class_names = read_class_names(meta) if meta.exists() else _default_names()
    return ImageSet(images, labels, class_names, source=f"cifar10:{split}:{root}")


def _default_names() -> list[str]:
    return "airplane automobile bird cat deer dog frog horse ship truck".split()


def extract_tar(archive: str | Path, dest: str | Path) -> Path:
    """Extract a tar(.gz) archive into `dest`, refusing anything that could write outside it.

    Only regular files and folders are extracted; absolute paths, `..` components, links and device files are
    errors. Files land in a temp folder first and are moved into `dest` at the end, so an interrupted
    extraction leaves no partial tree.

    Returns:
        `dest` as a Path.
    """
    archive, dest = Path(archive), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest, prefix=".extract-") as tmp_dir:
        tmp = Path(tmp_dir)
        try:
            with tarfile.open(archive, "r:*") as tar:
                for member in tar:
                    _check_member(archive, member)
                    target = tmp / member.name
                    if member.isdir():
                        target.mkdir(parents=True, exist_ok=True)
                        continue
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with tar.extractfile(member) as src, open(target, "wb") as out:
                        shutil.copyfileobj(src, out)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise DataError(f"{archive}: not a readable tar archive ({exc}); download it again") from exc
        for child in tmp.iterdir():
            final = dest / child.name
            if final.exists():
                shutil.rmtree(final) if final.is_dir() else final.unlink()
            child.rename(final)
    return dest


def _check_member(archive: Path, member: tarfile.TarInfo) -> None:
    parts = Path(member.name).parts
    if member.name.startswith(("/", "\\")) or ".." in parts or not parts:
        raise DataError(f"{archive}: member {member.name!r} would escape the target folder; refusing to extract")
    if not (member.isfile() or member.isdir()):
        raise DataError(f"{archive}: member {member.name!r} is a link or device; refusing to extract")


def prepare_cifar10(data_dir: str | Path, download: bool = False, progress: bool = True) -> Path:
    """Find (extracting or downloading if needed) the binary release under `data_dir`.

    Looks for `data_dir/data_batch_1.bin`, then `data_dir/cifar-10-batches-bin/`, then extracts
    `data_dir/cifar-10-binary.tar.gz` (after checking its MD5); with `download=True` fetches the archive
    first.

    Returns:
        The folder holding the `.bin` files.
    """
    data_dir = Path(data_dir).expanduser()
    for root in (data_dir, data_dir / BATCH_DIR):
        if (root / "data_batch_1.bin").is_file():
            return root
    archive = data_dir / SOURCES["cifar10"].filename
    if archive.is_file():
        verify(archive, sha256=SOURCES["cifar10"].sha256, md5=SOURCES["cifar10"].md5)
    elif download:
        fetch("cifar10", data_dir, progress=progress)
    else:
        raise DataError(f"CIFAR-10 not found in {data_dir}; {_HOW_TO_GET}")
    log.info("extracting %s", archive)
    extract_tar(archive, data_dir)
    if not (data_dir / BATCH_DIR / "data_batch_1.bin").is_file():
        raise DataError(f"{archive} holds no {BATCH_DIR}/data_batch_1.bin; it is not the CIFAR-10 binary release")
    return data_dir / BATCH_DIR
