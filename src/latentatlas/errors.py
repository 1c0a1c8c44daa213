"""User-facing errors: the CLI prints them as one line and exits with code 2."""

from __future__ import annotations

import errno

__all__ = ["ConfigError", "DataError", "LatentAtlasError", "os_error_message"]


class LatentAtlasError(Exception):
    """A problem with the user's input (file, config, arguments), not a bug.

    The message names the problem and how to fix it, in one line.
    """


class ConfigError(LatentAtlasError):
    """A config key is unknown or its value is not allowed."""


class DataError(LatentAtlasError):
    """An input file or dataset cannot be used as given."""


_FIXES = {
    errno.EACCES: "check its permissions or choose another location",
    errno.EPERM: "check its permissions or choose another location",
    errno.EROFS: "that file system is read-only; choose another location",
    errno.ENOSPC: "the disk is full; free some space or choose another location",
    errno.EDQUOT: "the disk quota is used up; free some space or choose another location",
    errno.EISDIR: "it is a folder; give a file name",
    errno.ENOTDIR: "a part of the path is a file, not a folder; choose another path",
    errno.ENAMETOOLONG: "the name is too long; choose a shorter path",
    errno.ENOENT: "check the path",
    errno.EEXIST: "it already exists; choose another path",
}


def os_error_message(exc: OSError) -> str:
    """One line for a failed file operation: the path, what the system said, and what to do about it.

    `PermissionError(13, "Permission denied", "/data/out")` -> `/data/out: Permission denied; check its
    permissions or choose another location`.
    """
    path = exc.filename if exc.filename is not None else exc.filename2
    reason = exc.strerror or str(exc) or type(exc).__name__
    fix = _FIXES.get(exc.errno, "check the path, the disk and the permissions")
    if isinstance(exc, ConnectionError | TimeoutError) or type(exc).__module__ == "socket":
        fix = "check the network connection and try again"
    where = f"{path}: " if path is not None else ""
    return " ".join(f"{where}{reason}; {fix}".split())
