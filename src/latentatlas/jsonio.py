"""JSON files: plain JSON-safe values, atomic writes, and JSON-lines logs (e.g. a run's metrics.jsonl)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

__all__ = ["append_jsonl", "read_jsonl", "to_jsonable", "write_json", "write_text_atomic"]


def to_jsonable(value: Any) -> Any:
    """Tensors, arrays, NumPy scalars, tuples and objects with `to_dict()` -> JSON types; NaN and inf -> None."""
    if hasattr(value, "to_dict") and not isinstance(value, dict):
        return to_jsonable(value.to_dict())
    if hasattr(value, "tolist") and not isinstance(value, str | bytes):  # torch tensors, NumPy arrays and scalars
        value = value.tolist()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write `text` to a temporary sibling, then rename it over `path`: readers never see half a file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_json(path: str | Path, data: Any) -> Path:
    """Write `data` as indented JSON atomically; non-finite floats become null."""
    return write_text_atomic(path, json.dumps(to_jsonable(data), indent=2, allow_nan=False) + "\n")


def append_jsonl(path: str | Path, row: dict[str, Any]) -> None:
    """Append one JSON line (non-finite floats become null)."""
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(to_jsonable(row), allow_nan=False) + "\n")


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a JSON-lines file ([] when it does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
