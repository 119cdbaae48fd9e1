"""Keep freed memory for reuse: a process-wide setting of the C library's allocator, which the
applications (the command line, the web server) make and the library does not.

glibc's ``malloc`` hands a large array's pages back to the system when it is freed, and takes
fresh ones, zeroed on first touch, for the next. Enhancing a segment of the full-band model makes
about a dozen arrays of 5 to 9 MB (its STFT, the model's input and output, the inverse), and
touching their new pages took a fifth of the segment's time on one core (2 to 6 % of a file's,
end to end; `benchmarks/`). And each thread that allocates takes an arena of its own, up to
eight a core, each keeping what it freed: the web server, whose requests run on a pool of
threads, peaked at 1,056 to 1,125 MB under 20 uploads, and at 650 to 711 MB with two arenas,
its jobs no slower (`cap_arenas`; `benchmarks/serve_load.py`, docs/serve.md).
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

__all__ = ["SERVER_ARENAS", "cap_arenas", "keep_freed_memory"]

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8  # glibc's <malloc.h>
MMAP_THRESHOLD = 32 << 20  # the most glibc allows: arrays under 32 MB come from its heap
TRIM_THRESHOLD = 64 << 20  # free memory a heap keeps at its top before giving it back
SERVER_ARENAS = 2  # the web server's arenas (`cap_arenas`)


def _mallopt() -> Any:
    """glibc's ``mallopt``, or None (off Linux, or a C library without it)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return mallopt


def keep_freed_memory() -> bool:
    """Ask glibc's allocator to serve arrays under 32 MB from its heap and keep what is freed
    (up to 64 MB a heap) for the next; returns whether it took (False off glibc, where
    there is no ``mallopt`` to ask, or where it refuses)."""
    mallopt = _mallopt()
    if mallopt is None:
        return False
    kept = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    return mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and kept


def cap_arenas(arenas: int = SERVER_ARENAS) -> bool:
    """Ask glibc's allocator for at most ``arenas`` arenas, for threads started from now on to
    share (as ``MALLOC_ARENA_MAX`` would); returns whether it took. The web server asks, before
    its threads start; the command line does not (one file's threads are few)."""
    mallopt = _mallopt()
    return mallopt is not None and mallopt(M_ARENA_MAX, arenas) == 1
