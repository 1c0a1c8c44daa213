"""`load_image_dataset`: one entry point that picks the reader (CIFAR-10 binary, image folder, zip) for a path."""

from __future__ import annotations

from pathlib import Path

from latentatlas.data.cifar10 import load_cifar10, prepare_cifar10
from latentatlas.data.folder import load_image_folder
from latentatlas.data.imageset import ImageSet, cache_root
from latentatlas.errors import DataError

__all__ = ["load_image_dataset"]


def load_image_dataset(
    path: str | Path,
    data_dir: str | Path | None = None,
    download: bool = False,
    split: str = "train",
    cache_dir: str | Path | None = None,
    resize: int | tuple[int, int] | None = None,
) -> ImageSet:
    """Load images from whatever `path` names.

    Args:
        path: `"cifar10"` (the official binary release in `data_dir`), a directory holding `data_batch_*.bin`
            (CIFAR-10 binary files), an image-folder directory, or a `.zip` of an image folder.
        data_dir: where the CIFAR-10 release lives; default `~/.cache/latentatlas/cifar10`.
        download: fetch the CIFAR-10 release into `data_dir` when it is missing.
        split: `"train"` or `"test"`, for CIFAR-10 only.
        cache_dir: where decoded image folders are cached (see `latentatlas.data.folder`).
        resize: (H, W) or side length every folder image is resized to; default: all sizes must match.

    Returns:
        The `ImageSet`; images (N, C, H, W) uint8.
    """
    if str(path).lower() in ("cifar10", "cifar-10"):
        root = Path(data_dir).expanduser() if data_dir is not None else cache_root() / "cifar10"
        return load_cifar10(prepare_cifar10(root, download=download), split=split)
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(
            f"dataset {str(path)!r} not found; pass an image folder, a .zip of one, a directory of CIFAR-10 "
            "binary batches, or 'cifar10' (get it with `latentatlas data download cifar10` or --data-dir DIR)"
        )
    if p.is_dir() and any(p.glob("data_batch_*.bin")):
        return load_cifar10(p, split=split)
    if p.is_dir() and (p / "cifar-10-batches-bin").is_dir():
        return load_cifar10(p / "cifar-10-batches-bin", split=split)
    if p.is_dir() or p.suffix.lower() == ".zip":
        return load_image_folder(p, cache_dir=cache_dir, resize=resize)
    if p.name == "cifar-10-binary.tar.gz":
        return load_cifar10(prepare_cifar10(p.parent), split=split)
    raise DataError(
        f"{p}: not a dataset latentatlas can read; pass an image folder, a .zip of one, a directory of "
        "CIFAR-10 binary batches or 'cifar10'"
    )
