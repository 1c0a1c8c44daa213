"""Image folders (one sub-folder per class, torchvision's ImageFolder layout), as a directory or a zip.

Class names are the class folders' names, sorted; label ids follow that order; files within a class are taken
in sorted path order (this is the "dataset order" the seed's triplets use). A zip may wrap the class folders
in top-level folders (`train/<class>/*.jpg`): the level holding the class folders is found from where the
images are. Images are decoded once with Pillow (grayscale, palette and RGBA become RGB; alpha is dropped)
into a uint8 array cached as `.npy` under `<cache>/folders/`, keyed by the source path and its files' sizes
and mtimes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from tqdm import tqdm

from latentatlas.data.imageset import ImageSet, cache_root
from latentatlas.errors import DataError

__all__ = ["IMAGE_EXTENSIONS", "load_image_folder"]

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm"})
_CACHE_VERSION = 1


@dataclass
class _Layout:
    """What a scan found: per class (sorted), its image files (sorted), and how to read a file's bytes."""

    class_names: list[str]
    files: list[tuple[int, str]]  # (label, name inside the source)
    read: Callable[[str], bytes]
    skipped: int  # non-image files
    example: str  # one of them, for the warning


def _list_dir(root: Path) -> tuple[list[str], set[str], str]:
    files, dirs, stamp = [], set(), hashlib.sha256()
    for here, subdirs, names in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        rel = Path(here).relative_to(root).as_posix()
        dirs.update(f"{rel}/{d}" if rel != "." else d for d in subdirs)
        for name in sorted(n for n in names if not n.startswith(".")):
            rel_name = name if rel == "." else f"{rel}/{name}"
            st = os.stat(os.path.join(here, name))
            stamp.update(f"{rel_name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
            files.append(rel_name)
    return files, dirs, stamp.hexdigest()


def _list_zip(zf: zipfile.ZipFile) -> tuple[list[str], set[str]]:
    files, dirs = [], set()
    for info in zf.infolist():
        parts = [part for part in info.filename.split("/") if part]  # str ops: pathlib is slow on 50k names
        if not parts or parts[0] == "__MACOSX" or any(p.startswith(".") for p in parts):
            continue
        dirs.update("/".join(parts[:i]) for i in range(1, len(parts) if not info.is_dir() else len(parts) + 1))
        if not info.is_dir():
            files.append("/".join(parts))
    return files, dirs


def _is_image(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def _class_level(images: list[str]) -> str:
    """Prefix (possibly "") of the folder holding the class folders: strip wrappers shared by all images."""
    prefix: list[str] = []
    split = [n.split("/") for n in images]
    while split and all(len(p) >= 3 for p in split) and len({p[0] for p in split}) == 1:
        prefix.append(split[0][0])
        split = [p[1:] for p in split]
    return "/".join(prefix)


def _layout(source: Path, names: list[str], dirs: set[str], read: Callable[[str], bytes]) -> _Layout:
    images = sorted(n for n in names if _is_image(n))
    if not images:
        raise DataError(f"{source}: no image files found; expected one sub-folder per class holding images")
    prefix = _class_level(images)
    cut = len(prefix) + 1 if prefix else 0
    stray = [n for n in images if "/" not in n[cut:]]
    if stray:
        raise DataError(f"{source}: image {stray[0]} is not inside a class folder; move it into one")
    skipped = len(names) - len(images)
    example = next((n for n in names if not _is_image(n)), "")
    by_class: dict[str, list[str]] = {}
    for d in dirs:
        if d.startswith(prefix + "/" if prefix else "") and d[cut:] and "/" not in d[cut:]:
            by_class.setdefault(d[cut:], [])
    for n in images:
        by_class.setdefault(n[cut:].split("/", 1)[0], []).append(n)
    empty = sorted(c for c, files in by_class.items() if not files)
    if empty:
        raise DataError(
            f"{source}: class folder {prefix + '/' if prefix else ''}{empty[0]} has no images; add images or remove it"
        )
    class_names = sorted(by_class)
    files = [(label, n) for label, c in enumerate(class_names) for n in sorted(by_class[c])]
    return _Layout(class_names, files, read, skipped, example)


def _decode_image(data: bytes, name: str, size: tuple[int, int] | None) -> np.ndarray:
    """Decode one image to (H, W, 3) uint8, resized to `size` = (H, W) if given."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            rgb = img.convert("RGB")
    except UnidentifiedImageError:
        raise DataError(
            f"cannot decode image {name} (not an image format Pillow reads); remove or replace the file"
        ) from None
    except OSError as exc:
        raise DataError(f"cannot decode image {name} ({exc}); remove or replace the file") from None
    if size is not None and rgb.size != (size[1], size[0]):
        rgb = rgb.resize((size[1], size[0]), Image.Resampling.BILINEAR)
    return np.asarray(rgb, dtype=np.uint8)


def _decode_all(source: Path, layout: _Layout, size: tuple[int, int] | None, progress: bool) -> tuple[np.ndarray, dict]:
    """All images as (N, 3, H, W) uint8 (sizes must agree unless `size` is set), and the cache metadata."""
    out: np.ndarray | None = None
    first = ""
    for i, (_, name) in enumerate(
        tqdm(layout.files, desc=f"decoding {source.name}", disable=None if progress else True)
    ):
        pixels = _decode_image(layout.read(name), name, size)
        if out is None:
            out, first = np.empty((len(layout.files), *pixels.shape), dtype=np.uint8), name
        elif pixels.shape != out.shape[1:]:
            raise DataError(
                f"{source}: images have different sizes, {out.shape[2]}x{out.shape[1]} ({first}) and "
                f"{pixels.shape[1]}x{pixels.shape[0]} ({name}); pass resize=(H, W) to resize them all"
            )
        out[i] = pixels
    assert out is not None
    counts = np.bincount([label for label, _ in layout.files], minlength=len(layout.class_names))
    meta = {
        "class_names": layout.class_names,
        "counts": counts.tolist(),
        "skipped": layout.skipped,
        "example": layout.example,
    }
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2)), meta


def _zip_reader(source: Path, zf: zipfile.ZipFile) -> Callable[[str], bytes]:
    """`zf.read` with a damaged member (bad CRC, cut-off data) as a one-line DataError naming it."""

    def read(name: str) -> bytes:
        try:
            return zf.read(name)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
            raise DataError(
                f"{source}: member {name} is damaged ({exc}); re-create or download the zip again"
            ) from None

    return read


def _cache_paths(cache_dir: Path, source: Path, fingerprint: str, size: tuple[int, int] | None) -> Path:
    """Cache file stem: pixels in `<stem>.npy`, class names and counts in `<stem>.json`."""
    key = json.dumps([_CACHE_VERSION, str(source.resolve()), fingerprint, size])
    return cache_dir / "folders" / f"{source.stem}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def _read_cache(stem: Path) -> tuple[np.ndarray, dict] | None:
    npy, meta_path = stem.with_suffix(".npy"), stem.with_suffix(".json")
    if not (npy.is_file() and meta_path.is_file()):
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        images = np.load(npy, allow_pickle=False)
    except (OSError, ValueError):
        return None  # unreadable (e.g. a crash mid-write of an older version): decode again
    if images.ndim != 4 or images.shape[0] != sum(meta["counts"]):
        return None
    return images, meta


def _write_atomic(path: Path, write: Callable) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_cache(stem: Path, images: np.ndarray, meta: dict) -> None:
    # Pixels first, metadata last: the metadata file's presence marks a complete entry.
    _write_atomic(stem.with_suffix(".npy"), lambda f: np.save(f, images))
    _write_atomic(stem.with_suffix(".json"), lambda f: f.write(json.dumps(meta).encode()))


def _as_size(resize: int | tuple[int, int] | None) -> tuple[int, int] | None:
    if resize is None:
        return None
    size = (resize, resize) if isinstance(resize, int) else tuple(resize)
    if len(size) != 2 or any(int(s) < 1 for s in size):
        raise DataError(f"resize must be a positive side or (H, W), got {resize!r}")
    return int(size[0]), int(size[1])


def load_image_folder(
    path: str | Path,
    cache_dir: str | Path | None = None,
    resize: int | tuple[int, int] | None = None,
    cache: bool = True,
    progress: bool = True,
) -> ImageSet:
    """Load an image folder (directory or `.zip`) into memory.

    Args:
        path: directory or `.zip` whose class folders hold the images (possibly under wrapper folders).
        cache_dir: cache root; decoded pixels go to `<cache_dir>/folders/`. Default `~/.cache/latentatlas`.
        resize: (H, W) or side length; default: every image must have the same size.
        cache: read and write the decoded-pixel cache.
        progress: show a progress bar while decoding (only on a terminal).

    Returns:
        ImageSet with images (N, 3, H, W) uint8 and labels (N,) int64 in sorted class order.
    """
    source = Path(path).expanduser()
    size = _as_size(resize)
    if source.is_dir():
        names, dirs, fingerprint = _list_dir(source)
    elif source.is_file():
        st = source.stat()
        fingerprint = f"{st.st_size}:{st.st_mtime_ns}"
    else:
        raise DataError(f"{source} does not exist; pass an image folder or a .zip of one")
    stem = _cache_paths(Path(cache_dir).expanduser() if cache_dir else cache_root(), source, fingerprint, size)
    hit = _read_cache(stem) if cache else None
    if hit is not None:
        images, meta = hit
    elif source.is_dir():
        images, meta = _decode_all(
            source, _layout(source, names, dirs, lambda n: (source / n).read_bytes()), size, progress
        )
    else:
        try:
            zf = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError) as exc:
            raise DataError(
                f"{source}: not a readable zip file ({exc}); pass an image folder or a .zip of one"
            ) from exc
        with zf:
            names, dirs = _list_zip(zf)
            images, meta = _decode_all(source, _layout(source, names, dirs, _zip_reader(source, zf)), size, progress)
    if hit is None and cache:
        _write_cache(stem, images, meta)
    if meta["skipped"]:
        warnings.warn(
            f"{source}: skipped {meta['skipped']} non-image files (e.g. {meta['example']})", UserWarning, stacklevel=2
        )
    labels = torch.repeat_interleave(torch.arange(len(meta["counts"])), torch.tensor(meta["counts"]))
    return ImageSet(torch.from_numpy(images), labels, meta["class_names"], source=str(source))
