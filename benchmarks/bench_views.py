"""What a student sees: key press or click to the new picture, and websocket frames per action.

    python benchmarks/bench_views.py [--before PATH] [--repeats N]

Drives headless Debian Chromium against this checkout's app and, with ``--before PATH`` (a
checkout of the app before the browser views, e.g. ``git worktree add /tmp/pv-before
dbc4392``), against that one too, in the same run, on the same machine, one after the other.

- *after* (browser views): a listener in the page notes the key event's time stamp and the
  moment the view's ``data-state`` changes, then waits for the next two animation frames
  (the new picture is painted): both are reported. Websocket frames come from the DevTools
  protocol (``Network.webSocketFrameReceived``), counted over all the actions.
- *before* (Streamlit widgets): the time from the key press (or typed value) until the page
  shows the new value and the script run has finished, polled every 10 ms.
- with ``--throttle 1 4``: only the two actions the issue budgets (an SPP bin step, an ASPP
  cell move) at each CPU slowdown (CDP ``Emulation.setCPUThrottlingRate``; 4 is a mid-range
  phone), key press to new state and to the painted frame (double ``requestAnimationFrame``),
  median and p95, and websocket frames per action (the target at 4x: state within 16 ms,
  painted within two frames, 0 frames).
- payload sizes of the views for a sample and for a 2-megapixel upload (pyramidviz.payloads).

Numbers move by 10-30 % on this shared 2-core machine; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from browser import Frames, open_page, wait_idle  # noqa: E402
from conftest import CHROMIUM, CHROMIUM_ARGS, start_server  # noqa: E402

ARM = """([testid]) => {
  const view = document.querySelector(`[data-testid=stApp]`);
  const find = () => {
    for (const host of document.querySelectorAll('*')) {
      const el = host.shadowRoot && host.shadowRoot.querySelector(`[data-testid=${testid}]`);
      if (el) return el;
    }
    return document.querySelector(`[data-testid=${testid}]`);
  };
  const el = find();
  window.__pv = { marks: [] };
  let pressed = null;
  const mark = (e) => { pressed = e.timeStamp; };
  el.addEventListener('keydown', mark, true);
  el.addEventListener('pointerdown', mark, true);
  new MutationObserver(() => {
    if (pressed === null) return;
    const changed = performance.now(), start = pressed;
    pressed = null;
    requestAnimationFrame(() => requestAnimationFrame(() => {
      window.__pv.marks.push([changed - start, performance.now() - start]);
    }));
  }).observe(el, { attributes: true, attributeFilter: ['data-state'] });
  return !!el && !!view;
}"""


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def after(browser, url: str, repeats: int) -> dict[str, tuple]:
    """Median (state changed, painted) ms and frames per action, for each view action."""
    results = {}
    cases = [("SPP: next bin (ArrowRight)", "/spp", "pv-spp-bins", "ArrowRight"),
             ("SPP: change level", "/spp", "pv-spp-bins", "PageDown"),
             ("ASPP: move the cell one column", "/aspp", "pv-aspp-taps", "ArrowRight"),
             ("ASPP: move the cell one column, OS 8", "/aspp?aspp_os=8", "pv-aspp-taps",
              "ArrowRight"),
             ("Compare: move the linked cell (ArrowUp)", "/compare", "pv-compare",
              "ArrowUp")]
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    open_page(page, url)
    for name, path, testid, key in cases:
        open_page(page, url + path)
        view = page.locator(f"[data-testid={testid}]")
        view.wait_for()
        wait_idle(page)
        frames = Frames(page)
        page.evaluate(ARM, [testid])
        view.focus()
        for _ in range(repeats):
            page.keyboard.press(key)
            page.wait_for_timeout(60)
        page.wait_for_timeout(500)
        marks = page.evaluate("window.__pv.marks")
        results[name] = (median([m[0] for m in marks]), median([m[1] for m in marks]),
                         frames.count / repeats, len(marks))
    # a click on the photo (ASPP)
    open_page(page, url + "/aspp")
    view = page.locator("[data-testid=pv-aspp-taps]")
    frames = Frames(page)
    page.evaluate(ARM, ["pv-aspp-taps"])
    box = view.locator("svg image").first.bounding_box()
    for i in range(repeats):
        page.mouse.click(box["x"] + box["width"] * (0.2 + 0.6 * (i % 5) / 4),
                         box["y"] + box["height"] * (0.3 + 0.1 * (i % 3)))
        page.wait_for_timeout(60)
    page.wait_for_timeout(500)
    marks = page.evaluate("window.__pv.marks")
    results["ASPP: click the photo"] = (median([m[0] for m in marks]),
                                        median([m[1] for m in marks]),
                                        frames.count / repeats, len(marks))
    # a setting that needs the server: output stride (cached after the first two)
    open_page(page, url + "/aspp")
    view = page.locator("[data-testid=pv-aspp-taps]")

    def drawn(os_: str) -> None:
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline:
            raw = view.get_attribute("data-state")
            if raw and json.loads(raw)["stride"] == int(os_):
                return
            time.sleep(0.005)

    results["ASPP: output stride 16 <-> 8 (cached; server)"] = _stride_changes(page, repeats,
                                                                             drawn)
    # a cached page: navigation to the view drawn
    times = []
    for _ in range(3):
        start = time.perf_counter()
        page.goto(url + "/aspp")
        page.locator("[data-testid=pv-aspp-taps]").wait_for()
        times.append((time.perf_counter() - start) * 1000)
    results["ASPP: cached page load to the view"] = (median(times), None, None, 3)
    page.close()
    return results


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else \
        float("nan")


THROTTLED = [("SPP: next bin (ArrowRight)", "/spp", "pv-spp-bins", "ArrowRight"),
             ("ASPP: move the cell one column", "/aspp", "pv-aspp-taps", "ArrowRight"),
             ("ASPP: move the cell one column, OS 8", "/aspp?aspp_os=8", "pv-aspp-taps",
              "ArrowRight")]


def throttled(browser, url: str, repeats: int, rates: list[float]) -> list[tuple]:
    """``(action, rate, state median, state p95, painted median, painted p95, frames per
    action, samples)`` for the budgeted actions at each CPU throttling rate."""
    rows = []
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    open_page(page, url)
    cdp = page.context.new_cdp_session(page)
    for name, path, testid, key in THROTTLED:
        for rate in rates:
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
            open_page(page, url + path + ("&" if "?" in path else "?") + "img=chelsea")
            view = page.locator(f"[data-testid={testid}]")
            view.wait_for()
            wait_idle(page)
            frames = Frames(page)
            page.evaluate(ARM, [testid])
            view.focus()
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
            for i in range(repeats):
                page.keyboard.press(key if i % 8 < 4 else key.replace("Right", "Left"))
                page.wait_for_timeout(120)
            page.wait_for_timeout(600)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
            marks = page.evaluate("window.__pv.marks")
            states, painted = [m[0] for m in marks], [m[1] for m in marks]
            rows.append((name, rate, median(states), p95(states), median(painted),
                         p95(painted), frames.count / repeats, len(marks)))
    page.close()
    return rows


def _wait_text(page, text: str, timeout: float = 60.0) -> float:
    start = time.perf_counter()
    main = page.get_by_test_id("stMain")
    while time.perf_counter() - start < timeout:
        state = page.locator("[data-testid=stApp]").get_attribute("data-test-script-state")
        if state == "notRunning" and text in main.inner_text():
            return (time.perf_counter() - start) * 1000
        time.sleep(0.01)
    return float("nan")


def before(browser, url: str, repeats: int) -> dict[str, tuple]:
    """The pre-views app: median ms from the action to the new value on screen, and frames.

    SPP steps the bin slider with ArrowRight; ASPP types the next column into its number
    input and presses Enter (its only way to move the cell by one).
    """
    results = {}
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    open_page(page, url)
    open_page(page, url + "/spp")
    frames = Frames(page)
    slider = page.locator("[data-testid=stSlider]").filter(has_text="Bin").locator(
        "[role=slider], input[type=range]").first
    slider.focus()
    times = []
    for k in range(repeats):
        start = time.perf_counter()
        page.keyboard.press("ArrowRight")
        wait = _wait_text(page, f"Bin {k + 2} of 16")
        times.append((time.perf_counter() - start) * 1000 if wait == wait else float("nan"))
    results["SPP: next bin (ArrowRight)"] = (median(times), None, frames.count / repeats,
                                             repeats)
    frames.count, times = 0, []
    level = page.locator("[data-testid=stRadio]").filter(has_text="Level (n")
    for k in range(repeats):
        n = "2" if k % 2 == 0 else "4"
        start = time.perf_counter()
        level.get_by_text(n, exact=True).first.click()
        _wait_text(page, f"of {int(n) ** 2} (row")
        times.append((time.perf_counter() - start) * 1000)
    results["SPP: change level"] = (median(times), None, frames.count / repeats,
                                               repeats)
    open_page(page, url + "/aspp")
    results["ASPP: output stride 16 <-> 8 (cached; server)"] = _stride_changes(
        page, repeats, lambda os_: _wait_text(page, f"at output stride {os_}"))
    open_page(page, url + "/aspp")
    frames = Frames(page)
    times = []
    box = page.get_by_test_id("stNumberInput").nth(1).locator("input")
    for k in range(repeats):
        start = time.perf_counter()
        box.fill(str(3 + k))
        box.press("Enter")
        _wait_text(page, f"column **{3 + k}**".replace("**", ""))
        times.append((time.perf_counter() - start) * 1000)
    results["ASPP: move the cell one column"] = (median(times), None,
                                                   frames.count / repeats, repeats)
    page.close()
    return results


def _stride_changes(page, repeats: int, done) -> tuple:
    """Output stride 8 and 16 in turn (every setting cached after the first two)."""
    frames, times = Frames(page), []
    radio = page.locator("[data-testid=stRadio]").filter(has_text="Output stride")
    for k in range(repeats + 2):
        os_ = "8" if k % 2 == 0 else "16"
        start = time.perf_counter()
        radio.get_by_text(os_, exact=True).first.click()
        page.wait_for_timeout(50)
        done(os_)
        if k >= 2:
            times.append((time.perf_counter() - start) * 1000)
    return (median(times), None, frames.count / (repeats + 2), repeats)


def payload_sizes() -> list[tuple[str, int]]:
    import numpy as np
    from PIL import Image

    from pyramidviz import channel_views as spp_pyramid
    from pyramidviz import payloads, samples
    from pyramidviz.backbones import extract, load_backbone, tap_info

    rows = []
    chelsea = np.asarray(Image.open(samples.sample_path("chelsea")).convert("RGB"))
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:1155, 0:1732]
    upload = np.clip(np.stack([xx / 7, yy / 5, (xx + yy) / 11], -1) % 256
                     + rng.normal(0, 12, (1155, 1732, 3)), 0, 255).astype(np.uint8)
    model = load_backbone(output_stride=32)
    for name, photo in (("chelsea 451 x 300", chelsea), ("2 MP upload 1732 x 1155", upload)):
        features = extract(model, photo, "stage7")
        info = tap_info(32, "stage7", photo.shape[:2])
        top = spp_pyramid.top_channels(features, 5)
        maps = {v: spp_pyramid.channel_map(features, v) for v in ("max", "mean", *map(str, top))}
        vector = spp_pyramid.spp_vector(features, (4, 2, 1), "max")
        spp = payloads.spp_payload(maps, photo, vector, levels=(4, 2, 1), mode="max",
                                channels=320, field=info.field)
        rows.append((f"SPP view, {name}", payloads.payload_bytes(spp)))
        for os_ in (16, 8):
            info = tap_info(os_, "stage7", photo.shape[:2])
            taps = payloads.taps_payload(photo, field=info.field, feature_size=info.feature_size,
                                      stride=info.stride, rates=(6, 12, 18), kernel=3)
            rows.append((f"ASPP view, {name}, OS {os_}", payloads.payload_bytes(taps)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="checkout of the app before the views")
    parser.add_argument("--repeats", type=int, default=12)
    parser.add_argument("--throttle", type=float, nargs="+",
                        help="only the budgeted actions, at these CPU throttling rates")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    table: dict[str, dict[str, tuple]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        if args.throttle:
            proc, url = start_server(root=ROOT)
            try:
                rows = throttled(browser, url, args.repeats, args.throttle)
            finally:
                proc.terminate()
                proc.wait(timeout=10)
                browser.close()
            print("| action | CPU slowdown | to state: median / p95 (ms) | "
                  "painted: median / p95 (ms) | ws frames per action | samples |")
            print("| --- | --- | --- | --- | --- | --- |")
            for name, rate, sm, sp, pm, pp, fr, n in rows:
                print(f"| {name} | {rate:g}x | {sm:.1f} / {sp:.1f} | {pm:.1f} / {pp:.1f} | "
                      f"{fr:.1f} | {n} |")
            return
        for label, root, measure in (("before", args.before, before),
                                     ("after", ROOT, after)):
            if root is None:
                continue
            proc, url = start_server(root=root.resolve())
            try:
                table[label] = measure(browser, url, args.repeats)
            finally:
                proc.terminate()
                proc.wait(timeout=10)
        browser.close()
    print("| interaction | before: to new picture (ms) | before: ws frames | "
          "after: state changed / painted (ms) | after: ws frames |")
    print("| --- | --- | --- | --- | --- |")
    names = list(dict.fromkeys([*table.get("after", {}), *table.get("before", {})]))
    for name in names:
        b = table.get("before", {}).get(name)
        a = table.get("after", {}).get(name)
        bcol = f"{b[0]:.0f} | {b[2]:.0f}" if b else "– | –"
        if a and a[1] is not None:
            acol = f"{a[0]:.1f} / {a[1]:.1f} | {a[2]:.1f}"
        elif a and a[2] is not None:
            acol = f"{a[0]:.0f} (to the new view) | {a[2]:.0f}"
        elif a:
            acol = f"{a[0]:.0f} (page) | –"
        else:
            acol = "– | –"
        print(f"| {name} | {bcol} | {acol} |")
    print()
    print("| view payload | bytes |")
    print("| --- | --- |")
    for name, size in payload_sizes():
        print(f"| {name} | {size:,} |")
    print(json.dumps({k: {n: list(v) for n, v in t.items()} for k, t in table.items()}))


if __name__ == "__main__":
    main()
