"""Give freed memory back to the operating system (glibc's ``malloc_trim``), so a kernel stays within Binder's 1 GB.

PyTorch's CPU tensors come from the C allocator. After a loop of large, short-lived tensors (a classifier over
thousands of images in batches), glibc keeps the freed blocks in its heap instead of returning them, and a
notebook's resident memory grows by hundreds of MB that nothing uses (measured in lesson 06: +600 MB over one
``metrics.classifier_outputs`` call, back to +10 MB after ``malloc_trim``). Setting a fixed mmap threshold
(``MALLOC_MMAP_THRESHOLD_``) avoids it too, but made the lesson's system time three times larger; trimming
after each batch costs a few milliseconds. A no-op where the C library is not glibc.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import lru_cache


@lru_cache(maxsize=1)
def _trim():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # musl and others have no malloc_trim
        return None


def release() -> None:
    """Return the C heap's free memory to the operating system (glibc); otherwise do nothing."""
    trim = _trim()
    if trim is not None:
        trim(0)
