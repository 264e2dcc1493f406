"""Per-call timing helpers shared by the benchmarks (medians and p99, never means alone)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def per_call(fn: Callable[[], object], *, n: int, warmup: int = 1000) -> dict:
    """Time ``fn`` call by call with perf_counter_ns; return median and p99 in µs."""
    for _ in range(warmup):
        fn()
    samples = []
    clock = time.perf_counter_ns
    for _ in range(n):
        start = clock()
        fn()
        samples.append(clock() - start)
    samples.sort()
    return {
        "median_us": statistics.median(samples) / 1000,
        "p99_us": samples[int(len(samples) * 0.99) - 1] / 1000,
        "n": n,
    }
