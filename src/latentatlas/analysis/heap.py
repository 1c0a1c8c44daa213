"""Giving the C heap's free memory back to the system between blocks of work (glibc; a no-op elsewhere).

Scoring N queries block by block allocates and frees the same (block, N) tables thousands of times, from torch and
from NumPy's worker threads (`rank_keys`). glibc serves such sizes from per-thread heaps (its "dynamic mmap
threshold" moves them off `mmap` after the first free) and does not return a heap's free middle to the system by
itself, so the resident memory of a long exact run grew block after block: 4.0 GB extra at N = 200,000 for
tables of about 0.3 GB (BENCHMARKS.md). `malloc_trim(0)` releases every arena's free pages.
"""

from __future__ import annotations

import ctypes
import math
import sys
import time
from collections.abc import Callable
from functools import cache

_LAST = [-math.inf]  # when the last trim ended (time.monotonic)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`, or None (other C libraries, other systems)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)
    if trim is not None:
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_free_memory(min_interval: float = 0.0) -> bool:
    """Return the C heap's free pages to the system; True if this C library can (glibc), else False (no-op).

    Args:
        min_interval: seconds; skip the call (and return True) if the last one was more recent. A trim walks the
            heaps (about 10 ms after a block of N = 50,000); once a second keeps that under 1% of a long run.
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    now = time.monotonic()
    if now - _LAST[0] >= min_interval:
        trim(0)
        _LAST[0] = time.monotonic()
    return True
