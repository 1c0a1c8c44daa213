"""Read embeddings (and their labels) from files: one `load_embeddings` for every supported format.

Formats: `.npy` (a 2-D array), `.npz` (`embeddings`, optional `labels`, `class_names`), `.safetensors`
(`embeddings`, optional `labels`; class names as JSON in the header metadata key `class_names`), `.csv`/`.tsv`
(numeric columns, one of which may be the label column), and a TensorBoard projector folder (`tensors.tsv` +
`metadata.tsv`). Every problem raises a one-line `DataError` naming the file and the fix.

Labels always come out as codes 0..C-1 with `class_names[code]` naming each class (see `analysis.labels`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from latentatlas.analysis.inputs import validate_embeddings
from latentatlas.analysis.labels import encode_labels, load_class_names, load_labels
from latentatlas.analysis.projector import read_projector
from latentatlas.analysis.readers import Arrays, read_npy, read_npz, read_safetensors, read_table
from latentatlas.errors import DataError

__all__ = ["EmbeddingSet", "load_embeddings"]


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
    exclude_columns: Sequence[str] = (),
) -> EmbeddingSet:
    """Read embeddings and labels from `path`, plus optional label and class-name files.

    Args:
        path: `.npy`, `.npz`, `.safetensors`, `.csv`, `.tsv` file, or a TensorBoard projector folder.
        labels_path: `.npy`, `.txt` or `.csv` file with one label per line (ints or strings); overrides labels
            stored in `path`.
        label_column: CSV/TSV/projector-metadata column holding the labels (header name or 0-based index).
        class_names_path: text file with one class name per line, in the order of the sorted labels.
        exclude_columns: CSV/TSV header columns that are not embedding dimensions (e.g. known factors).
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder; check the path")
    if path.is_dir():
        x, raw, names = read_projector(path, label_column)
    else:
        if label_column is not None and path.suffix.lower() not in (".csv", ".tsv"):
            raise DataError(f"{path}: --label-column only applies to .csv/.tsv files and projector folders")
        x, raw, names = _read_file(path, label_column, tuple(exclude_columns))
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


def _read_file(path: Path, label_column: str | None, exclude: tuple[str, ...] = ()) -> Arrays:
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise DataError(f"{path}: file is empty; write the embeddings into it first")
    if suffix == ".npy":
        return read_npy(path), None, None
    if suffix == ".npz":
        return read_npz(path)
    if suffix == ".safetensors":
        return read_safetensors(path)
    if suffix in (".csv", ".tsv"):
        return read_table(path, "\t" if suffix == ".tsv" else ",", label_column, exclude)
    raise DataError(
        f"{path}: unknown extension {suffix or '(none)'!r}; use .npy, .npz, .safetensors, .csv, .tsv "
        "or a TensorBoard projector folder"
    )
