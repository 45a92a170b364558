"""Helpers for the hand-run benchmarks: medians of repeated timings, printed as a small table."""
from __future__ import annotations

import statistics
import time


def median_ms(fn, repeats: int = 50, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def report(rows, target_ms: float | None = None) -> None:
    width = max(len(r[0]) for r in rows)
    for name, ms in rows:
        verdict = "" if target_ms is None else ("  ok" if ms <= target_ms else f"  OVER {target_ms:.0f} ms")
        print(f"{name:<{width}}  {ms:8.2f} ms{verdict}")
