"""Per-call timing shared by the benchmarks: medians and p99, never means alone, as exact
Decimals (no float near a result a reader compares)."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from decimal import Decimal

_NS_PER_US = Decimal(1000)


def per_call(call: Callable[[], object], *, n: int, warmup: int = 1000) -> dict:
    """Time ``call`` one call at a time with perf_counter_ns after a warm-up; the median and
    the 99th percentile (nearest rank) in µs."""
    for _ in range(warmup):
        call()
    gc.collect()
    clock = time.perf_counter_ns
    samples = []
    for _ in range(n):
        started = clock()
        call()
        samples.append(clock() - started)
    return {**summary(samples), "n": n}


def summary(samples: list[int]) -> dict:
    """Median and p99 (nearest rank) in µs of per-call nanosecond samples."""
    samples = sorted(samples)
    n = len(samples)
    middle = n // 2
    median_ns = (
        Decimal(samples[middle]) if n % 2 else Decimal(samples[middle - 1] + samples[middle]) / 2
    )
    p99_ns = samples[max(0, (99 * n + 99) // 100 - 1)]
    return {"median_us": median_ns / _NS_PER_US, "p99_us": Decimal(p99_ns) / _NS_PER_US, "n": n}


def row(name: str, call: Callable[[], object], n: int, note: str) -> dict:
    """A table row for ``call`` with a warm-up of 5% (at least 1,000 calls)."""
    return {"name": name, **per_call(call, n=n, warmup=max(1000, n // 20)), "note": note}
