"""Keep freed memory for reuse: a process-wide setting of the C library's allocator, which the
applications (the command line, the web server) make and the library does not.

glibc's ``malloc`` hands a large array's pages back to the system when it is freed, and takes
fresh ones, zeroed on first touch, for the next. Enhancing a segment of the full-band model makes
about a dozen arrays of 5 to 9 MB (its STFT, the model's input and output, the inverse), and
touching their new pages took a fifth of the segment's time on one core (2 to 6 % of a file's,
end to end; `benchmarks/`).
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["keep_freed_memory"]

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>
MMAP_THRESHOLD = 32 << 20  # the most glibc allows: arrays under 32 MB come from its heap
TRIM_THRESHOLD = 64 << 20  # free memory a heap keeps at its top before giving it back


def keep_freed_memory() -> bool:
    """Ask glibc's allocator to serve arrays under 32 MB from its heap and keep what is freed
    (up to 64 MB a heap) for the next; returns whether it took (False off glibc, where
    there is no ``mallopt`` to ask, or where it refuses)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    kept = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    return mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and kept
