"""Keep the memory a streaming body frees for its next reads, instead of handing it back to the kernel.

Why: a body read 1 MiB at a time (``pools.py``, rule 3) allocates about five blocks of
that size per read (the socket read, h11's receive buffer and the two slices it takes of
it, httpcore's ``bytes()``) and frees them as fast. glibc's malloc serves such blocks from
its heap, but gives the top of the heap back to the kernel whenever more than twice its
(dynamic) mmap threshold lies free there, and the next reads fault fresh zeroed pages in
again: pulling one 200 MiB layer took 12,000–27,000 page faults in the reading thread,
0.07–0.11 s of system time on the benchmark machine (a VM whose host also faults in every
page the guest touches afresh). With blocks under ``MMAP_THRESHOLD`` kept in the heap and
up to ``TRIM_THRESHOLD`` of free memory kept at its top: 4,000–8,000 faults, 0.03–0.06 s
(16 MiB kept would make it ~3,500, but eight layers streaming at once, one heap each,
then peaked at up to 66 MiB). What a heap keeps is at most what its reads used at their
peak, so memory stays bounded by the read sizes whatever the body's size (8 × 24 MiB at
``--jobs 8``: 53–54 MiB before, 53–61 MiB now; one 200 MiB layer: 40–42 MiB, as before).

How: ``mallopt`` through ``ctypes``, once per process, and only on glibc (elsewhere this
is a no-op); ``pools.py`` calls it when a read of a body comes back full at its largest size
(1 MiB): a body of a few MiB or more.
"""

from __future__ import annotations

import os
import threading

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "keep_freed_memory"]

MMAP_THRESHOLD = 4 << 20  # blocks at least this big get a mapping of their own, unmapped when freed
TRIM_THRESHOLD = 8 << 20  # free memory at the top of a heap beyond this goes back to the kernel

_M_TRIM_THRESHOLD = -1  # glibc's malloc.h
_M_MMAP_THRESHOLD = -3

_lock = threading.Lock()
_done = False


def keep_freed_memory() -> None:
    """Set glibc malloc's thresholds (the first call does it; later calls return at once)."""
    global _done
    if _done:
        return
    with _lock:
        if _done:
            return
        _done = True
        if not _glibc():
            return
        import ctypes  # here: 3 ms of import that only a big body pays

        try:
            mallopt = ctypes.CDLL(None).mallopt
        except (OSError, AttributeError):
            return
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)  # first: setting it ends glibc's dynamic thresholds
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)


def _glibc() -> bool:
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (ValueError, OSError):  # not a name this platform knows
        return False
