"""Serving many students from one process: bounded memory, bounded compute, shared results.

- :class:`ByteCache` keeps results (numpy arrays, tuples of them) under a budget in **bytes**,
  least recently used out first. Stored arrays are made read-only, so the one copy that every
  session gets cannot be changed by any of them.
- :class:`Work` runs heavy calls (a backbone pass, an effective field) on one process-wide pool
  of worker threads sized to the cores, so thirty students never run thirty passes at once.
  Identical requests (the same key, e.g. the same sample at the same setting) share one
  computation. A caller can see whether its request is still queued or already computing.

Nothing here imports streamlit: the app wraps it (``ui.py``); a notebook may use it as is.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ByteCache", "Job", "Work", "nbytes"]


def nbytes(value: Any) -> int:
    """Approximate memory of a cached value: arrays by their buffers, containers summed.

    Examples
    --------
    >>> nbytes(np.zeros((3, 4), np.float32)), nbytes((np.zeros(2), b"abc"))
    (48, 35)
    """
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, (bytes, bytearray, str)):
        return len(value)
    if isinstance(value, dict):
        return sum(nbytes(k) + nbytes(v) for k, v in value.items()) + 64
    if isinstance(value, (list, tuple)):
        return sum(nbytes(v) for v in value) + 8 * len(value)
    if dataclasses.is_dataclass(value):
        return sum(nbytes(getattr(value, f.name)) for f in dataclasses.fields(value)) + 64
    return 16


def _frozen(value: Any) -> Any:
    """Make every array inside ``value`` read-only (shared between sessions)."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, (list, tuple)):
        for item in value:
            _frozen(item)
    elif isinstance(value, dict):
        for item in value.values():
            _frozen(item)
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            _frozen(getattr(value, field.name))
    return value


class ByteCache:
    """A thread-safe LRU cache bounded by the bytes of what it holds.

    Parameters
    ----------
    budget : int
        Most bytes kept. A value larger than the whole budget is returned but not kept.

    Examples
    --------
    >>> cache = ByteCache(100)
    >>> _ = cache.put("a", np.zeros(10))          # 80 bytes
    >>> _ = cache.put("b", np.zeros(5))           # 40 bytes: "a" goes
    >>> cache.get("a") is None, cache.size
    (True, 40)
    """

    def __init__(self, budget: int) -> None:
        if budget < 1:
            raise ValueError(f"budget must be positive, got {budget!r}")
        self.budget = int(budget)
        self.size = 0
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        """The value for ``key`` (now the most recently used), or None."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Hashable, value: Any) -> Any:
        """Keep ``value`` (arrays made read-only), evicting the least recently used."""
        value, size = _frozen(value), nbytes(value)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.size -= old[1]
            if size <= self.budget:
                self._items[key] = (value, size)
                self.size += size
                while self.size > self.budget:
                    _, (_, dropped) = self._items.popitem(last=False)
                    self.size -= dropped
        return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.size = 0


@dataclass
class Job:
    """One request handed to :class:`Work`: its shared future and whether it has started."""

    future: Future
    started: threading.Event

    @property
    def state(self) -> str:
        """``"done"``, ``"computing"`` or ``"queued"``."""
        if self.future.done():
            return "done"
        return "computing" if self.started.is_set() else "queued"


class Work:
    """One pool of worker threads for the heavy calls of every session, with shared results.

    Parameters
    ----------
    workers : int, optional
        Default: the cores this process may use (torch then uses one thread per call).
    cache : ByteCache, optional
        Where finished results stay; a later identical request is answered from it.

    Examples
    --------
    >>> work = Work(workers=1, cache=ByteCache(1 << 20))
    >>> job = work.submit("k", lambda: np.arange(3))
    >>> job.future.result().tolist(), work.submit("k", lambda: None).state
    ([0, 1, 2], 'done')
    """

    def __init__(self, workers: int | None = None, cache: ByteCache | None = None) -> None:
        if workers is None:
            workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
                os.cpu_count() or 1)
        self.workers = max(1, int(workers))
        self.cache = cache if cache is not None else ByteCache(512 << 20)
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="pyramidviz-work")
        self._lock = threading.Lock()
        self._running: dict[Hashable, Job] = {}

    def submit(self, key: Hashable, fn: Callable[[], Any]) -> Job:
        """Run ``fn()`` once for ``key``: a cached result, the job already under way, or new."""
        with self._lock:
            hit = self.cache.get(key)
            if hit is not None:
                future: Future = Future()
                future.set_result(hit)
                done = threading.Event()
                done.set()
                return Job(future, done)
            job = self._running.get(key)
            if job is not None:
                return job
            started = threading.Event()

            def run() -> Any:
                started.set()
                try:
                    return self.cache.put(key, fn())
                finally:
                    with self._lock:
                        self._running.pop(key, None)

            job = Job(self._pool.submit(run), started)
            self._running[key] = job
            return job

    def queued(self) -> int:
        """How many distinct requests are waiting for a worker right now."""
        with self._lock:
            return sum(1 for job in self._running.values() if job.state == "queued")
