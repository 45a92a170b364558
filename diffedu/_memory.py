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
import os
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


def release_after_cells(shell=None) -> bool:
    """In IPython (a lesson's kernel), give freed memory back after every cell (``post_run_cell``), so what one
    cell's short-lived tensors left in glibc's heap does not stack under the next cell's peak (lesson 09 at cpu
    size: benchmarks/README.md, issue 36). Registered once per shell; True if it is. ``diffedu``'s import calls
    it in any IPython shell; elsewhere, or with ``DIFFEDU_TRIM=0``, it does nothing."""
    if os.environ.get("DIFFEDU_TRIM", "1").strip() == "0":
        return False
    if shell is None:
        ipython = sys.modules.get("IPython")          # a kernel has imported it already; a script need not
        shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or getattr(shell, "_diffedu_release", False):
        return bool(shell is not None)
    try:
        shell.events.register("post_run_cell", _release_after_cell)
    except (AttributeError, TypeError, ValueError):     # a shell without IPython's events API: leave it be
        return False
    shell._diffedu_release = True
    return True


def _release_after_cell(result=None) -> None:
    release()
