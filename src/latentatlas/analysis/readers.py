"""Low-level readers of the embedding file formats: arrays (.npy, .npz, .safetensors) and text tables (.csv/.tsv).

Each returns plain arrays or raises a one-line `DataError` naming the file and the fix; `latentatlas.analysis.io`
turns them into an `EmbeddingSet`.
"""

from __future__ import annotations

import json
import re
import tokenize
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open

from latentatlas.errors import DataError
from latentatlas.textio import read_text

__all__ = [
    "column_index",
    "is_int",
    "is_number",
    "parse_label_strings",
    "read_npy",
    "read_npz",
    "read_safetensors",
    "read_table",
]

Arrays = tuple[np.ndarray, np.ndarray | None, list[str] | None]  # embeddings, raw labels or None, names or None


# what NumPy raises on a truncated, damaged or foreign file (its header is parsed as a Python literal, and a
# header may promise an array larger than memory): a file, not a bug
_BROKEN = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError, NotImplementedError,
           SyntaxError, tokenize.TokenError, RecursionError, MemoryError, TypeError, OverflowError)  # fmt: skip


def _why(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]


def read_npy(path: Path) -> np.ndarray:
    # our own file handle: NumPy leaves its own open when a damaged archive fails to parse
    try:
        with open(path, "rb") as fh:
            array = np.load(fh, allow_pickle=False)
            is_archive = not isinstance(array, np.ndarray)  # np.load reads a zip (an .npz under another name) too
    except _BROKEN as exc:
        raise DataError(f"{path}: not a readable .npy array ({_why(exc)}); save it with numpy.save") from None
    if is_archive:
        raise DataError(f"{path}: holds an .npz archive, not an .npy array; rename it to .npz")
    return array


def read_npz(path: Path) -> Arrays:
    try:
        with open(path, "rb") as fh:
            z = np.load(fh, allow_pickle=False)
            if isinstance(z, np.ndarray):
                raise ValueError("it holds a single .npy array")
            arrays = {k: z[k] for k in z.files}
    except _BROKEN as exc:
        raise DataError(f"{path}: not a readable .npz archive ({_why(exc)}); save it with numpy.savez") from None
    if "embeddings" not in arrays:
        raise DataError(f"{path}: no array named 'embeddings' (found {sorted(arrays)}); use savez(embeddings=...)")
    names = arrays.get("class_names")
    return arrays["embeddings"], arrays.get("labels"), None if names is None else [str(n) for n in names]


def _to_numpy(t: torch.Tensor) -> np.ndarray:
    """A tensor as NumPy; bfloat16 and float16 (which NumPy cannot or should not compute in) become float32."""
    if t.dtype in (torch.bfloat16, torch.float16) or (t.is_floating_point() and t.element_size() == 1):
        t = t.float()
    return t.numpy()


def read_safetensors(path: Path) -> Arrays:
    try:
        with safe_open(str(path), framework="pt") as f:
            keys, meta = set(f.keys()), f.metadata() or {}
            if "embeddings" not in keys:
                raise DataError(f"{path}: no tensor named 'embeddings' (found {sorted(keys)}); rename it")
            x = _to_numpy(f.get_tensor("embeddings"))
            labels = _to_numpy(f.get_tensor("labels")) if "labels" in keys else None
    except (SafetensorError, OSError, RuntimeError, TypeError, ValueError) as exc:
        raise DataError(f"{path}: not a readable .safetensors file ({_why(exc)})") from None
    names = None
    if "class_names" in meta:
        try:
            names = [str(n) for n in json.loads(meta["class_names"])]
        except (ValueError, TypeError):
            raise DataError(f"{path}: metadata 'class_names' is not a JSON list; write json.dumps(names)") from None
    return x, labels, names


def read_table(path: Path, sep: str, label_column: str | None, exclude: Sequence[str] = ()) -> Arrays:
    """Read a CSV/TSV of numbers; the first row is a header when any of its cells is not a number. Header columns
    named in `exclude` (e.g. known factors stored beside the embeddings) are not embedding dimensions."""
    rows = [line.rstrip("\r\n").split(sep) for line in read_text(path, "CSV/TSV file").splitlines()]
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise DataError(f"{path}: file is empty; write the embeddings into it first")
    header = rows[0] if any(not is_number(c) for c in rows[0]) else None
    body = rows[1:] if header is not None else rows
    if not body:
        raise DataError(f"{path}: only a header row, no data; add one row per embedding")
    width = len(body[0])
    for i, row in enumerate(body):
        if len(row) != width:
            line = i + 1 + (header is not None)
            raise DataError(f"{path}: line {line} has {len(row)} columns, expected {width}; fix the row")
    columns = [h.strip() for h in header] if header is not None else [str(i) for i in range(width)]
    if header is not None and len(columns) != width:
        raise DataError(f"{path}: header has {len(columns)} columns but rows have {width}; fix the header")
    label_idx = None if label_column is None else column_index(columns, label_column, path)
    labels = None if label_idx is None else parse_label_strings([r[label_idx].strip() for r in body])
    keep = [j for j in range(width) if j != label_idx and (header is None or columns[j] not in exclude)]
    if not keep:
        others = "the labels and the factor columns" if exclude else "the labels"
        raise DataError(f"{path}: no numeric column besides {others}; add the embedding columns")
    x = np.empty((len(body), len(keep)), dtype=np.float64)
    for k, j in enumerate(keep):
        try:
            x[:, k] = [float(r[j]) for r in body]
        except (ValueError, OverflowError):
            hint = f"pass --label-column {columns[j]} if it holds the labels, or drop it"
            raise DataError(f"{path}: column {columns[j]!r} is not numeric; {hint}") from None
    return x, labels, None


def column_index(columns: Sequence[str], name: str, path: Path) -> int:
    """Index of column `name` (a header name, else a 0-based or negative integer index)."""
    if name in columns:
        return list(columns).index(name)
    if re.fullmatch(r"-?\d+", name) and -len(columns) <= int(name) < len(columns):
        return int(name) % len(columns)
    raise DataError(f"{path}: no column {name!r} (columns: {', '.join(columns)}); pass one of them")


def parse_label_strings(values: Sequence[str]) -> np.ndarray:
    """(N,) int64 when every value is an integer that fits, else (N,) str."""
    if all(is_int(v) for v in values):
        ints = [int(v) for v in values]
        if all(-(2**63) <= i < 2**63 for i in ints):
            return np.array(ints, dtype=np.int64)
    return np.array(list(values), dtype=str)


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def is_int(text: str) -> bool:
    return re.fullmatch(r"[+-]?\d+", text.strip()) is not None
