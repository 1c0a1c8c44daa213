"""Output folders written all at once: a temporary sibling folder renamed into place, never half-written."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from latentatlas.errors import LatentAtlasError


def check_out_dir(path: str | Path, force: bool) -> Path:
    """Raise unless `path` is absent, an empty folder, or `force` is set."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise LatentAtlasError(f"{path}: exists and is not a folder; choose another --out")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise LatentAtlasError(f"{path}: folder exists and is not empty; choose another --out or pass --force")
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
