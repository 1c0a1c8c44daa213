"""Labels and class names: read them from files and encode them as class codes 0..C-1 with a name each.

String labels are sorted, integer labels keep their order and their values become the names unless a class-name
file is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from latentatlas.analysis.readers import is_int, parse_label_strings, read_npy
from latentatlas.errors import DataError
from latentatlas.textio import read_text

__all__ = ["encode_labels", "load_class_names", "load_labels"]


def load_labels(path: str | Path) -> np.ndarray:
    """Read labels: `.npy` (1-D), or `.txt`/`.csv` with one label per line (ints or strings).

    In a `.csv`, a text first line followed by integer lines is a header and is skipped.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such labels file; check the --labels path")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        labels = read_npy(path)
        if labels.ndim != 1:
            raise DataError(f"{path}: labels have shape {labels.shape}; save a 1-D array of N labels")
        return labels
    if suffix not in (".txt", ".csv"):
        raise DataError(f"{path}: unknown labels extension {suffix!r}; use .npy, .txt or .csv (one per line)")
    lines = [s.strip() for s in read_text(path, "labels file").splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if suffix == ".csv" and len(lines) > 1 and not is_int(lines[0]) and all(is_int(s) for s in lines[1:]):
        lines = lines[1:]
    if not lines:
        raise DataError(f"{path}: labels file is empty; write one label per line")
    return parse_label_strings(lines)


def load_class_names(path: str | Path) -> list[str]:
    """Read one class name per line (trailing blank lines ignored)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such class-names file; check the --class-names path")
    names = [s.strip() for s in read_text(path, "class-names file").splitlines()]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise DataError(f"{path}: class-names file is empty; write one class name per line")
    return names


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
