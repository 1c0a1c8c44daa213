"""Known factors of N embeddings read from a file (`latentatlas analyze EMB --factors FILE`), checked up front.

Where they come from:
- `.npy`: an (N, K) or (N,) array of numbers; the factors are named `factor_0`, `factor_1`, ...;
- `.npz`: an array `factors` (N, K) or (N,), optional `factor_names` (K strings), so the embeddings file itself
  can carry them beside `embeddings` and `labels`;
- `.csv` / `.tsv`: a header row naming the factors, then one row per embedding; a text column (e.g. a family
  name) becomes a discrete factor (its distinct values in sorted order);
- column names `a,b,c` (not a file): columns stored in the embeddings file (header columns of a `.csv` / `.tsv`,
  which are then not embedding dimensions; 1-D `.npz` arrays, `.safetensors` tensors, a projector folder's
  `metadata.tsv`: see `analysis.metadata.source_metadata`).

Every problem is one `DataError` line naming the file: rows other than N, a constant factor, NaN, no header.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from latentatlas.analysis.metadata import source_metadata, text_columns
from latentatlas.analysis.readers import is_number, read_npy
from latentatlas.errors import DataError
from latentatlas.latentmaps.disentanglement.factors import as_factor_table
from latentatlas.textio import read_text

__all__ = ["column_names", "load_factors"]

SUFFIXES = (".npy", ".npz", ".csv", ".tsv")


def _matrix_columns(arr: np.ndarray, names: list[str] | None, where: str) -> dict[str, np.ndarray]:
    arr = arr[:, None] if arr.ndim == 1 else arr
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise DataError(f"{where}: factors have shape {arr.shape}; give an (N, K) array, one row per embedding")
    if arr.dtype.kind not in "biuf":
        raise DataError(f"{where}: factors are of type {arr.dtype}; give numbers (class codes or values)")
    names = names or [f"factor_{k}" for k in range(arr.shape[1])]
    if len(names) != arr.shape[1]:
        raise DataError(f"{where}: {len(names)} factor_names for {arr.shape[1]} factor columns; give one per column")
    return {str(n): arr[:, k] for k, n in enumerate(names)}


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npz archive ({exc}); save it with numpy.savez") from None
    if "factors" not in arrays:
        raise DataError(f"{path}: no array named 'factors' (found {sorted(arrays)}); use savez(factors=..., "
                        "factor_names=...) or pass the factor column names")  # fmt: skip
    names = arrays.get("factor_names")
    return _matrix_columns(arrays["factors"], None if names is None else [str(n) for n in names], str(path))


def _read_table(path: Path) -> dict[str, np.ndarray]:
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    rows = [ln.rstrip("\r\n").split(sep) for ln in read_text(path, "factors file").splitlines() if ln.strip()]
    if not rows:
        raise DataError(f"{path}: factors file is empty; write a header naming the factors, then one row each")
    header = [h.strip() for h in rows[0]]
    if all(is_number(h) for h in header):
        raise DataError(f"{path}: the first row {sep.join(header)!r} is not a header; add a row naming the factors")
    body = rows[1:]
    if any(len(r) != len(header) for r in body):
        line = next(i for i, r in enumerate(body) if len(r) != len(header)) + 2
        raise DataError(f"{path}: line {line} has another number of columns than the header; fix the row")
    columns = text_columns(header, body, str(path))
    # A text column (a family name...) is a discrete factor: its distinct values, sorted, become 0 .. C-1.
    return {k: v if v.dtype.kind == "f" else np.unique(v, return_inverse=True)[1].ravel() for k, v in columns.items()}


def column_names(spec: str | Path) -> list[str]:
    """The factor columns `--factors` names (`shape,size`), or [] when it names a file (or a missing one)."""
    path = Path(spec)
    if path.is_file() or path.is_dir() or path.suffix.lower() in SUFFIXES:
        return []
    return [s.strip() for s in str(spec).split(",") if s.strip()]


def _named_columns(spec: str, embeddings_path: Path | None, n: int) -> dict[str, np.ndarray]:
    names = column_names(spec)
    if embeddings_path is None or not names:
        raise DataError(f"{spec}: no such factors file; pass a .npy, .npz, .csv or .tsv file of factors")
    if embeddings_path.suffix.lower() in (".csv", ".tsv") and embeddings_path.is_file():
        columns = _read_table(embeddings_path)  # the embeddings' own table (its factor columns were set aside)
    else:
        columns = source_metadata(embeddings_path, n)
    missing = [c for c in names if c not in columns]
    if missing:
        found = ", ".join(columns) or "none"
        raise DataError(f"{spec}: no such factors file, and {embeddings_path} has no column {missing[0]!r} "
                        f"(its columns: {found}); pass a factors file or one of those columns")  # fmt: skip
    return {c: columns[c] if columns[c].dtype.kind == "f" else np.unique(columns[c], return_inverse=True)[1].ravel()
            for c in names}  # fmt: skip


def load_factors(source: str | Path, n: int, embeddings_path: str | Path | None = None) -> dict[str, np.ndarray]:
    """The factors of N embeddings as `{name: (N,) values}`, validated as the scores will use them.

    Args:
        source: a factors file (see the module docstring) or comma-separated column names of the embeddings file.
        n: the number of embeddings (rows the factors must have).
        embeddings_path: the embeddings file or projector folder, where named columns are looked up.
    """
    path = Path(source)
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix not in SUFFIXES:
            raise DataError(f"{path}: unknown factors extension {suffix or '(none)'!r}; use .npy, .npz, .csv or .tsv")
        if suffix == ".npy":
            columns = _matrix_columns(read_npy(path), None, str(path))
        else:
            columns = _read_npz(path) if suffix == ".npz" else _read_table(path)
    elif path.suffix.lower() in SUFFIXES or path.is_dir():
        raise DataError(f"{path}: no such factors file; check the --factors path")
    else:
        columns = _named_columns(str(source), None if embeddings_path is None else Path(embeddings_path), n)
    rows = len(next(iter(columns.values())))
    if rows != n:
        raise DataError(f"{source}: {rows} rows of factors for {n} embeddings; give one row of factors per embedding")
    try:
        as_factor_table(columns)  # constant factors, NaN, wrong types: refused before any slow work
    except DataError as exc:
        raise DataError(f"{source}: {exc}") from None
    return columns
