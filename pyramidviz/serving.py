"""Serving many students from one process: bounded memory, bounded compute, shared results.

- :class:`ByteCache` keeps results (numpy arrays, tuples of them) under a budget in **bytes**,
  least recently used out first. Stored arrays are made read-only, so the one copy that every
  session gets cannot be changed by any of them.
- :class:`Work` runs heavy calls (a backbone pass, an effective field) on one process-wide pool
  of worker threads sized to the cores, so thirty students never run thirty passes at once.
  Identical requests (the same key, e.g. the same sample at the same setting) share one
  computation. A caller can see whether its request is still queued or already computing.
- :func:`release_memory` hands the C heap's free pages back to the system. A backbone pass
  frees hundreds of MB of activations between the long-lived feature maps it leaves in the
  cache, and glibc keeps those holes: thirty students' passes on this machine peaked at
  1.8-2.4 GB with 260 MB cached, 1.1-1.3 GB when the pool releases after a pass that leaves
  the process above ``release_above`` bytes (``benchmarks/bench_memory.py``).
- :class:`RunLog` appends one JSON line per page run (how long the server took, how much of
  it waited on the pool), so a deployment sees the server's share of what students wait for.

Nothing here imports streamlit: the app wraps it (``ui.py``); a notebook may use it as is.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import functools
import json
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ByteCache", "Job", "Work", "nbytes", "release_memory", "resident_bytes",
           "RunLog"]


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


def resident_bytes() -> int:
    """Resident memory of this process now, in bytes (0 where ``/proc`` is unavailable).

    Examples
    --------
    >>> resident_bytes() >= 0
    True
    """
    try:
        with open("/proc/self/statm", "rb") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None on a C library without it (musl, macOS, Windows)."""
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_memory() -> bool:
    """Return the C heap's free pages to the system (glibc's ``malloc_trim(0)``).

    Unlike the top-of-heap trim glibc does on its own, this also releases free pages in the
    middle of every arena, the holes a backbone pass leaves around the feature maps that stay
    cached. The next pass faults them in again, so it costs a little time: call it when
    memory is high, not after every allocation.

    Returns
    -------
    bool
        Whether memory was released (False where the C library has no ``malloc_trim``).
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


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
    release_above : int, optional
        After a call, when the process is resident above this many bytes,
        :func:`release_memory` runs on that worker. Default: never.
    switch_interval : float, optional
        Seconds; sets the interpreter's GIL switch interval (``sys.setswitchinterval``, a
        process-wide setting, 0.005 by default). A worker needs the GIL back after every
        torch op, and while other threads run Python (a server's sessions) it waits up to
        one interval each time: with four such threads, even at idle priority, an output
        stride 8 pass takes 3.5 times as long at 5 ms, 1.1 times at 0.2 ms
        (``benchmarks/bench_gil.py``). Default: left as it is.

    Examples
    --------
    >>> work = Work(workers=1, cache=ByteCache(1 << 20))
    >>> job = work.submit("k", lambda: np.arange(3))
    >>> job.future.result().tolist(), work.submit("k", lambda: None).state
    ([0, 1, 2], 'done')
    """

    def __init__(self, workers: int | None = None, cache: ByteCache | None = None, *,
                 release_above: int | None = None, switch_interval: float | None = None
                 ) -> None:
        if workers is None:
            workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
                os.cpu_count() or 1)
        self.workers = max(1, int(workers))
        self.cache = cache if cache is not None else ByteCache(512 << 20)
        self.release_above = release_above
        self.releases = 0  # how often a call left the process above release_above
        if switch_interval is not None:
            sys.setswitchinterval(switch_interval)
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
        # After the result is out, on the worker, so the waiting student is not delayed (and
        # outside the lock: a call that has already finished runs its callback right here).
        job.future.add_done_callback(lambda _: self._release_if_high())
        return job

    def _release_if_high(self) -> None:
        if self.release_above is not None and resident_bytes() > self.release_above:
            with self._lock:
                self.releases += 1
            release_memory()

    def queued(self) -> int:
        """How many distinct requests are waiting for a worker right now."""
        with self._lock:
            return sum(1 for job in self._running.values() if job.state == "queued")


class RunLog:
    """An append-only file of JSON lines, one per record, safe to share between threads.

    Parameters
    ----------
    path : str or os.PathLike
        The file; created when missing, appended to otherwise.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "runs.jsonl"
    >>> log = RunLog(path)
    >>> log.write(page="compare", seconds=0.25)
    >>> log.records()
    [{'page': 'compare', 'seconds': 0.25}]
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()

    def write(self, **record: Any) -> None:
        """Append ``record`` (JSON-serialisable values) as one line."""
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as file:
            file.write(line)

    def records(self) -> list[dict]:
        """Every record written so far (by any process appending to the same file)."""
        try:
            with open(self.path, encoding="utf-8") as file:
                return [json.loads(line) for line in file if line.strip()]
        except FileNotFoundError:
            return []
