"""release_free_memory: freed heap pages held between live allocations go back to the system (glibc)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

# In a fresh interpreter: pytest's own allocations change where glibc serves a chunk (heap or mmap).
SCENARIO = textwrap.dedent(
    """
    import ctypes, importlib.util, os, sys

    # heap.py alone (stdlib only): importing the package would load torch, whose allocations change the heap
    spec = importlib.util.spec_from_file_location("heap", sys.argv[1])
    heap = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(heap)

    def resident():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    size, count = 96 * 1024, 1500  # below glibc's default mmap threshold: served from the heap
    big, pins = [], []
    for _ in range(count):  # each large chunk followed by a small live one: freeing the large leaves holes
        p = libc.malloc(size)
        ctypes.memset(p, 1, size)
        big.append(p)
        pins.append(libc.malloc(64))
    start = resident()
    for p in big:
        libc.free(p)
    freed = resident()
    ok = heap.release_free_memory()
    print(size * count, start - freed, freed - resident(), ok)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc heap behaviour")
def test_freed_holes_are_returned() -> None:
    import latentatlas.heap as heap

    # Heap, not mmap, for chunks under 4 MiB: where glibc's dynamic threshold puts them after the first frees of
    # a long run (what made the resident memory grow), fixed here so that the test does not depend on history.
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(4 << 20)}
    out = subprocess.run(
        [sys.executable, "-c", SCENARIO, heap.__file__], capture_output=True, text=True, check=True, env=env
    )
    total, by_free, by_trim, ok = out.stdout.split()
    if ok != "True":
        pytest.skip("not glibc")
    # free() alone keeps most of the holes resident; the trim gives most of them back.
    assert int(by_free) < 0.5 * int(total)
    assert int(by_trim) > 0.5 * int(total)


def test_no_op_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    import latentatlas.heap as heap

    heap._malloc_trim.cache_clear()
    monkeypatch.setattr(heap.sys, "platform", "darwin")
    try:
        assert heap.release_free_memory() is False
    finally:
        heap._malloc_trim.cache_clear()


# A chunk above glibc's largest mmap threshold (32 MiB): without heap_kept every malloc is a fresh mmap whose pages
# fault in when written; with it the freed chunk stays in the heap and the next one reuses its pages.
KEPT = textwrap.dedent(
    """
    import ctypes, importlib.util, resource, sys

    spec = importlib.util.spec_from_file_location("heap", sys.argv[1])
    heap = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(heap)
    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    size = 64 << 20

    def faults():  # page faults of one malloc, write, free of `size` bytes after a first one; was it mmapped
        p = libc.malloc(size)
        ctypes.memset(p, 1, size)
        libc.free(p)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        p = libc.malloc(size)
        ctypes.memset(p, 1, size)
        mmapped = ctypes.c_size_t.from_address(p - ctypes.sizeof(ctypes.c_size_t)).value & 2  # IS_MMAPPED
        libc.free(p)
        return f"{resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before},{bool(mmapped)}"

    outside = faults()
    with heap.heap_kept() as ok:
        inside = faults()
    after = faults()
    print(size // resource.getpagesize(), outside, inside, after, ok)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc heap behaviour")
def test_heap_kept_reuses_freed_pages_then_restores() -> None:
    import latentatlas.heap as heap

    out = subprocess.run([sys.executable, "-c", KEPT, heap.__file__], capture_output=True, text=True, check=True)
    pages, outside, inside, after, ok = out.stdout.split()
    if ok != "True":
        pytest.skip("not glibc")
    pages = int(pages)
    (out_faults, out_mmap), (in_faults, in_mmap), (after_faults, after_mmap) = (
        r.split(",") for r in (outside, inside, after)
    )
    # outside: a fresh mmap each time, every page faults in again; inside: the heap's pages, almost no faults;
    # after: mmaps again (the chunk header's IS_MMAPPED bit) and the freed top of the heap was given back
    assert (out_mmap, in_mmap, after_mmap) == ("True", "False", "True")
    assert int(out_faults) > 0.9 * pages
    assert int(in_faults) < 0.05 * pages
    assert int(after_faults) > 0.9 * pages


def test_heap_kept_no_op_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    import latentatlas.heap as heap

    heap._mallopt.cache_clear()
    monkeypatch.setattr(heap.sys, "platform", "darwin")
    try:
        with heap.heap_kept() as ok:
            assert ok is False
    finally:
        heap._mallopt.cache_clear()
