"""The C allocator under torch's CPU tensors: keep the memory a step frees, for the next step to reuse.

glibc hands large freed blocks back to the operating system (each block above a threshold is its own mapping, and the
top of the heap is trimmed), so the next step's tensors of the same sizes arrive as fresh pages, and every 4 KiB page
costs a page fault on first touch. Measured on this project's 2-core AMD EPYC machines (``bench train``, bf16,
``configs/dance-128.yaml``, two threads; docs/performance.md, 2026-12-04): a step at K = 4 faulted 85,000 pages and
took 0.82-0.92 s; with the memory kept, 6,000-7,400 pages and 0.73 s.

    keep_freed_memory()        # once per process, before the work; the ``fsvid2vid`` command line calls it

The cost: the process keeps its peak memory until it exits (it does not grow past the peak: the freed blocks are
reused). Set ``FSVID2VID_KEEP_FREED_MEMORY=0`` to leave the allocator as it is. Elsewhere than glibc (macOS, Windows,
musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys

# mallopt parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
ENV = "FSVID2VID_KEEP_FREED_MEMORY"


@functools.cache
def keep_freed_memory() -> bool:
    """Ask glibc to serve every allocation from its heap (no per-block mappings) and never to trim the heap; True
    when it took effect. Process-wide and irreversible; calling again does nothing more."""
    if os.environ.get(ENV, "1").strip() in ("0", "false", "no") or not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None)  # the symbols already loaded into this process, the C library's among them
    if not hasattr(libc, "gnu_get_libc_version"):  # not glibc (musl's mallopt does nothing)
        return False
    libc.mallopt.argtypes, libc.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(libc.mallopt(M_MMAP_MAX, 0)) and bool(libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1))
