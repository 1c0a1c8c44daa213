"""The images behind a set of embeddings, one per row (`analyze --images`): what the report's galleries show.

Accepted sources, each giving N images in row order:
- an image folder or a `.zip` of one (one sub-folder per class): classes sorted, files sorted within a class,
  which is the order `latentatlas embed RUN --data PATH` embeds them in; a directory of CIFAR-10 binary batches
  (its training split, in file order);
- a `.npy` array, or a `.npz` holding an `images` array: (N, H, W), (N, H, W, C) or (N, C, H, W) with C = 1 or 3,
  uint8 or floats in [0, 1] (read memory-mapped when it is a `.npy`).
The count must equal the number of embeddings; when the source has classes and they have the embeddings' class
names, every image's class must equal its embedding's label (a shuffled folder is caught, not drawn).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from latentatlas.data.images import load_image_dataset
from latentatlas.errors import DataError

__all__ = ["load_row_images"]

FIX = "pass the images the embeddings were made from, one per embedding in the same order"


def _array(path: Path) -> np.ndarray:
    try:
        if path.suffix.lower() == ".npy":
            return np.load(path, mmap_mode="r", allow_pickle=False)
        with np.load(path, allow_pickle=False) as z:
            if "images" not in z.files:
                raise DataError(f"{path}: no 'images' array (it holds {', '.join(z.files) or 'nothing'}); "
                                "save the pixels as images=...")  # fmt: skip
            return z["images"]
    except (ValueError, OSError) as exc:
        raise DataError(f"{path}: not a readable NumPy file ({exc}); save it with numpy.save or numpy.savez") from None


def _check_layout(images: np.ndarray, path: Path) -> None:
    shape = tuple(images.shape)
    ok = len(shape) == 3 or (len(shape) == 4 and (shape[1] in (1, 3) or shape[-1] in (1, 3)))
    if not ok or min(shape[1:], default=0) == 0:
        raise DataError(f"{path}: images of shape {shape}; give (N, H, W), (N, H, W, C) or (N, C, H, W), C = 1 or 3")
    if images.dtype != np.uint8 and images.dtype.kind != "f":
        raise DataError(f"{path}: images of dtype {images.dtype}; give uint8 pixels or floats in [0, 1]")


def _check_classes(
    path: Path, image_labels: np.ndarray, image_names: Sequence[str], labels: Any, class_names: Sequence[str] | None
) -> None:
    """A folder whose classes are the embeddings' classes must agree with the labels row by row."""
    if labels is None or class_names is None or sorted(image_names) != sorted(class_names):
        return
    theirs = np.array([list(class_names).index(image_names[c]) for c in range(len(image_names))])[image_labels]
    wrong = np.flatnonzero(theirs != np.asarray(labels))
    if len(wrong):
        i = int(wrong[0])
        raise DataError(
            f"{path}: image {i} is in class {image_names[int(image_labels[i])]!r} but embedding {i} is labelled "
            f"{class_names[int(np.asarray(labels)[i])]!r} ({len(wrong):,} of {len(theirs):,} rows differ); {FIX}"
        )


def load_row_images(path: str | Path, n: int, labels: Any = None, class_names: Sequence[str] | None = None) -> Any:
    """The `n` images of a set of embeddings, row i = embedding i.

    Args:
        path: image folder, `.zip`, CIFAR-10 batch directory, `.npy` or `.npz` (see the module docstring).
        n: the number of embeddings. labels, class_names: the embeddings' class codes (N,) and names, to check
            a folder's classes against (optional).

    Returns:
        (N, C, H, W) uint8 tensor (folders) or the array as stored (`.npy`, `.npz`), indexable by row.

    Raises:
        DataError: a missing or unreadable source, a wrong layout, a count or class that does not match.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(f"{p}: no such images file or folder; {FIX}")
    if p.suffix.lower() in (".npy", ".npz"):
        images, image_labels, image_names = _array(p), None, None
        _check_layout(images, p)
    else:
        data = load_image_dataset(p)
        images, image_labels, image_names = data.images, data.labels.numpy(), data.class_names
    if len(images) != n:
        raise DataError(f"{p}: {len(images):,} images for {n:,} embeddings; {FIX}")
    if image_labels is not None:
        _check_classes(p, image_labels, image_names, labels, class_names)
    return images
