"""JSON files: plain JSON-safe values, atomic writes, and JSON-lines logs (e.g. a run's metrics.jsonl).

Writes are durable before they count: a file is written to a temporary sibling, flushed to disk (fsync) and then
renamed over the old one; an appended line goes out in one write and is flushed, and a failed append (disk full)
is cut back off, so an earlier line is never damaged by a later one.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from latentatlas.errors import DataError
from latentatlas.textio import read_text

__all__ = [
    "append_jsonl",
    "fsync_dir",
    "read_jsonl",
    "read_jsonl_tolerant",
    "to_jsonable",
    "write_json",
    "write_text_atomic",
]


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


def fsync_dir(path: str | Path) -> None:
    """Flush a folder's entries (a rename into it) to disk; a no-op where folders cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write `text` to a temporary sibling, flush it, then rename it over `path`: readers never see half a file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def write_json(path: str | Path, data: Any) -> Path:
    """Write `data` as indented JSON atomically; non-finite floats become null."""
    return write_text_atomic(path, json.dumps(to_jsonable(data), indent=2, allow_nan=False) + "\n")


def append_jsonl(path: str | Path, row: dict[str, Any]) -> None:
    """Append one JSON line (non-finite floats become null) in one write, flushed to disk.

    When the write fails (disk full...), the file is cut back to its old length before the error propagates.
    """
    data = (json.dumps(to_jsonable(row), allow_nan=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        try:
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(28, "No space left on device (short write)", str(path))
            os.fsync(fd)
        except OSError:
            try:
                os.ftruncate(fd, size)
            except OSError:
                pass
            raise
    finally:
        os.close(fd)


def _parse_lines(path: Path, lines: list[str]) -> list[dict[str, Any]]:
    rows = []
    for number, line in lines:
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise DataError(f"{path}: line {number} is not JSON; fix or delete that line") from None
        if not isinstance(row, dict):
            raise DataError(f"{path}: line {number} is not a JSON object; fix or delete that line")
        rows.append(row)
    return rows


def _numbered(path: Path) -> list[tuple[int, str]]:
    return [(i + 1, line) for i, line in enumerate(read_text(path, "JSON-lines file").splitlines()) if line.strip()]


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a JSON-lines file ([] when it does not exist); DataError naming the first bad line."""
    path = Path(path)
    if not path.exists():
        return []
    return _parse_lines(path, _numbered(path))


def read_jsonl_tolerant(path: str | Path) -> tuple[list[dict[str, Any]], int | None]:
    """Like `read_jsonl`, but a torn LAST line (a write cut short by a kill) is dropped instead of refused.

    Returns:
        (rows, number of the dropped line or None). A bad line before the last one is still a DataError.
    """
    path = Path(path)
    if not path.exists():
        return [], None
    lines = _numbered(path)
    try:
        return _parse_lines(path, lines), None
    except DataError:
        if not lines:
            raise
        rows = _parse_lines(path, lines[:-1])
        return rows, lines[-1][0]
