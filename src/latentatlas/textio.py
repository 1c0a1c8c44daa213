"""Text files read as UTF-8, with one clear line naming the file when they are binary or in another encoding."""

from __future__ import annotations

from pathlib import Path

from latentatlas.errors import DataError

__all__ = ["read_text"]


def read_text(path: str | Path, what: str = "text file") -> str:
    """The contents of a UTF-8 text file (a leading byte-order mark is dropped).

    Args:
        path: the file.
        what: what the caller reads (`labels file`, `CSV`...), for the message.

    Raises:
        DataError: the file holds NUL bytes (binary, or UTF-16) or bytes that are not UTF-8 (e.g. Latin-1),
            naming the file, the line and the byte.
    """
    path = Path(path)
    data = path.read_bytes()
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise DataError(
            f"{path}: {what} holds NUL bytes (line {line}), so it is binary or UTF-16, not UTF-8 text; "
            "save it as UTF-8 text"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{path}: {what} is not UTF-8 (byte 0x{data[exc.start]:02x} on line {line}); save it as UTF-8, "
            f"e.g. iconv -f latin1 -t utf-8 {path.name} > fixed{path.suffix}"
        ) from None
