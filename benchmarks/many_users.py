"""A class on one server: N real Chromium sessions, each on its own photo.

Each student opens the Compare page, uploads their own photo (distinct size and colour), then
changes the output stride three times (server work: a backbone pass each) and moves the
linked cell twice (browser only), with a think time between actions. After every step the
session checks that the sidebar still names *its* upload and size and that no exception is on
screen. Prints p50 / p95 / max per operation (click -> new picture, as the student's browser
sees it), errors, cross-session leaks, timeouts, the server's peak memory and the CPU taken by
the server and by the browsers.

In a classroom every browser runs on its student's own laptop; here all N share the server's
two cores. By default every browser thread therefore runs in Linux's ``SCHED_IDLE`` class at
``nice 19``, and its scheduler group too (see :func:`renice_browsers`), so the server gets the
machine it would have alone and the browsers what is left (``--browsers-normal`` keeps them in
the normal class, ``--browsers-nice 0`` at normal priority). Those browsers then render slowly,
so their own click-to-picture times mostly measure the starved browsers; ``--probes`` students
(3 by default) use a second browser at normal priority, and their times are what a student
sees while the rest of the class loads the server. Students arrive over ``--arrive`` seconds
(0: all at the same instant).

    python benchmarks/many_users.py [--users 30] [--arrive 60] [--think 3] [--probes 3]
        [--browsers-nice 19] [--browsers-normal]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from conftest import CHROMIUM, CHROMIUM_ARGS, start_server  # noqa: E402

IDLE_JS = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  return app && app.dataset.testConnectionState === 'CONNECTED'
    && app.dataset.testScriptState === 'notRunning'
    && !document.querySelector('[data-testid=stSkeleton]');
}"""


def photo(index: int) -> tuple[bytes, tuple[int, int]]:
    """A distinct photo per student: its own size and colour pattern."""
    w, h = 320 + 24 * index, 240 + 16 * index
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([(x * (index + 1)) % 256, (y * 3) % 256,
                    np.full_like(x, 25 * index % 256)], axis=-1).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue(), (w, h)


async def idle(page, timeout: float = 240.0) -> None:
    """Wait, inside the page (no round trip per poll), until the run has finished."""
    await asyncio.sleep(0.15)  # let the rerun start
    try:
        await page.wait_for_function(IDLE_JS, polling=100, timeout=timeout * 1000)
    except Exception as error:  # Playwright's TimeoutError
        raise TimeoutError("run did not finish") from error


async def check_own(page, name: str, size: tuple[int, int], problems: list[str], *,
                    step: str) -> None:
    """The sidebar names this student's upload and size, and no one else's; no exception."""
    text = await page.get_by_test_id("stSidebar").inner_text()
    others = [f"student{i:02d}.png" for i in range(100) if f"student{i:02d}.png" != name]
    if f"{name} ({size[0]} × {size[1]} px)" not in text:
        problems.append(f"{name}, after {step}: its own image is not shown: {text[-300:]!r}")
    if any(other in text for other in others):
        problems.append(f"{name}, after {step}: sees another session's image")
    if await page.locator("[data-testid=stException]").count():
        problems.append(f"{name}, after {step}: exception on screen")


async def student(browser, url: str, index: int, latencies: dict[str, list[float]],
                  problems: list[str], steps_seen: list[tuple], *, arrive: float, think: float,
                  nice: int, sched_idle: bool) -> None:
    name = f"student{index:02d}.png"
    data, size = photo(index)
    rng = random.Random(index)
    await asyncio.sleep(rng.uniform(0, arrive))
    context = await browser.new_context(viewport={"width": 1280, "height": 800},
                                        reduced_motion="reduce")
    page = await context.new_page()
    renice_browsers(nice, idle=sched_idle)  # the new page's renderer threads
    page.set_default_timeout(240_000)
    await page.goto(f"{url}/compare")
    await idle(page)
    await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
    start, wall = time.monotonic(), time.time()
    await page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": name, "mimeType": "image/png", "buffer": data}])
    # The upload travels before its rerun starts: wait until the sidebar says it is in use.
    in_use = page.get_by_test_id("stSidebar").get_by_text(f"Using your upload: {name}")
    await in_use.first.wait_for()
    await idle(page)
    await page.locator("[data-testid=pv-compare]").wait_for()
    latencies["upload to first view"].append(time.monotonic() - start)
    steps_seen.append((name, "upload to first view", wall, time.time()))
    await check_own(page, name, size, problems, step="upload")
    steps = [("stride", "32"), ("cell", "ArrowRight"), ("stride", "8"), ("cell", "ArrowDown"),
             ("stride", "16")]
    view = page.locator("[data-testid=pv-compare]")
    for kind, arg in steps:
        await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
        start, wall = time.monotonic(), time.time()
        try:
            await one_step(page, view, kind, arg)
        except TimeoutError as error:
            state = await view.get_attribute("data-state")
            raise TimeoutError(f"{name}, {kind} {arg}: {error}; the view's state then: "
                               f"{state}") from error
        op = "output stride change" if kind == "stride" else "cell move (browser)"
        latencies[op].append(time.monotonic() - start)
        steps_seen.append((name, op, wall, time.time()))
        await check_own(page, name, size, problems, step=f"{kind} {arg}")
    await context.close()


async def one_step(page, view, kind: str, arg: str) -> None:
    """Click an output stride (and wait for the run), or press a key in the linked view
    (and wait until it has drawn the new cell: no rerun)."""
    if kind == "stride":
        await page.get_by_role("radio", name=arg, exact=True).first.click()
        await idle(page)
        return
    before = await view.get_attribute("data-state")
    await view.focus()
    await page.keyboard.press(arg)
    handle = await view.element_handle()  # the view lives in a shadow root
    try:
        await page.wait_for_function("([el, before]) => el.dataset.state !== before",
                                     arg=[handle, before], polling="raf", timeout=240_000)
    except Exception as error:  # Playwright's TimeoutError
        focused = await page.evaluate("() => document.activeElement?.outerHTML.slice(0, 120)")
        raise TimeoutError(f"the key changed nothing (focus on {focused!r})") from error


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User + system CPU seconds of one process so far (and of its reaped children)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def browser_cpu_seconds() -> float:
    """CPU seconds of every Chromium process on the machine (the students' browsers),
    including the renderers of closed pages (their parents reaped them)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/comm"):
        try:
            if "chrom" in stat.read_text():
                total += cpu_seconds(int(stat.parent.name), children=True)
        except OSError:
            continue
    return total


AUTOGROUP_NICE = 19
"""Nice of the browsers' scheduler groups (``/proc/PID/autogroup``): their group's weight."""


PROBE_FLAG = "--pyramidviz-probe"
"""Marks the probes' browser on its command line (Chromium ignores a switch it does not know)."""


def probe_pids() -> set[int]:
    """The probes' browser process and every process below it (zygotes, renderers)."""
    parents: dict[int, int] = {}
    marked: set[int] = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid = int(stat.parent.name)
            parents[pid] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if PROBE_FLAG.encode() in (stat.parent / "cmdline").read_bytes():
                marked.add(pid)
        except (OSError, ValueError, IndexError):
            continue

    def below_marked(pid: int) -> bool:
        seen = set()
        while pid > 1 and pid not in seen:
            if pid in marked:
                return True
            seen.add(pid)
            pid = parents.get(pid, 1)
        return False

    return {pid for pid in parents if below_marked(pid)}


def renice_browsers(nice: int, *, idle: bool = True) -> None:
    """Lower the CPU priority of every thread of every Chromium process.

    Linux keeps a priority per thread, and a thread inherits it when it is created, so each
    existing thread is set (a renderer's compositor and raster threads start with it).
    ``idle``: the ``SCHED_IDLE`` policy, which runs a thread only when no normal thread wants
    the core, the nearest this machine gets to browsers on the students' own devices.

    A thread's class only counts inside its scheduler group, though. With Linux's autogroups
    (``/proc/sys/kernel/sched_autogroup_enabled``, on here) each session is a group, groups
    share the cores by their own weight, and Playwright starts Chromium in sessions of its
    own (three groups: the browser and its zygotes). SCHED_IDLE threads there still got three
    quarters of the machine beside the server's one group. So with ``idle`` each Chromium
    process's group also gets nice 19 (weight 15 against 1024).

    The probes' browser (:data:`PROBE_FLAG`) keeps normal priority.
    """
    probes = probe_pids()
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if "chrom" not in comm.read_text() or int(comm.parent.name) in probes:
                continue
            tids = [int(task.name) for task in (comm.parent / "task").iterdir()]
            if idle and AUTOGROUP_NICE:
                (comm.parent / "autogroup").write_text(str(AUTOGROUP_NICE))
        except (OSError, ValueError):
            continue
        for tid in tids:
            try:
                if idle:
                    os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
                os.setpriority(os.PRIO_PROCESS, tid, nice)
            except OSError:
                continue


def server_parts(steps_seen: list[tuple], runs: list[dict]) -> dict[str, list[float]]:
    """Seconds the server spent on each step: that student's runs inside the step's window."""
    parts: dict[str, list[float]] = {}
    for name, op, click, shown in steps_seen:
        inside = [r["seconds"] for r in runs if r["image"] == name
                  and r["end"] - r["seconds"] >= click - 0.05 and r["end"] <= shown + 0.05]
        parts.setdefault(op, []).append(sum(inside))
    return parts


def summary(values: list[float]) -> str:
    """p50 / p95 / max in milliseconds."""
    ms = sorted(v * 1000 for v in values)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return f"{statistics.median(ms):.0f} / {p95:.0f} / {ms[-1]:.0f} ms"


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def probe_indices(users: int, probes: int) -> list[int]:
    """Which students are probes: spread over the class (their photos' sizes differ)."""
    probes = min(max(probes, 0), users)
    if probes == 0:
        return []
    return sorted({int((j + 0.5) * users / probes) for j in range(probes)})


async def main(users: int, arrive: float, think: float, nice: int, sched_idle: bool,
               probes: int = 0) -> int:
    from playwright.async_api import async_playwright

    from pyramidviz.serving import RunLog

    log = RunLog(Path(tempfile.mkdtemp(prefix="pyramidviz-runs-")) / "runs.jsonl")
    proc, url = start_server(extra_env={"PYRAMIDVIZ_RUN_LOG": log.path})
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            probe_browser = await p.chromium.launch(executable_path=CHROMIUM,
                                                    args=[*CHROMIUM_ARGS, PROBE_FLAG])
            renice_browsers(nice, idle=sched_idle)
            warm = await browser.new_page()
            await warm.goto(url + "/")
            await idle(warm)
            await warm.close()
            ops = ("upload to first view", "output stride change", "cell move (browser)")
            latencies: dict[str, list[float]] = {op: [] for op in ops}
            probed: dict[str, list[float]] = {op: [] for op in ops}
            chosen = probe_indices(users, probes)
            problems: list[str] = []
            steps_seen: list[tuple] = []
            cpu_before = browser_cpu_seconds()
            server_before = cpu_seconds(proc.pid)
            start = time.monotonic()
            results = await asyncio.gather(
                *(student(probe_browser if i in chosen else browser, url, i,
                          probed if i in chosen else latencies, problems, steps_seen,
                          arrive=arrive, think=think, nice=nice, sched_idle=sched_idle)
                  for i in range(users)),
                return_exceptions=True)
            wall = time.monotonic() - start
            browsers = browser_cpu_seconds() - cpu_before
            server = cpu_seconds(proc.pid) - server_before
            await browser.close()
            await probe_browser.close()
        timeouts = [r for r in results if isinstance(r, BaseException)]
        policy = f"nice {nice}" + (f", SCHED_IDLE, group nice {AUTOGROUP_NICE}"
                                   if sched_idle else "")
        print(f"| students / arriving over / think time / browsers' priority | {users} / "
              f"{arrive:.0f} s / {think:.0f} s / {policy} |")
        for op, values in latencies.items():
            if values:
                print(f"| {op}: p50 / p95 / max | {summary(values)} ({len(values)} actions) |")
        for op, values in probed.items():
            if values:
                print(f"| {op}, probes at normal priority ({len(chosen)} students): p50 / p95 / "
                      f"max | {summary(values)} ({len(values)} actions) |")
        runs = log.records()
        for op, values in server_parts(steps_seen, runs).items():
            if op != "cell move (browser)":
                print(f"| {op}, the server's part: p50 / p95 / max | {summary(values)} |")
        waited = [r["waited"] for r in runs if r["waited"] > 0]
        if waited:
            print(f"| runs that waited on heavy work: their wait p50 / p95 / max | "
                  f"{summary(waited)} ({len(waited)} of {len(runs)} runs) |")
        print(f"| whole run (upload + 5 interactions each) | {wall:.1f} s |")
        print(f"| server peak memory (VmHWM) | {peak_rss_mib(proc.pid):.0f} MiB |")
        print(f"| CPU used: server / the {users} browsers (of {2 * wall:.0f} core-s) | "
              f"{server:.0f} / {browsers:.0f} core-s |")
        print(f"| errors or another session's image on screen | {len(problems)} |")
        print(f"| sessions that did not finish (timeouts) | {len(timeouts)} |")
        for problem in problems + [repr(t) for t in timeouts]:
            print("  -", problem)
        problems += timeouts
        return 1 if problems else 0
    finally:
        proc.kill()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--arrive", type=float, default=60.0,
                        help="students open the page at random times over this many seconds")
    parser.add_argument("--think", type=float, default=3.0,
                        help="mean pause before each action (0.5x to 1.5x, seeded)")
    parser.add_argument("--browsers-nice", type=int, default=19,
                        help="CPU priority of the browsers (19: lowest; 0: as the server)")
    parser.add_argument("--browsers-normal", action="store_true",
                        help="keep the browsers in the normal scheduling class (no SCHED_IDLE)")
    parser.add_argument("--browsers-group-nice", type=int, default=AUTOGROUP_NICE,
                        help="nice of the browsers' scheduler groups (0: leave them as "
                             "Playwright starts them, as this benchmark did before 2026-12-03)")
    parser.add_argument("--probes", type=int, default=3,
                        help="students whose browser keeps normal priority: what a student "
                             "sees while the rest of the class loads the server")
    args = parser.parse_args()
    AUTOGROUP_NICE = args.browsers_group_nice
    sys.exit(asyncio.run(main(args.users, args.arrive, args.think, args.browsers_nice,
                              not args.browsers_normal, args.probes)))
