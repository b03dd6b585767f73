"""pyramidviz.serving: memory bounded by bytes, one computation per identical request."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyramidviz import serving
from pyramidviz.serving import ByteCache, Work, nbytes, resident_bytes


@settings(max_examples=50, deadline=None)
@given(sizes=st.lists(st.integers(0, 400), min_size=1, max_size=40),
       budget=st.integers(1, 1000))
def test_the_cache_never_holds_more_bytes_than_its_budget(sizes, budget):
    cache = ByteCache(budget)
    for i, n in enumerate(sizes):
        cache.put(i, np.zeros(n, np.uint8))
        assert cache.size <= budget
        assert cache.size == sum(nbytes(cache.get(k)) for k in range(i + 1)
                                 if cache.get(k) is not None)
    last = sizes[-1]
    assert (cache.get(len(sizes) - 1) is not None) == (last <= budget)


def test_filling_past_the_budget_drops_the_least_recently_used():
    budget = 60 << 20
    cache = ByteCache(budget)
    maps = [np.ones((32, 578, 866), np.float32) for _ in range(3)]  # a 2 MP stem tap
    assert maps[0].nbytes == 32 * 578 * 866 * 4 > budget
    for i, m in enumerate(maps[:2]):
        cache.put(("stem", i), m[:, :, :400])  # ~30 MB each: two fit
    cache.get(("stem", 0))
    cache.put(("stem", 2), maps[2][:, :, :400])
    assert cache.get(("stem", 1)) is None and cache.get(("stem", 0)) is not None
    assert cache.size <= budget and len(cache) == 2
    cache.put("huge", maps[0])  # larger than the whole budget: returned, not kept
    assert cache.get("huge") is None and cache.size <= budget


def test_shared_results_are_read_only():
    cache = ByteCache(1 << 20)
    value = cache.put("k", (np.zeros(3), {"a": np.ones(2)}))
    with pytest.raises(ValueError, match="read-only"):
        value[0][0] = 1
    with pytest.raises(ValueError, match="read-only"):
        value[1]["a"][0] = 1


def test_identical_requests_from_many_sessions_are_computed_once():
    work, calls, gate = Work(workers=2, cache=ByteCache(1 << 20)), [], threading.Event()

    def slow():
        calls.append(1)
        gate.wait(5)
        return np.arange(4)

    jobs = []
    threads = [threading.Thread(target=lambda: jobs.append(work.submit("same", slow)))
               for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    gate.set()
    results = [job.future.result(timeout=5) for job in jobs]
    assert len(calls) == 1 and all(r is results[0] for r in results)
    assert work.submit("same", slow).state == "done" and len(calls) == 1


def test_a_busy_pool_says_queued_then_computing_then_done():
    work, gate = Work(workers=1, cache=ByteCache(1 << 20)), threading.Event()
    first = work.submit("a", lambda: gate.wait(5) and np.zeros(1))
    second = work.submit("b", lambda: np.ones(1))
    deadline = time.monotonic() + 5
    while first.state != "computing" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (first.state, second.state, work.queued()) == ("computing", "queued", 1)
    gate.set()
    assert second.future.result(timeout=5).tolist() == [1.0]
    assert (first.state, second.state, work.queued()) == ("done", "done", 0)


def test_a_failed_computation_is_not_cached_and_can_be_retried():
    work, attempts = Work(workers=1, cache=ByteCache(1 << 20)), []

    def flaky():
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("out of memory")
        return np.zeros(2)

    with pytest.raises(RuntimeError, match="out of memory"):
        work.submit("k", flaky).future.result(timeout=5)
    deadline = time.monotonic() + 5
    while work.queued() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    assert work.submit("k", flaky).future.result(timeout=5).tolist() == [0.0, 0.0]
    assert len(attempts) == 2


needs_glibc = pytest.mark.skipif(serving._malloc_trim() is None or not resident_bytes(),
                                 reason="needs glibc's malloc_trim and /proc")


def _fragmented_heap(n: int = 3000, size: int = 64 << 10) -> list:
    """Free most of ``n`` heap blocks (below glibc's mmap threshold) but keep every tenth:
    the freed pages sit in holes between live blocks, where glibc's own trim cannot reach."""
    blocks = [bytearray(size) for _ in range(n)]
    for block in blocks:
        block[::4096] = b"\1" * len(block[::4096])  # touch every page
    kept = blocks[::10]
    del blocks
    return kept


@needs_glibc
def test_release_memory_returns_the_holes_a_pass_leaves_in_the_heap():
    kept = _fragmented_heap()
    before = resident_bytes()
    assert serving.release_memory() is True
    after = resident_bytes()
    # 3000 x 64 KiB = 188 MiB allocated, 19 MiB still live: most of the rest goes back
    assert before - after > 100 << 20, (before >> 20, after >> 20)
    assert all(block[0] == 1 for block in kept)  # live blocks are untouched


def test_work_releases_memory_only_when_the_process_is_above_its_mark(monkeypatch):
    released = []
    monkeypatch.setattr(serving, "release_memory", lambda: released.append(1) or True)
    low = Work(workers=1, cache=ByteCache(1 << 20), release_above=1 << 60)
    low.submit("a", lambda: np.zeros(1)).future.result()
    high = Work(workers=1, cache=ByteCache(1 << 20), release_above=0)
    job = high.submit("a", lambda: np.zeros(1))
    job.future.result()
    deadline = time.monotonic() + 5
    while not released and time.monotonic() < deadline:  # the callback follows the result
        time.sleep(0.01)
    assert (low.releases, high.releases, len(released)) == (0, 1, 1)
    high.submit("a", lambda: np.zeros(1))  # a cache hit computes nothing and releases nothing
    assert high.releases == 1
    assert Work(workers=1).release_above is None  # a notebook's pool never trims


def test_a_call_that_finishes_at_once_does_not_deadlock_the_release(monkeypatch):
    monkeypatch.setattr(serving, "release_memory", lambda: True)
    work = Work(workers=1, cache=ByteCache(1 << 20), release_above=0)
    for i in range(50):  # fast enough that some finish before submit registers its callback
        assert work.submit(i, lambda i=i: np.full(1, i)).future.result(timeout=5)[0] == i


def test_work_shortens_the_gil_switch_interval_only_when_asked(monkeypatch):
    import sys

    before = sys.getswitchinterval()
    monkeypatch.setattr(sys, "setswitchinterval", lambda s: calls.append(s))
    calls: list[float] = []
    Work(workers=1, cache=ByteCache(1 << 10))
    assert calls == []
    Work(workers=1, cache=ByteCache(1 << 10), switch_interval=2e-4)
    assert calls == [2e-4]
    assert sys.getswitchinterval() == before  # the real interpreter was left alone

