"""Output folders written all at once: a temporary sibling folder renamed into place, never half-written."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from latentatlas.errors import LatentAtlasError, os_error_message

__all__ = ["check_out_dir", "check_writable", "output_dir"]


def check_writable(path: str | Path) -> None:
    """Raise a one-line LatentAtlasError unless a file can be created next to `path` (in its nearest existing
    parent folder), so that a command refuses an unwritable output before its slow work, not after.

    Probes with a temporary file that is removed at once; nothing that existed is touched.
    """
    parent = Path(path).absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise LatentAtlasError(f"{parent}: is a file, not a folder; choose another output path")
    try:
        fd, probe = tempfile.mkstemp(prefix=".latentatlas-probe-", dir=parent)
    except OSError as exc:
        where = OSError(exc.errno, exc.strerror, str(parent))  # the folder, not the probe's random name
        raise LatentAtlasError(f"cannot write the output {path}: {os_error_message(where)}") from None
    os.close(fd)
    os.unlink(probe)


def check_out_dir(path: str | Path, force: bool) -> Path:
    """Raise unless `path` is absent, an empty folder, or `force` is set, and its location is writable."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise LatentAtlasError(f"{path}: exists and is not a folder; choose another --out")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise LatentAtlasError(f"{path}: folder exists and is not empty; choose another --out or pass --force")
    check_writable(path)
    return path


@contextlib.contextmanager
def output_dir(path: str | Path, force: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling folder to write into; on success it replaces `path` in one rename.

    On error the temporary folder is removed and `path` is left as it was, so no half-written result exists.
    """
    path = check_out_dir(path, force)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        yield tmp
        old = None
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
            path.replace(old / "x")
        tmp.replace(path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
