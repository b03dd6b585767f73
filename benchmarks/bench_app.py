"""App-level figures for README: cold start, page render times, bytes per figure.

    python benchmarks/bench_app.py

- cold start: ``streamlit run`` spawned -> /_stcore/health ok -> Home's title rendered in
  headless Chromium (median of 3 fresh servers);
- each page rendered through AppTest, warm caches (median of 3 runs): server time of a full run;
- bytes of every Plotly figure each page sends (JSON spec, images PNG-encoded inside).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
import ui  # noqa: E402

from conftest import CHROMIUM, CHROMIUM_ARGS, start_server  # noqa: E402


def cold_start() -> tuple[float, float]:
    from playwright.sync_api import sync_playwright

    from browser import wait_idle

    start = time.monotonic()
    proc, url = start_server()
    healthy = time.monotonic() - start
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(url + "/")
            page.locator("h1").first.wait_for()
            wait_idle(page, settle=0.0)
            rendered = time.monotonic() - start
            browser.close()
    finally:
        proc.kill()
    return healthy, rendered


def page_runs(name: str, repeats: int = 3) -> tuple[float, float, list[tuple[str, int]]]:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    start = time.monotonic()
    at.run()
    if name != "home":
        at.switch_page(ui.page_path(name)).run()
    first = time.monotonic() - start
    times = []
    for _ in range(repeats):
        start = time.monotonic()
        at.run()
        times.append(time.monotonic() - start)
    charts = at.get("plotly_chart")
    sizes = [(chart.proto.id or f"chart{i}", len(chart.proto.spec.encode()))
             for i, chart in enumerate(charts)]
    return first, statistics.median(times), sizes


def main() -> None:
    starts = [cold_start() for _ in range(3)]
    print("| measure | value |")
    print("| --- | --- |")
    print(f"| server healthy after spawn (median of 3) | "
          f"{statistics.median(s[0] for s in starts):.2f} s |")
    print(f"| cold start to rendered Home in Chromium (median of 3) | "
          f"{statistics.median(s[1] for s in starts):.2f} s |")
    print()
    print("| page | first run (cold caches, model load) | warm rerun (median) | figures | "
          "largest figure |")
    print("| --- | --- | --- | --- | --- |")
    for name in ui.PAGE_ICONS:
        first, warm, sizes = page_runs(name)
        largest = max((size for _, size in sizes), default=0)
        print(f"| {name} | {first:.2f} s | {warm * 1000:.0f} ms | {len(sizes)} | "
              f"{largest / 1024:.0f} KB |")


if __name__ == "__main__":
    main()
