"""Read embeddings (and their labels) from files, validate them, and write result directories atomically.

Formats: `.npy` (a 2-D array), `.npz` (`embeddings`, optional `labels`, `class_names`), `.safetensors`
(`embeddings`, optional `labels`; class names as JSON in the header metadata key `class_names`), `.csv`/`.tsv`
(numeric columns, one of which may be the label column), and a TensorBoard projector folder (`tensors.tsv` +
`metadata.tsv`). Every problem raises a one-line `DataError` naming the file and the fix.

Labels always come out as codes 0..C-1 with `class_names[code]` naming each class: string labels are sorted,
integer labels keep their order and their values become the names unless a class-name file is given.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from latentatlas.errors import DataError
from latentatlas.outdir import check_out_dir, output_dir  # noqa: F401 (re-exported)

__all__ = [
    "EmbeddingSet",
    "encode_labels",
    "load_class_names",
    "load_embeddings",
    "load_labels",
    "output_dir",
    "validate_embeddings",
]


@dataclass
class EmbeddingSet:
    """Embeddings read from a file.

    Attributes:
        embeddings: (N, D) float32.
        labels: (N,) int64 class codes in 0..C-1, or None when the file has no labels.
        class_names: C names, `class_names[code]`, or None when there are no labels.
        source: the path the embeddings were read from.
    """

    embeddings: np.ndarray
    labels: np.ndarray | None
    class_names: list[str] | None
    source: str


def load_embeddings(
    path: str | Path,
    labels_path: str | Path | None = None,
    label_column: str | None = None,
    class_names_path: str | Path | None = None,
) -> EmbeddingSet:
    """Read embeddings and labels from `path`, plus optional label and class-name files.

    Args:
        path: `.npy`, `.npz`, `.safetensors`, `.csv`, `.tsv` file, or a TensorBoard projector folder.
        labels_path: `.npy`, `.txt` or `.csv` file with one label per line (ints or strings); overrides labels
            stored in `path`.
        label_column: CSV/TSV/projector-metadata column holding the labels (header name or 0-based index).
        class_names_path: text file with one class name per line, in the order of the sorted labels.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder; check the path")
    if path.is_dir():
        from latentatlas.analysis.projector import read_projector

        x, raw, names = read_projector(path, label_column)
    else:
        if label_column is not None and path.suffix.lower() not in (".csv", ".tsv"):
            raise DataError(f"{path}: --label-column only applies to .csv/.tsv files and projector folders")
        x, raw, names = _read_file(path, label_column)
    x = validate_embeddings(x, str(path))
    if labels_path is not None:
        raw, names = load_labels(labels_path), None
    if class_names_path is not None:
        names = load_class_names(class_names_path)
        if raw is None:
            raise DataError(f"{class_names_path}: class names given but no labels; pass --labels FILE too")
    if raw is None:
        return EmbeddingSet(x, None, None, str(path))
    where = str(labels_path or path)
    codes, names = encode_labels(raw, len(x), names, where, names_source=str(class_names_path or path))
    return EmbeddingSet(x, codes, names, str(path))


def _read_file(path: Path, label_column: str | None) -> tuple[np.ndarray, np.ndarray | None, list[str] | None]:
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise DataError(f"{path}: file is empty; write the embeddings into it first")
    if suffix == ".npy":
        return _load_npy(path), None, None
    if suffix == ".npz":
        return _read_npz(path)
    if suffix == ".safetensors":
        return _read_safetensors(path)
    if suffix in (".csv", ".tsv"):
        return read_table(path, "\t" if suffix == ".tsv" else ",", label_column)
    raise DataError(
        f"{path}: unknown extension {suffix or '(none)'!r}; use .npy, .npz, .safetensors, .csv, .tsv "
        "or a TensorBoard projector folder"
    )


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise DataError(f"{path}: not a readable .npy array ({exc}); save it with numpy.save") from None


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray | None, list[str] | None]:
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (ValueError, OSError) as exc:
        raise DataError(f"{path}: not a readable .npz archive ({exc}); save it with numpy.savez") from None
    if "embeddings" not in arrays:
        raise DataError(f"{path}: no array named 'embeddings' (found {sorted(arrays)}); use savez(embeddings=...)")
    names = arrays.get("class_names")
    return arrays["embeddings"], arrays.get("labels"), None if names is None else [str(n) for n in names]


def _read_safetensors(path: Path) -> tuple[np.ndarray, np.ndarray | None, list[str] | None]:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="np") as f:
            keys, meta = set(f.keys()), f.metadata() or {}
            if "embeddings" not in keys:
                raise DataError(f"{path}: no tensor named 'embeddings' (found {sorted(keys)}); rename it")
            x = f.get_tensor("embeddings")
            labels = f.get_tensor("labels") if "labels" in keys else None
    except (SafetensorError, OSError) as exc:
        raise DataError(f"{path}: not a readable .safetensors file ({exc})") from None
    names = None
    if "class_names" in meta:
        try:
            names = [str(n) for n in json.loads(meta["class_names"])]
        except (ValueError, TypeError):
            raise DataError(f"{path}: metadata 'class_names' is not a JSON list; write json.dumps(names)") from None
    return x, labels, names


def read_table(
    path: Path, sep: str, label_column: str | None
) -> tuple[np.ndarray, np.ndarray | None, list[str] | None]:
    """Read a CSV/TSV of numbers; the first row is a header when any of its cells is not a number."""
    rows = [line.rstrip("\r\n").split(sep) for line in path.read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise DataError(f"{path}: file is empty; write the embeddings into it first")
    header = rows[0] if any(not _is_number(c) for c in rows[0]) else None
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
    keep = [j for j in range(width) if j != label_idx]
    x = np.empty((len(body), len(keep)), dtype=np.float64)
    for k, j in enumerate(keep):
        try:
            x[:, k] = [float(r[j]) for r in body]
        except ValueError:
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


def load_labels(path: str | Path) -> np.ndarray:
    """Read labels: `.npy` (1-D), or `.txt`/`.csv` with one label per line (ints or strings).

    In a `.csv`, a text first line followed by integer lines is a header and is skipped.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such labels file; check the --labels path")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        labels = _load_npy(path)
        if labels.ndim != 1:
            raise DataError(f"{path}: labels have shape {labels.shape}; save a 1-D array of N labels")
        return labels
    if suffix not in (".txt", ".csv"):
        raise DataError(f"{path}: unknown labels extension {suffix!r}; use .npy, .txt or .csv (one per line)")
    lines = [s.strip() for s in path.read_text(encoding="utf-8").splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if suffix == ".csv" and len(lines) > 1 and not _is_int(lines[0]) and all(_is_int(s) for s in lines[1:]):
        lines = lines[1:]
    if not lines:
        raise DataError(f"{path}: labels file is empty; write one label per line")
    return parse_label_strings(lines)


def load_class_names(path: str | Path) -> list[str]:
    """Read one class name per line (trailing blank lines ignored)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such class-names file; check the --class-names path")
    names = [s.strip() for s in path.read_text(encoding="utf-8").splitlines()]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise DataError(f"{path}: class-names file is empty; write one class name per line")
    return names


def validate_embeddings(x: object, where: str) -> np.ndarray:
    """Return `x` as a (N, D) float32 array, or raise a `DataError` naming `where` and the fix."""
    if hasattr(x, "detach"):  # a torch tensor
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    if x.dtype.kind not in "iufb":
        raise DataError(f"{where}: embeddings have dtype {x.dtype}, not numbers; save a float array")
    if x.ndim == 1:
        raise DataError(f"{where}: a 1-D array of shape {x.shape}; embeddings must be (N, D): reshape(-1, 1)?")
    if x.ndim != 2:
        raise DataError(f"{where}: array of shape {x.shape}; embeddings must be (N, D): reshape(len(x), -1)")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise DataError(f"{where}: embeddings array of shape {x.shape} is empty; it needs N >= 2 rows, D >= 1")
    x = x.astype(np.float32)
    bad = np.flatnonzero(~np.isfinite(x).all(axis=1))
    if len(bad):
        raise DataError(f"{where}: {len(bad)} row(s) hold NaN or inf (first at index {bad[0]}); drop or fix those rows")
    return x


def parse_label_strings(values: Sequence[str]) -> np.ndarray:
    """(N,) int64 when every value is an integer, else (N,) str."""
    if all(_is_int(v) for v in values):
        return np.array([int(v) for v in values], dtype=np.int64)
    return np.array(list(values), dtype=str)


def encode_labels(
    raw: object, n: int, names: Sequence[str] | None, where: str, names_source: str = "class names"
) -> tuple[np.ndarray, list[str]]:
    """Map labels to codes 0..C-1 (sorted label order) and name each class.

    Args:
        raw: (N,) ints, integer-valued floats or strings (numpy, torch or a list).
        n: number of embeddings the labels must match.
        names: C names in the order of the sorted distinct labels, or None to use the label values.
        where, names_source: what to name in error messages.

    Returns:
        codes: (N,) int64; names: C strings.
    """
    if hasattr(raw, "detach"):
        raw = raw.detach().cpu().numpy()
    raw = np.asarray(raw)
    if raw.ndim != 1:
        raise DataError(f"{where}: labels have shape {raw.shape}; give a 1-D sequence of N labels")
    if len(raw) != n:
        raise DataError(f"{where}: {len(raw)} labels for {n} embeddings; give exactly one label per embedding")
    if raw.dtype.kind == "f":
        if not np.isfinite(raw).all() or (raw != np.round(raw)).any():
            raise DataError(f"{where}: labels are non-integer floats; give integer or string class labels")
        raw = raw.astype(np.int64)
    elif raw.dtype.kind in "iub":
        raw = raw.astype(np.int64)
    else:
        raw = raw.astype(str)
    uniq, codes = np.unique(raw, return_inverse=True)
    if len(uniq) < 2:
        raise DataError(f"{where}: every label is {uniq[0]!s}, a single class; the analysis needs >= 2 classes")
    if names is None:
        names = [str(u) for u in uniq]
    elif len(names) != len(uniq):
        raise DataError(
            f"{names_source}: {len(names)} class names for {len(uniq)} classes; give one name per class, "
            "in the order of the sorted labels"
        )
    return codes.reshape(-1).astype(np.int64), [str(s) for s in names]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_int(text: str) -> bool:
    return re.fullmatch(r"[+-]?\d+", text.strip()) is not None
