"""Download pretrained weights into a local cache, verified by SHA-256, written atomically.

Follows torchvision's convention: the file name of an official checkpoint carries the first hex digits
of its SHA-256 (`vgg11-8a719358.pth` -> the hash starts with `8a719358`), so a download can be checked
without a separate checksum file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tqdm import tqdm

from latentatlas.errors import DataError

logger = logging.getLogger("latentatlas")

VGG11_IMAGENET_URL = "https://download.pytorch.org/models/vgg11-8a719358.pth"
# `name-<hex>.ext`: at least 8 hex digits, so ordinary names such as `model-dead.pth` are not mistaken for one.
_HASH_IN_NAME = re.compile(r"-([a-f0-9]{8,64})\.")
_CHUNK = 1 << 20


def default_cache_dir() -> Path:
    """`$LATENTATLAS_CACHE/weights` if set, else `~/.cache/latentatlas/weights`."""
    root = os.environ.get("LATENTATLAS_CACHE")
    return Path(root) / "weights" if root else Path.home() / ".cache" / "latentatlas" / "weights"


def hash_prefix_from_name(name: str) -> str | None:
    """The SHA-256 prefix in a torchvision-style file name, or None (`vgg11-8a719358.pth` -> `8a719358`)."""
    match = _HASH_IN_NAME.search(Path(name).name)
    return match.group(1) if match else None


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_url(source: str) -> bool:
    """True for `http://`, `https://` and `file://` sources."""
    return urllib.parse.urlparse(str(source)).scheme in ("http", "https", "file")


def download_weights(
    url: str,
    cache_dir: str | Path | None = None,
    sha256_prefix: str | None = None,
    progress: bool | None = None,
) -> Path:
    """Download `url` into `cache_dir` (once) and return the local path.

    The expected hash is `sha256_prefix` if given, else the prefix in the file name; a download that
    cannot be verified is refused. A cached file is re-hashed and replaced if it does not match.

    Args:
        url: `https://...` or `file://...` address; its last path component names the cached file.
        cache_dir: where to keep the file; default `default_cache_dir()`.
        sha256_prefix: expected leading hex digits of the SHA-256 (any length up to 64).
        progress: show a tqdm bar; default: only when stderr is a terminal.

    Raises:
        DataError: no checksum available, the download fails, or the hash does not match.
    """
    name = Path(urllib.parse.urlparse(url).path).name
    if not name:
        raise DataError(f"weights URL {url!r} has no file name; give the address of the weights file itself")
    expected = (sha256_prefix or hash_prefix_from_name(name) or "").lower()
    if not expected:
        raise DataError(
            f"cannot verify {name!r}: no SHA-256 prefix in its name (`name-<hash>.pth`); pass sha256_prefix=..."
        )
    target = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    path = target / name
    if path.exists():
        if sha256_file(path).startswith(expected):
            return path
        logger.warning("cached %s does not match its checksum; downloading it again", path)
    _fetch_verified(url, path, expected, sys.stderr.isatty() if progress is None else progress)
    return path


def _fetch_verified(url: str, path: Path, expected: str, progress: bool) -> None:
    """Stream `url` into a temp file next to `path`, hashing as it goes; rename only if the hash matches."""
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                response = urllib.request.urlopen(url, timeout=60)  # noqa: S310 - URL given by the user
            except (urllib.error.URLError, OSError, ValueError) as exc:
                raise DataError(f"cannot download {url}: {exc}; check the address or pass a local file") from exc
            with response:
                total = int(response.headers.get("Content-Length") or 0) or None
                with tqdm(total=total, unit="B", unit_scale=True, desc=path.name, disable=not progress) as bar:
                    for chunk in iter(lambda: response.read(_CHUNK), b""):
                        out.write(chunk)
                        digest.update(chunk)
                        bar.update(len(chunk))
        actual = digest.hexdigest()
        if not actual.startswith(expected):
            raise DataError(
                f"checksum mismatch for {url}: sha256 {actual[:16]}... does not start with {expected}; "
                "the file is corrupt or not the expected one - download it again or check the URL"
            )
        os.replace(tmp_name, path)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
