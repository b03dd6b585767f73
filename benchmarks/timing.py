"""Shared by the page benchmarks: median wall time of a call, bytes a figure sends."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import plotly.io as pio

REPEATS = 7


def timed(fn: Callable[[], object], repeats: int = REPEATS) -> float:
    """Median wall time of ``fn()`` in milliseconds (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def send(fig) -> int:
    """What Streamlit does with a figure: encode it to JSON. Returns the byte count."""
    return len(pio.to_json(fig, validate=False).encode("utf-8"))
