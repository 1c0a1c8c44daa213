"""TensorBoard Embedding Projector folders (https://projector.tensorflow.org): write them, and read them back.

A folder holds `tensors.tsv` (one embedding per line, tab-separated, no header), `metadata.tsv` (one row per
embedding; a header row only when there are 2+ columns, as the projector expects), `projector_config.pbtxt`
naming both, and optionally `sprite.png`, a grid of thumbnails in embedding order (row-major).
Load the folder in projector.tensorflow.org ("Load") or point TensorBoard's `--logdir` at it.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from latentatlas.analysis.inputs import validate_embeddings
from latentatlas.analysis.readers import column_index, parse_label_strings, read_table
from latentatlas.errors import DataError
from latentatlas.outdir import output_dir
from latentatlas.textio import read_text

__all__ = ["export_projector", "read_projector", "write_projector_files"]

# The projector refuses sprites larger than 8192 x 8192 pixels.
MAX_SPRITE_PX = 8192


def export_projector(
    path: str | Path,
    embeddings: np.ndarray,
    labels: np.ndarray | None = None,
    class_names: list[str] | None = None,
    images: np.ndarray | None = None,
    force: bool = False,
) -> Path:
    """Write a projector folder at `path` atomically (refuses a non-empty folder unless `force`).

    Args:
        embeddings: (N, D) float.
        labels: (N,) int class codes 0..C-1, or None for no metadata.
        class_names: C names, `class_names[label]`; defaults to the label values.
        images: (N, H, W) or (N, H, W, C) uint8 thumbnails for a sprite, C in {1, 3, 4}.
    """
    x = validate_embeddings(embeddings, "embeddings")
    with output_dir(path, force) as tmp:
        write_projector_files(tmp, x, labels, class_names, images)
    return Path(path)


def write_projector_files(
    folder: Path,
    x: np.ndarray,
    labels: np.ndarray | None = None,
    class_names: list[str] | None = None,
    images: np.ndarray | None = None,
) -> None:
    """Write the projector files into an existing `folder` (no atomicity; see `export_projector`)."""
    # 9 significant digits round-trip every float32 exactly (IEEE 754: ceil(1 + 24 log10 2) = 9).
    np.savetxt(folder / "tensors.tsv", np.asarray(x, dtype=np.float32), delimiter="\t", fmt="%.9g")
    config = ["embeddings {", '  tensor_path: "tensors.tsv"']
    if labels is not None:
        labels = np.asarray(labels).astype(np.int64)
        if labels.shape != (len(x),):
            raise DataError(f"labels have shape {labels.shape}; give one label per embedding ({len(x)})")
        names = class_names or [str(i) for i in range(int(labels.max()) + 1)]
        lines = ["label\tclass_name"] + [f"{lab}\t{_clean(names[lab])}" for lab in labels]
        (folder / "metadata.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        config.append('  metadata_path: "metadata.tsv"')
    if images is not None:
        h, w = _write_sprite(folder / "sprite.png", images, len(x))
        config += ["  sprite {", '    image_path: "sprite.png"', f"    single_image_dim: {w}"]
        config += [f"    single_image_dim: {h}", "  }"]
    (folder / "projector_config.pbtxt").write_text("\n".join(config + ["}"]) + "\n", encoding="utf-8")


def _clean(name: str) -> str:
    # A tab or newline inside a name would shift the metadata columns.
    return re.sub(r"[\t\r\n]+", " ", str(name))


def _write_sprite(path: Path, images: np.ndarray, n: int) -> tuple[int, int]:
    """Tile (N, H, W[, C]) uint8 thumbnails row-major in a square grid; shrink them to fit 8192 px."""
    from PIL import Image

    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim not in (3, 4) or len(images) != n:
        raise DataError(
            f"images have shape {images.shape}, dtype {images.dtype}; give ({n}, H, W[, C]) uint8 thumbnails"
        )
    if images.ndim == 4 and images.shape[-1] not in (1, 3, 4):
        raise DataError(f"images have {images.shape[-1]} channels; give 1, 3 or 4 channels last")
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    cols = math.ceil(math.sqrt(n))
    h, w = images.shape[1:3]
    scale = min(1.0, MAX_SPRITE_PX / (cols * max(h, w)))
    th, tw = max(1, int(h * scale)), max(1, int(w * scale))
    mode = "L" if images.ndim == 3 else {3: "RGB", 4: "RGBA"}[images.shape[-1]]
    sprite = Image.new(mode, (cols * tw, cols * th))
    for i, img in enumerate(images):
        tile = Image.fromarray(img, mode=mode)
        if (th, tw) != (h, w):
            tile = tile.resize((tw, th), Image.Resampling.BILINEAR)
        sprite.paste(tile, ((i % cols) * tw, (i // cols) * th))
    tmp = path.with_suffix(".tmp.png")
    sprite.save(tmp)
    tmp.replace(path)
    return th, tw


def read_projector(
    folder: Path, label_column: str | None = None
) -> tuple[np.ndarray, np.ndarray | None, list[str] | None]:
    """Read a projector folder: (N, D) embeddings, raw labels or None, class names or None.

    Labels come from `label_column`, else the `label` column, else the first metadata column. When a
    `class_name` column sits next to integer labels, it names the classes.
    """
    tensors, metadata = _paths(folder)
    x, _, _ = read_table(tensors, "\t", None)
    if metadata is None or not metadata.is_file():
        if label_column is not None:
            raise DataError(f"{folder}: no metadata.tsv to take --label-column from; add it or use --labels")
        return x, None, None
    rows = [r.split("\t") for r in read_text(metadata, "projector metadata").splitlines() if r.strip()]
    width = len(rows[0]) if rows else 0
    # The projector's rule: a single-column metadata file has no header; with 2+ columns the first row is one.
    header, body = (rows[0], rows[1:]) if width > 1 else ([""], rows)
    header = [h.strip() for h in header]
    if len(body) != len(x):
        raise DataError(f"{metadata}: {len(body)} metadata rows for {len(x)} embeddings; give one row each")
    if label_column is not None:
        col = column_index(header, label_column, metadata)
    else:
        col = header.index("label") if "label" in header else 0
    raw = parse_label_strings([r[col].strip() if col < len(r) else "" for r in body])
    names = None
    if "class_name" in header and raw.dtype.kind == "i" and col != header.index("class_name"):
        named, at = {}, header.index("class_name")
        for lab, row in zip(raw.tolist(), body, strict=True):
            named.setdefault(lab, row[at].strip() if at < len(row) else str(lab))
        names = [named[k] for k in sorted(named)]
    return x, raw, names


def _paths(folder: Path) -> tuple[Path, Path | None]:
    """tensor and metadata paths, from `projector_config.pbtxt` when present (its first embedding)."""
    config = folder / "projector_config.pbtxt"
    tensors, metadata = folder / "tensors.tsv", folder / "metadata.tsv"
    if config.is_file():
        text = read_text(config, "projector config")
        t = re.search(r'tensor_path:\s*"([^"]+)"', text)
        m = re.search(r'metadata_path:\s*"([^"]+)"', text)
        tensors = folder / t.group(1) if t else tensors
        metadata = folder / m.group(1) if m else None
    if not tensors.is_file():
        if (folder / "config.yaml").is_file():
            raise DataError(f"{folder}: a training run folder; run `latentatlas analyze {folder}` to embed it")
        raise DataError(f"{folder}: a folder without tensors.tsv; give an embeddings file or a projector folder")
    return tensors, metadata
