"""Download a file with a progress bar, verify its checksum, and move it into place atomically.

Known sources are listed in `SOURCES` with the checksum their publisher gives: CIFAR-10's page publishes an
MD5 only, so a source may carry an MD5 or a SHA-256 (SHA-256 is preferred when known; MD5 still catches
truncated or corrupted downloads, which is what the check is for here).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from latentatlas.errors import DataError

__all__ = ["SOURCES", "Source", "download", "fetch", "file_digest", "verify"]

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Source:
    """A downloadable file and the checksum its publisher gives (`md5` or `sha256`, hex)."""

    url: str
    filename: str
    md5: str | None = None
    sha256: str | None = None


SOURCES: dict[str, Source] = {
    # https://www.cs.toronto.edu/~kriz/cifar.html publishes this MD5 (no SHA-256).
    "cifar10": Source(
        url="https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
        filename="cifar-10-binary.tar.gz",
        md5="c32a1d4ab5d03f1284b67883e8d87530",
    ),
}


def _algorithm(sha256: str | None, md5: str | None) -> tuple[str, str]:
    if sha256:
        return "sha256", sha256.lower()
    if md5:
        return "md5", md5.lower()
    raise DataError("no checksum given; pass sha256=... (or md5=...) so the download can be verified")


def file_digest(path: str | Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def verify(path: str | Path, sha256: str | None = None, md5: str | None = None) -> None:
    """Raise DataError unless the file at `path` has the given SHA-256 (or MD5)."""
    algorithm, expected = _algorithm(sha256, md5)
    actual = file_digest(path, algorithm)
    if actual != expected:
        raise DataError(
            f"{path}: {algorithm} mismatch, expected {expected}, got {actual}; the file is corrupt or not "
            "the expected one: delete it and download it again"
        )


def download(
    url: str,
    dest: str | Path,
    sha256: str | None = None,
    *,
    md5: str | None = None,
    progress: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Stream `url` into `dest`, verifying its checksum; `dest` appears only once it is complete and correct.

    Args:
        url: any URL urllib opens (https://, http://, file://).
        dest: final file path; its folder is created if needed.
        sha256: expected SHA-256 (hex). Either this or `md5` is required.
        md5: expected MD5 (hex), for sources that publish no SHA-256.
        progress: show a tqdm progress bar (only on a terminal).
        timeout: seconds to wait for the server.

    Returns:
        `dest` as a Path.
    """
    algorithm, expected = _algorithm(sha256, md5)
    dest = Path(dest).expanduser()
    dest.parent.mkdir(parents=True, exist_ok=True)
    # The temp file lives next to dest so the final os.replace is an atomic rename on one filesystem.
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        h = hashlib.new(algorithm)
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    total = response.headers.get("Content-Length")
                    with tqdm(
                        total=int(total) if total else None,
                        unit="B",
                        unit_scale=True,
                        desc=dest.name,
                        disable=None if progress else True,
                    ) as bar:
                        while chunk := response.read(_CHUNK):
                            out.write(chunk)
                            h.update(chunk)
                            bar.update(len(chunk))
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = getattr(exc, "reason", exc)
                raise DataError(
                    f"could not download {url} ({reason}); download it by hand and put it at {dest}"
                ) from exc
        actual = h.hexdigest()
        if actual != expected:
            raise DataError(
                f"{url}: {algorithm} mismatch, expected {expected}, got {actual}; the download was removed, "
                f"retry or download it by hand and put it at {dest}"
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def fetch(name: str, dest_dir: str | Path, progress: bool = True) -> Path:
    """Make sure the known source `name` (a key of SOURCES) is in `dest_dir`, downloading it if absent.

    A file already there is verified, not trusted.

    Returns:
        Path of the verified file.
    """
    if name not in SOURCES:
        raise DataError(f"unknown source {name!r}; choose one of {', '.join(sorted(SOURCES))}")
    src = SOURCES[name]
    dest = Path(dest_dir).expanduser() / src.filename
    if dest.exists():
        verify(dest, sha256=src.sha256, md5=src.md5)
        return dest
    return download(src.url, dest, sha256=src.sha256, md5=src.md5, progress=progress)
