"""Per-point metadata columns stored beside embeddings: what the explorer colours by, searches and shows on hover.

Where they come from:
- `.npz`: every 1-D array of N values other than `labels` (numbers or strings);
- `.safetensors`: every 1-D tensor of N values other than `labels`;
- a TensorBoard projector folder: every column of `metadata.tsv` other than the label column (and `class_name`);
- a metadata file (`read_metadata_file`): a `.csv` / `.tsv` with a header row and one row per embedding.
A column whose every non-empty cell is a number is numeric (float64, NaN where empty), else text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open

from latentatlas.errors import DataError

__all__ = ["read_metadata_file", "source_metadata", "text_columns"]

_RESERVED = ("embeddings", "labels", "class_names", "images")


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def text_columns(header: Sequence[str], body: Sequence[Sequence[str]], where: str) -> dict[str, np.ndarray]:
    """{name: (N,) float64 or str} of a text table; numeric when every non-empty cell is a number."""
    out: dict[str, np.ndarray] = {}
    for j, name in enumerate(header):
        cells = [row[j].strip() if j < len(row) else "" for row in body]
        numbers = [_number(c) if c else float("nan") for c in cells]
        if any(c for c in cells) and all(v is not None for v in numbers):
            out[name] = np.array(numbers, dtype=np.float64)
        else:
            out[name] = np.array(cells, dtype=str)
    if len(set(out)) != len(header):
        raise DataError(f"{where}: two metadata columns share a name; give every column its own header")
    return out


def _read_rows(path: Path, sep: str) -> list[list[str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text; save the metadata as UTF-8") from None
    return [line.rstrip("\r\n").split(sep) for line in text.splitlines() if line.strip()]


def read_metadata_file(path: str | Path, n: int) -> dict[str, np.ndarray]:
    """Columns of a `.csv` / `.tsv` metadata file: a header row, then one row per embedding (N rows)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such metadata file; check the --metadata path")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".tsv"):
        raise DataError(f"{path}: unknown metadata extension {suffix!r}; use .csv or .tsv with a header row")
    rows = _read_rows(path, "\t" if suffix == ".tsv" else ",")
    if not rows:
        raise DataError(f"{path}: metadata file is empty; write a header row and one row per embedding")
    header, body = [h.strip() for h in rows[0]], rows[1:]
    if len(body) != n:
        raise DataError(f"{path}: {len(body)} metadata rows for {n} embeddings; give a header and one row each")
    return text_columns(header, body, str(path))


def _array_columns(arrays: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    out = {}
    for name, arr in arrays.items():
        if name in _RESERVED or arr.shape != (n,):
            continue
        if arr.dtype.kind in "biuf":
            out[name] = arr.astype(np.float64)
        elif arr.dtype.kind in "US":
            out[name] = arr.astype(str)
    return out


def _npz_arrays(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files if z[k].ndim == 1}
    except (ValueError, OSError) as exc:
        raise DataError(f"{path}: not a readable .npz archive ({exc}); save it with numpy.savez") from None


def _safetensors_arrays(path: Path) -> dict[str, np.ndarray]:
    out = {}
    try:
        with safe_open(str(path), framework="pt") as f:
            for key in f.keys():
                t = f.get_tensor(key)
                if t.ndim == 1:
                    out[key] = (t.float() if t.is_floating_point() else t.to(torch.int64)).numpy()
    except (SafetensorError, OSError, RuntimeError) as exc:
        raise DataError(f"{path}: not a readable .safetensors file ({exc})") from None
    return out


def _projector_metadata_path(folder: Path) -> Path | None:
    config = folder / "projector_config.pbtxt"
    if config.is_file():
        m = re.search(r'metadata_path:\s*"([^"]+)"', config.read_text(encoding="utf-8"))
        return folder / m.group(1) if m else None
    return folder / "metadata.tsv"


def _projector_columns(folder: Path, n: int, label_column: str | None) -> dict[str, np.ndarray]:
    path = _projector_metadata_path(folder)
    if path is None or not path.is_file():
        return {}
    rows = _read_rows(path, "\t")
    if not rows or len(rows[0]) < 2 or len(rows) - 1 != n:  # one column: no header, it holds the labels
        return {}
    header, body = [h.strip() for h in rows[0]], rows[1:]
    columns = text_columns(header, body, str(path))
    label = label_column if label_column in columns else "label" if "label" in columns else header[0]
    if label_column is not None and re.fullmatch(r"-?\d+", label_column) and label_column not in columns:
        label = header[int(label_column) % len(header)]
    return {k: v for k, v in columns.items() if k not in (label, "class_name")}


def source_metadata(path: str | Path, n: int, label_column: str | None = None) -> dict[str, np.ndarray]:
    """Metadata columns stored in an embeddings file or projector folder (see the module docstring); {} if none.

    Args:
        path: the embeddings source that `analysis.io.load_embeddings` read (N rows).
        label_column: the projector metadata column holding the labels (left out of the metadata).
    """
    path = Path(path)
    if path.is_dir():
        return _projector_columns(path, n, label_column)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return _array_columns(_npz_arrays(path), n)
    if suffix == ".safetensors":
        return _array_columns(_safetensors_arrays(path), n)
    return {}
