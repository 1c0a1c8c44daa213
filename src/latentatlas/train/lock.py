"""One process per run folder: a lock file (`RUN/.lock`) that a second trainer is refused by.

The lock is an advisory `flock` on the file, which the operating system releases when its process ends however it
ends: a lock file left by a killed process (its pid dead) never blocks anyone. The file holds the owner's pid and
host for the message a refused process prints. Locks are re-entrant within a process (a sweep worker claims a run
folder, then trains it), and released when the outermost holder is done.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from latentatlas.errors import LatentAtlasError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, every claim succeeds
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_NAME", "RunBusy", "claim", "holder", "release", "run_lock", "waiting_lock"]

LOCK_NAME = ".lock"
_HELD: dict[str, list[int]] = {}  # resolved folder -> [fd, depth]


class RunBusy(LatentAtlasError):
    """Another live process holds the run folder's lock."""


def holder(folder: str | Path) -> str:
    """Who holds (or last held) the lock of `folder`: `process 1234 on host`, or `another process`."""
    try:
        text = (Path(folder) / LOCK_NAME).read_text(encoding="utf-8").split()
    except (OSError, UnicodeDecodeError):
        text = []
    return f"process {text[0]} on {text[1]}" if len(text) >= 2 else "another process"


def _try_flock(fd: int) -> bool:
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def claim(folder: str | Path) -> bool:
    """Take the lock of `folder` (which must exist) without waiting; False when another process holds it."""
    key = str(Path(folder).resolve())
    if key in _HELD:
        _HELD[key][1] += 1
        return True
    path = Path(key) / LOCK_NAME
    for _ in range(10):  # the file may be removed by its releasing owner between open and flock: retry
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_flock(fd):
            os.close(fd)
            return False
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()} {socket.gethostname()}\n".encode())
            _HELD[key] = [fd, 1]
            return True
        os.close(fd)
    return False


def release(folder: str | Path) -> None:
    """Give back one claim of `folder`; the last one removes the lock file and unlocks it."""
    key = str(Path(folder).resolve())
    entry = _HELD.get(key)
    if entry is None:
        return
    entry[1] -= 1
    if entry[1] > 0:
        return
    del _HELD[key]
    with contextlib.suppress(OSError):
        os.unlink(Path(key) / LOCK_NAME)  # while still locked: nobody can take the old file in between
    os.close(entry[0])


@contextlib.contextmanager
def run_lock(folder: str | Path) -> Iterator[Path]:
    """Hold the lock of run folder `folder` for the block.

    Raises:
        RunBusy: another live process trains or resumes this folder.
    """
    folder = Path(folder)
    if not claim(folder):
        raise RunBusy(
            f"run folder {str(folder)!r} is in use by {holder(folder)}; wait until it ends or stop it, "
            "then resume it with --resume"
        )
    try:
        yield folder
    finally:
        release(folder)


@contextlib.contextmanager
def waiting_lock(path: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on file `path` (created if needed, never removed) for a short block, waiting for it.

    For read-modify-write of a file several processes share (a sweep's sweep.json).
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
