"""The C heap (glibc; a no-op elsewhere): giving its free memory back between blocks of work, keeping it in training.

Scoring N queries block by block allocates and frees the same (block, N) tables thousands of times, from torch and
from NumPy's worker threads (`rank_keys`). glibc serves such sizes from per-thread heaps (its "dynamic mmap
threshold" moves them off `mmap` after the first free) and does not return a heap's free middle to the system by
itself, so the resident memory of a long exact run grew block after block: 4.0 GB extra at N = 200,000 for
tables of about 0.3 GB (BENCHMARKS.md). `malloc_trim(0)` releases every arena's free pages.

Training has the opposite problem. glibc serves every chunk above 32 MiB (the cap of its dynamic threshold) with a
fresh `mmap` and unmaps it when freed, so each step's large activations and gradients (59 MiB for the first stage
of cifar10-embed's network at batch 320) are new pages that the kernel must fault in and zero again, step after
step: under torch's profiler, zero-filling one such gradient took 16% of a training step. `heap_kept()` serves
them from the heap and keeps its freed pages, so the next step reuses them (BENCHMARKS.md, bench_models: the
training step with and without it).
"""

from __future__ import annotations

import ctypes
import math
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache

__all__ = ["heap_kept", "release_free_memory"]

_LAST = [-math.inf]  # when the last trim ended (time.monotonic)


# glibc's mallopt parameters (malloc.h) and their defaults
M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
DEFAULT_TRIM_THRESHOLD, DEFAULT_MMAP_MAX = 128 * 1024, 65536
KEPT_TRIM_THRESHOLD = 2**31 - 1  # give the top of the heap back only beyond 2 GiB free


def _glibc(name: str, argtypes: list[type]) -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = getattr(ctypes.CDLL(None), name, None)
    except OSError:
        return None
    if fn is not None:
        fn.argtypes, fn.restype = argtypes, ctypes.c_int
    return fn


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`, or None (other C libraries, other systems)."""
    return _glibc("malloc_trim", [ctypes.c_size_t])


@cache
def _mallopt() -> Callable[[int, int], int] | None:
    """glibc's `mallopt`, or None."""
    return _glibc("mallopt", [ctypes.c_int, ctypes.c_int])


@contextmanager
def heap_kept() -> Iterator[bool]:
    """While the block runs, serve every allocation from the heap and keep freed pages for reuse (glibc).

    Yields True where it applies (glibc), else False (a no-op). On exit the defaults come back (a fresh `mmap` per
    chunk above the threshold, the top of the heap returned beyond 128 KiB free) and the free pages are released.
    glibc's threshold stops adapting once `mallopt` was called: it stays where it had moved to (at most 32 MiB).
    """
    mallopt = _mallopt()
    if mallopt is None:
        yield False
        return
    ok = mallopt(M_MMAP_MAX, 0) == 1 and mallopt(M_TRIM_THRESHOLD, KEPT_TRIM_THRESHOLD) == 1
    try:
        yield ok
    finally:
        mallopt(M_MMAP_MAX, DEFAULT_MMAP_MAX)
        mallopt(M_TRIM_THRESHOLD, DEFAULT_TRIM_THRESHOLD)
        release_free_memory()


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
